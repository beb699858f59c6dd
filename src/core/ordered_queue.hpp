// The operations one connection or stream has accepted and not yet started,
// in submission order: what cancelling by tag and closing look for, apart
// from whatever executes them (a worker thread for the local engine, a
// request pump for a remote stream). Not synchronised: its owner's lock
// guards it.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <utility>

#include "operation.hpp"

namespace aiolibsql {

// An entry is an operation, or anything that carries one as `.operation`
// with what its executor needs to run it.
template <typename Entry = std::shared_ptr<Operation>>
class OrderedQueue {
 public:
  enum class Removal {
    // Not queued (it may be running, or finished).
    NotQueued,
    // Queued, but it must run once queued (see Operation::cancellable).
    Refused,
    // Taken out: the caller completes it as cancelled.
    Removed,
  };

  void push_back(Entry entry) { entries_.push_back(std::move(entry)); }
  bool empty() const noexcept { return entries_.empty(); }
  std::size_t size() const noexcept { return entries_.size(); }
  Entry& front() { return entries_.front(); }
  Entry take_front() {
    Entry first = std::move(entries_.front());
    entries_.pop_front();
    return first;
  }
  // Everything queued, leaving the queue empty (a close fails it all).
  std::deque<Entry> take_all() noexcept { return std::exchange(entries_, {}); }

  // Takes the operation with `tag` out of the queue into `removed`, unless it
  // refuses cancellation.
  Removal remove(std::uintptr_t tag, std::shared_ptr<Operation>& removed) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      std::shared_ptr<Operation>& operation = operation_of(*it);
      if (operation->tag() != tag) continue;
      if (!operation->cancellable()) return Removal::Refused;
      removed = std::move(operation);
      entries_.erase(it);
      return Removal::Removed;
    }
    return Removal::NotQueued;
  }

  // Completes every entry of `entries` with `error`.
  static void fail_all(std::deque<Entry> entries, const Error& error) {
    for (auto& entry : entries) Operation::complete(std::move(operation_of(entry)), error);
  }

 private:
  static std::shared_ptr<Operation>& operation_of(Entry& entry) {
    if constexpr (requires { entry.operation; }) {
      return entry.operation;
    } else {
      return entry;
    }
  }

  std::deque<Entry> entries_;
};

}  // namespace aiolibsql
