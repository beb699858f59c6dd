// One unit of work a connection, stream or pool accepted: what it runs, the
// sink that receives it once finished, and the submitter's tag for it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <variant>
#include <vector>

#include "error.hpp"
#include "result.hpp"

namespace aiolibsql {

// What an operation cancelled before it finished completes with.
inline Error cancelled_error() { return Error{ErrorKind::Cancelled, -1, "the operation was cancelled"}; }

// The error outcome for the exception being handled; for catch blocks only.
Error current_exception_error() noexcept;

// What an operation produced: nothing, a result, a count, or an error.
using Outcome = std::variant<std::monostate, QueryResult, std::int64_t, Error>;

class Operation;

// Receives finished operations. complete() is called on whichever thread
// finished the operation and must not block.
class CompletionSink {
 public:
  virtual ~CompletionSink() = default;
  virtual void complete(std::shared_ptr<Operation> operation) = 0;
  // Several operations finished together (a committed group). Sinks that
  // wake a waiter override this to wake it once for all of them.
  virtual void complete_all(std::span<std::shared_ptr<Operation>> operations) {
    for (auto& operation : operations) complete(std::move(operation));
  }
};

class Operation {
 public:
  using Work = std::function<Outcome()>;
  Operation(Work work, std::shared_ptr<CompletionSink> sink, std::uintptr_t tag)
      : work_(std::move(work)), sink_(std::move(sink)), tag_(tag) {}

  // The submitter's own handle for this operation; the core only compares it.
  std::uintptr_t tag() const noexcept { return tag_; }
  // Where it completes; compared, never called through.
  const CompletionSink* sink() const noexcept { return sink_.get(); }
  // Gives the operation a handle after submission (see Handoff); only the
  // submitting thread reads or writes the tag.
  void set_tag(std::uintptr_t tag) noexcept { tag_ = tag; }
  Outcome& outcome() noexcept { return outcome_; }

  // An operation that may run in one transaction with its neighbours in the
  // queue (group commit); see Executor::GroupRunner.
  bool groupable() const noexcept { return groupable_; }
  void set_groupable(bool groupable) noexcept { groupable_ = groupable; }

  // False for work that must run once queued (the end of a pool transaction
  // or snapshot): cancel() leaves it alone.
  bool cancellable() const noexcept { return cancellable_; }

  // When its wait for locks must end, counted from when it was asked for
  // (a pool's writes); a group waits until its earliest member's.
  std::chrono::steady_clock::time_point lock_deadline() const noexcept { return lock_deadline_; }
  void set_lock_deadline(std::chrono::steady_clock::time_point deadline) noexcept { lock_deadline_ = deadline; }
  void refuse_cancellation() noexcept { cancellable_ = false; }

  // Runs the work, catching every error into the outcome. Executors call it;
  // so do group runners, once per member of the group. The work (its SQL,
  // its parameters) stays until the operation is dropped, which is usually
  // on the thread that submitted it: memory goes back to the allocator's
  // cache of the thread that allocates the next operation.
  void run() noexcept;
  // Replaces the outcome, e.g. with the error of a group's failed commit.
  void finish(Outcome outcome) noexcept;
  // Finishes an operation that no executor ran and hands it to its sink.
  static void complete(std::shared_ptr<Operation> operation, Outcome outcome) noexcept;
  // Hands a finished operation to its sink, if it has one.
  static void deliver(std::shared_ptr<Operation> operation) noexcept;
  // Hands finished operations to their sinks, each run of neighbours with
  // the same sink at once; leaves `operations` empty.
  static void deliver_all(std::vector<std::shared_ptr<Operation>>& operations) noexcept;

 private:
  friend class Executor;

  Work work_;
  std::shared_ptr<CompletionSink> sink_;
  std::uintptr_t tag_;
  Outcome outcome_;
  bool groupable_ = false;
  bool cancellable_ = true;
  std::chrono::steady_clock::time_point lock_deadline_ = std::chrono::steady_clock::time_point::max();
};

}  // namespace aiolibsql
