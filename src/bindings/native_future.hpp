// The awaitable that every asynchronous operation returns: a future written
// against asyncio's future protocol, so tasks, gather, shield and wait_for
// take it as they take asyncio.Future. Two things make it cheaper than
// asyncio.Future on the path of every statement:
//   - the completion port's drain runs the awaiting task's wake-up at once,
//     instead of scheduling it through the loop's ready queue;
//   - cancelling it cancels its operation in the core, with no Python code
//     around each await to do that.
#pragma once

#include <nanobind/nanobind.h>

#include <memory>
#include <vector>

#include "cancellable.hpp"

namespace aiolibsql::py {

namespace nb = nanobind;

// Adds the type to the module as `Future`.
void define_future_type(nb::module_& module);

// A pending future of `loop`. Cancelling it cancels the operation tagged
// with the future's address on `owner`.
nb::object new_future(PyObject* loop, std::weak_ptr<Cancellable> owner);
// A future that already holds `value`: awaiting it does not suspend.
nb::object finished_future(PyObject* loop, nb::object value);
// A future that holds `value`, but whose awaiter still suspends once: a task
// that owes the loop a turn takes it without a trip through a worker.
nb::object finished_after_a_turn(PyObject* loop, nb::object value);

bool is_pending_future(PyObject* object) noexcept;

// Resolves futures and collects their done-callbacks, then runs them in
// order, each in its own context, on the calling (event loop) thread.
class WakeUps {
 public:
  WakeUps() = default;
  WakeUps(const WakeUps&) = delete;
  WakeUps& operator=(const WakeUps&) = delete;
  // Runs the callbacks still collected through the loop instead.
  ~WakeUps();

  void set_result(PyObject* future, nb::object value);
  void set_exception(PyObject* future, nb::object exception);
  void set_cancelled(PyObject* future);

  // Runs the collected callbacks. An error from one goes to the loop's
  // exception handler; KeyboardInterrupt and SystemExit propagate after the
  // remaining callbacks are handed to the loop.
  void run();

 private:
  struct WakeUp {
    nb::object future;
    nb::object callback;
    nb::object context;
  };
  void collect(PyObject* future);

  std::vector<WakeUp> wake_ups_;
};

}  // namespace aiolibsql::py
