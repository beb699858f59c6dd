// Bounds a connection's waits for locks to a deadline while it lives, so a
// pool's write waits for locks that long in all, however long it queued or
// however it was grouped.
#pragma once

#include <algorithm>
#include <chrono>

#include "connection.hpp"

namespace aiolibsql {

class LockDeadline {
 public:
  LockDeadline(Connection& connection, std::chrono::steady_clock::time_point deadline)
      : connection_(connection), previous_(connection.lock_deadline()) {
    connection.set_lock_deadline(std::min(previous_, deadline));
  }
  ~LockDeadline() { connection_.set_lock_deadline(previous_); }
  LockDeadline(const LockDeadline&) = delete;
  LockDeadline& operator=(const LockDeadline&) = delete;

 private:
  Connection& connection_;
  std::chrono::steady_clock::time_point previous_;
};

}  // namespace aiolibsql
