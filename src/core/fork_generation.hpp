// Objects made before a fork() belong to the parent: their threads do not
// exist in the child. Each records the generation it was made in and, once
// it differs, refuses work with inherited_error() and leaves its threads,
// locks and handles untouched.
#pragma once

#include <cstdint>

#include "error.hpp"

namespace aiolibsql {

// How many fork()s this process descends through since the first call.
std::uint64_t fork_generation() noexcept;

// The error for using an object inherited from a parent process.
Error inherited_error();

}  // namespace aiolibsql
