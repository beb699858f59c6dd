// Python objects <-> core values. Runs on the thread that holds the GIL.
#pragma once

#include <nanobind/nanobind.h>

#include <string>

#include "result.hpp"
#include "value.hpp"

namespace aiolibsql::py {

namespace nb = nanobind;

// One SQL value from a Python object: None, int (64-bit), float, str, bytes,
// bytearray, memoryview or bool. `where` names the parameter in errors.
// Raises OverflowError for ints beyond 64 bits, ProgrammingError otherwise.
Value to_value(nb::handle object, const std::string& where);
// Parameters from a sequence (positional) or a mapping (named).
Params to_params(nb::handle parameters);
nb::object from_value(const Value& value);

// Row `row` of a chunk as a tuple; raises OperationalError for TEXT that is
// not valid UTF-8.
nb::object row_tuple(const RowChunk& rows, const Columns* columns, std::size_t row);

}  // namespace aiolibsql::py
