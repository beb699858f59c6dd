// Holding the writes one thread submits for a moment, so that they reach a
// writer together and are committed as one group.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "executor.hpp"

namespace aiolibsql {

// Where held operations go when they are handed over: a pool, which lets
// them through its transaction gate at that moment.
class BatchTarget {
 public:
  virtual void submit_held(std::span<std::shared_ptr<Operation>> operations) = 0;

 protected:
  ~BatchTarget() = default;
};

// While one lives on a thread with a `limit` above 0, writes that thread
// offers to hold() are held if they complete into `owner`, and handed to
// their targets `limit` at a time, and the rest when it ends. An event loop
// wraps one wake-up in it, with its own completion queue as the owner: the
// writes its tasks submit one by one then reach the writer together, while
// a write for another loop run from inside that wake-up goes at once. The
// held operations live in thread-local storage, not in this object, so code
// that swaps stacks (greenlets) cannot pull them from under it. A batch
// created while another is active on the thread holds nothing itself.
class SubmissionBatch {
 public:
  SubmissionBatch(std::size_t limit, const CompletionSink* owner);
  ~SubmissionBatch();
  SubmissionBatch(const SubmissionBatch&) = delete;
  SubmissionBatch& operator=(const SubmissionBatch&) = delete;

  // Takes `operation` if a batch is active on this thread; false leaves it
  // with the caller, to submit at once.
  static bool hold(const std::shared_ptr<BatchTarget>& target, std::shared_ptr<Operation>& operation);
  // Hands over everything this thread holds. Call it before submitting
  // anything that must come after the held writes, and before blocking.
  static void flush() noexcept;
  // Takes back the held operation of `target` with this tag, if there is one.
  static std::shared_ptr<Operation> take(const BatchTarget* target, std::uintptr_t tag);

 private:
  bool owner_ = false;
};

}  // namespace aiolibsql
