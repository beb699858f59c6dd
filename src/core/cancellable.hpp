// Whatever runs operations submitted under a tag, and can cancel one by that
// tag: a connection, or a pool of them.
#pragma once

#include <cstdint>

namespace aiolibsql {

class Cancellable {
 public:
  // Drops the operation if it is queued, interrupts it if it is running;
  // false if it is neither.
  virtual bool cancel(std::uintptr_t tag) = 0;

 protected:
  ~Cancellable() = default;
};

}  // namespace aiolibsql
