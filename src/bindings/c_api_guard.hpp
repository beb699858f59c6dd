// Functions CPython calls through its C API must not let a C++ exception
// escape: `guarded` turns one into the Python error it stands for.
#pragma once

#include <nanobind/nanobind.h>

#include <exception>

namespace aiolibsql::py {

namespace nb = nanobind;

template <typename Body>
PyObject* guarded(Body&& body) noexcept {
  try {
    return body();
  } catch (nb::python_error& error) {
    error.restore();
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::exception& error) {
    PyErr_SetString(PyExc_RuntimeError, error.what());
  }
  return nullptr;
}

}  // namespace aiolibsql::py
