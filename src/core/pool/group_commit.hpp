// Group commit: autocommit writes that wait on a pool's writer together are
// committed in one transaction, each under its own savepoint, so that one
// fsync serves them all while each still gets its own verdict.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "connection.hpp"
#include "operation.hpp"

namespace aiolibsql {

// Runs each member of `group` on `connection` and commits them together. A
// member's failure fails only that member, whatever kind of failure it is;
// the group waits for the write lock until its earliest member's deadline.
void commit_as_group(Connection& connection, std::span<const std::shared_ptr<Operation>> group);

// A statement run to its end for its effect.
void run_sql(Connection& connection, std::string_view sql);
// Rolls back whatever is open; for paths that already report an error.
void roll_back_quietly(Connection& connection) noexcept;

}  // namespace aiolibsql
