// The awaitable that the hot calls (Connection.execute, fetchone) return
// instead of a Python coroutine. Like a coroutine, it does nothing until it
// is first awaited (or a task first runs it), and nothing at all if it is
// cancelled or closed before that: a fetch cancelled before it started takes
// no row. Its first step runs a native fast path; when that path declines
// (the work must wait), a Python coroutine takes over and every later step
// is forwarded to it. It has send, throw, close and __await__, so asyncio
// treats it as a coroutine (create_task, gather, wait_for).
#pragma once

#include <nanobind/nanobind.h>

namespace aiolibsql::py {

namespace nb = nanobind;

// The native fast path of a call on `target`: its value (a new reference),
// nullptr with the error set, or declined() to hand over to the slow path.
using FastPath = PyObject* (*)(PyObject* target, PyObject* const* args, Py_ssize_t count);

// What a fast path returns to hand over to the slow path (a new reference).
PyObject* declined() noexcept;

// Adds the type to the module as `LazyCall`.
void define_lazy_call_type(nb::module_& module);

// An awaitable that first runs `fast(target, args)` and, if it declines, the
// coroutine `target.<slow_method>(*args)`. At most two arguments.
PyObject* lazy_call(FastPath fast, PyObject* slow_method, PyObject* target, PyObject* const* args,
                    Py_ssize_t count) noexcept;

}  // namespace aiolibsql::py
