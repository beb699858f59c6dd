// A Python callable as a scalar SQL function. The engine calls it on
// whichever thread runs the statement; it takes the GIL for the call.
#pragma once

#include <nanobind/nanobind.h>

#include "connection.hpp"

namespace aiolibsql::py {

namespace nb = nanobind;

class PythonFunction final : public ScalarFunction {
 public:
  explicit PythonFunction(nb::object callable) : callable_(std::move(callable)) {}
  ~PythonFunction() override;
  Value call(const std::vector<Value>& arguments) override;

 private:
  nb::object callable_;
};

}  // namespace aiolibsql::py
