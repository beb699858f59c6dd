// A Python callable as a scalar SQL function. The engine calls it on
// whichever thread runs the statement; it takes the GIL for the call.
#pragma once

#include <nanobind/nanobind.h>

#include "async_connection.hpp"
#include "connection.hpp"

namespace aiolibsql::py {

namespace nb = nanobind;

class PythonFunction final : public ScalarFunction {
 public:
  // `connection` is the one the function is registered on; not owned.
  PythonFunction(nb::object callable, const AsyncConnection* connection)
      : callable_(std::move(callable)), connection_(connection) {}
  ~PythonFunction() override;
  Value call(const std::vector<Value>& arguments) override;

 private:
  nb::object callable_;
  const AsyncConnection* connection_;
};

// The connection whose user function this thread is running, if any. That
// thread holds the connection's engine, so a statement the function issues
// on it must run right there (queued, it would wait for itself forever).
const AsyncConnection* connection_running_user_function() noexcept;

}  // namespace aiolibsql::py
