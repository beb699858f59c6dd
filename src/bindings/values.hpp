// Python objects <-> core values. Runs on the thread that holds the GIL.
#pragma once

#include <nanobind/nanobind.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "result.hpp"
#include "value.hpp"

namespace aiolibsql::py {

namespace nb = nanobind;

// Names a value in error messages: its 1-based position among the
// parameters, or else a text (a parameter name, or where it came from). Kept
// unformatted, since a message is built only when a value is refused.
struct ValueLabel {
  std::size_t position = 0;
  std::string_view text;
  std::string str() const { return position != 0 ? std::to_string(position) : std::string(text); }
};

// One SQL value from a Python object: None, int (64-bit), float, str, bytes,
// bytearray, memoryview or bool. `label` names it in errors.
// Raises OverflowError for ints beyond 64 bits, ProgrammingError otherwise.
Value to_value(nb::handle object, ValueLabel label);
// Parameters from a sequence (positional) or a mapping (named).
Params to_params(nb::handle parameters);
nb::object from_value(const Value& value);

// Row `row` of a chunk as a tuple; raises OperationalError for TEXT that is
// not valid UTF-8.
nb::object row_tuple(const RowChunk& rows, const Columns* columns, std::size_t row);

}  // namespace aiolibsql::py
