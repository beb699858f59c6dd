// Raising the package's DB-API exceptions from native code. The classes are
// defined in Python (aiolibsql/exceptions.py) and registered at import.
#pragma once

#include <nanobind/nanobind.h>

#include "error.hpp"

namespace aiolibsql::py {

namespace nb = nanobind;

void register_exception_classes(nb::dict classes);
// A new exception object for a core error, with sqlite_errorcode and
// sqlite_errorname set when the engine reported it.
nb::object make_exception(const Error& error);
// Sets the Python error indicator and throws nb::python_error.
[[noreturn]] void raise(ErrorKind kind, const std::string& message);
[[noreturn]] void raise(const Error& error);

}  // namespace aiolibsql::py
