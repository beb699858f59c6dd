// The awaitable that the hot calls (Connection.execute, fetchone) return
// instead of a Python coroutine. Like a coroutine, it does nothing until it
// is first awaited (or a task first runs it), and nothing at all if it is
// cancelled or closed before that: a fetch cancelled before it started takes
// no row. Its first step runs a native fast path. That path may finish the
// call; start work and hand over the awaitable of it (a native Future) with a
// native step that makes the call's value from the work's; or decline, and a
// Python coroutine takes over. Later steps are forwarded to what took over.
// It has send, throw, close and __await__, so asyncio treats it as a
// coroutine (create_task, gather, wait_for).
#pragma once

#include <nanobind/nanobind.h>

namespace aiolibsql::py {

namespace nb = nanobind;

// Makes the call's value (a new reference) from the value `awaited` of the
// work a fast path started; nullptr with the error set.
using Finish = PyObject* (*)(PyObject* target, PyObject* awaited);

// Work a fast path started: the call awaits `awaitable` (a new reference),
// then returns finish(target, its value).
struct Continuation {
  PyObject* awaitable = nullptr;
  Finish finish = nullptr;
};

// The native fast path of a call on `target`: its value (a new reference),
// nullptr with the error set, or declined(). Declining with `then` filled
// in continues with that work; declining without, with the slow path.
using FastPath = PyObject* (*)(PyObject* target, PyObject* const* args, Py_ssize_t count, Continuation& then);

// What a fast path returns when it does not finish the call itself (a new reference).
PyObject* declined() noexcept;

// Adds the type to the module as `LazyCall`.
void define_lazy_call_type(nb::module_& module);

// An awaitable that first runs `fast(target, args)` and, if it declines
// without a continuation, the coroutine `target.<slow_method>(*args)`. At
// most two arguments. `name` (a static string) names it in the warning for a
// call dropped without ever being awaited.
PyObject* lazy_call(const char* name, FastPath fast, PyObject* slow_method, PyObject* target, PyObject* const* args,
                    Py_ssize_t count) noexcept;

}  // namespace aiolibsql::py
