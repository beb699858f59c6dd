// Where an event loop collects the operations it submitted: one eventfd the
// loop watches, one drain that resolves every future that finished.
#pragma once

#include <nanobind/nanobind.h>

#include <chrono>
#include <memory>
#include <utility>

#include "cancellable.hpp"
#include "completion_queue.hpp"
#include "native_future.hpp"
#include "submission_batch.hpp"

namespace aiolibsql::py {

namespace nb = nanobind;

// The Python value of a finished operation; raises its error.
nb::object outcome_value(Outcome& outcome);

class CompletionPort {
 public:
  // Holds the loop weakly, so a port cached per loop does not keep it alive.
  explicit CompletionPort(nb::handle loop)
      : queue_(std::make_shared<CompletionQueue>()), loop_(nb::steal(PyWeakref_NewRef(loop.ptr(), nullptr))) {
    if (!loop_.is_valid()) throw nb::python_error();
  }

  int fd() const noexcept { return queue_->fd(); }
  // The port's loop; throws once it is gone.
  nb::object loop() const;
  const std::shared_ptr<CompletionQueue>& queue() const noexcept { return queue_; }

  // Resolves the future of every operation finished since the last drain
  // and wakes their awaiters.
  void drain();
  // A future holding `value` whose awaiter still gives the loop one turn.
  nb::object after_a_turn(nb::object value) { return finished_after_a_turn(loop().ptr(), std::move(value)); }
  // A future that already holds `value`.
  nb::object finished(nb::object value) { return finished_future(loop().ptr(), std::move(value)); }

  // Starts an operation of `owner` that completes into this port; returns its future.
  template <typename Start>
  nb::object submit(std::weak_ptr<Cancellable> owner, Start&& start) {
    nb::object future = new_future(loop().ptr(), std::move(owner));
    // The operation holds this reference until drain() takes it back; a
    // start that throws has submitted nothing.
    future.inc_ref();
    try {
      start(queue_, reinterpret_cast<std::uintptr_t>(future.ptr()));
    } catch (...) {
      future.dec_ref();
      throw;
    }
    expect_completion();
    return future;
  }

  // A pending future of this port's loop for an operation of `owner`; call
  // expect_completion() once that operation is sure to complete into this port.
  nb::object pending(std::weak_ptr<Cancellable> owner) { return new_future(loop().ptr(), std::move(owner)); }
  void expect_completion() noexcept { ++in_flight_; }

 private:
  std::shared_ptr<CompletionQueue> queue_;
  nb::object loop_;
  // Operations submitted through this port whose completion it has not drained yet.
  std::size_t in_flight_ = 0;
};

// Runs an operation and blocks the calling thread, GIL released, until it
// finishes; returns its value.
template <typename Start>
nb::object run_blocking(Start&& start) {
  auto waiter = std::make_shared<CompletionWaiter>();
  start(waiter, 0);
  // A write this thread holds would never be handed over while it waits.
  SubmissionBatch::flush();
  std::shared_ptr<Operation> finished;
  {
    nb::gil_scoped_release released;
    finished = waiter->wait();
  }
  return outcome_value(finished->outcome());
}

// Starts an operation of `owner` that completes into `port` (returning its
// future), or, when `port` is None, runs it to the end and returns its value.
template <typename Start>
nb::object start_operation(nb::handle port, std::weak_ptr<Cancellable> owner, Start&& start) {
  if (port.is_none()) return run_blocking(std::forward<Start>(start));
  return nb::cast<CompletionPort&>(port).submit(std::move(owner), std::forward<Start>(start));
}

// How long a caller waits on its own thread for an operation submitted to an
// idle connection before it awaits a future instead: long enough for a quick
// statement, short enough not to hold up the event loop.
inline constexpr std::chrono::microseconds kHandoffPatience{50};

// Like start_operation, except that `start(sink)` submits the operation and
// returns it with whether its connection was idle. For an idle connection the
// caller waits up to kHandoffPatience for the result and returns it in a
// finished future; otherwise, or if that takes longer, a pending one.
template <typename Start>
nb::object start_with_handoff(nb::handle port, std::weak_ptr<Cancellable> owner, Start&& start) {
  if (port.is_none()) return run_blocking([&](auto sink, std::uintptr_t) { start(std::move(sink)); });
  auto& completion_port = nb::cast<CompletionPort&>(port);
  auto handoff = std::make_shared<Handoff>(completion_port.queue());
  auto [operation, idle] = start(handoff);
  if (idle) {
    if (auto finished = handoff->wait_briefly(kHandoffPatience)) {
      return completion_port.finished(outcome_value(finished->outcome()));
    }
  }
  nb::object future = completion_port.pending(std::move(owner));
  if (auto finished = handoff->give_up(operation, reinterpret_cast<std::uintptr_t>(future.ptr()))) {
    return completion_port.finished(outcome_value(finished->outcome()));
  }
  // The operation now holds this reference until drain() takes it back.
  future.inc_ref();
  completion_port.expect_completion();
  return future;
}

// The next chunk of rows of a result that has more, from whichever
// connection produced it; None when it has no more.
nb::object fetch_more(nb::handle port, nb::handle rows);

}  // namespace aiolibsql::py
