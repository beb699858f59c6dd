#include "fork_generation.hpp"

#include <pthread.h>

#include <atomic>

namespace aiolibsql {

namespace {

std::atomic<std::uint64_t> forks_survived{0};

void count_fork_in_child() noexcept { forks_survived.fetch_add(1, std::memory_order_relaxed); }

}  // namespace

std::uint64_t fork_generation() noexcept {
  [[maybe_unused]] static const int registered = pthread_atfork(nullptr, nullptr, count_fork_in_child);
  return forks_survived.load(std::memory_order_relaxed);
}

Error inherited_error() {
  return Error{ErrorKind::Interface, -1,
               "the connection was created in a parent process before fork(); open a new one in this process"};
}

}  // namespace aiolibsql
