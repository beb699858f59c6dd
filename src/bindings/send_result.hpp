// The awaitables written with CPython's C API answer await through am_send;
// their __next__ and send() must answer the generator protocol instead.
#pragma once

#include <nanobind/nanobind.h>

namespace aiolibsql::py {

// What __next__/send() return for an am_send step that gave `status` and
// `value` (a new reference, taken): the value yielded, or nullptr with
// StopIteration(value) raised when it returned, or with its error.
inline PyObject* as_iterator_step(PySendResult status, PyObject* value) noexcept {
  if (status == PYGEN_NEXT) return value;
  if (status == PYGEN_RETURN) {
    PyObject* stop = PyObject_CallOneArg(PyExc_StopIteration, value);
    Py_DECREF(value);
    if (stop != nullptr) {
      PyErr_SetObject(PyExc_StopIteration, stop);
      Py_DECREF(stop);
    }
  }
  return nullptr;
}

}  // namespace aiolibsql::py
