#include "python_function.hpp"

#include <nanobind/stl/string.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "values.hpp"

namespace aiolibsql::py {

namespace {

thread_local const AsyncConnection* running_user_function_of = nullptr;

// Marks this thread as running a user function of `connection` while alive.
class RunningUserFunction {
 public:
  explicit RunningUserFunction(const AsyncConnection* connection) noexcept
      : previous_(std::exchange(running_user_function_of, connection)) {}
  ~RunningUserFunction() { running_user_function_of = previous_; }
  RunningUserFunction(const RunningUserFunction&) = delete;
  RunningUserFunction& operator=(const RunningUserFunction&) = delete;

 private:
  const AsyncConnection* previous_;
};

}  // namespace

const AsyncConnection* connection_running_user_function() noexcept { return running_user_function_of; }

PythonFunction::~PythonFunction() {
  // After interpreter shutdown there is no GIL to take: let the reference go.
#if PY_VERSION_HEX >= 0x030D0000
  const bool finalizing = Py_IsFinalizing();
#else
  const bool finalizing = _Py_IsFinalizing();
#endif
  if (!Py_IsInitialized() || finalizing) {
    callable_.release();
    return;
  }
  nb::gil_scoped_acquire gil;
  callable_.reset();
}

Value PythonFunction::call(const std::vector<Value>& arguments) {
  nb::gil_scoped_acquire gil;
  try {
    nb::object args = nb::steal(PyTuple_New(static_cast<Py_ssize_t>(arguments.size())));
    for (std::size_t i = 0; i < arguments.size(); ++i) {
      PyTuple_SET_ITEM(args.ptr(), static_cast<Py_ssize_t>(i), from_value(arguments[i]).release().ptr());
    }
    nb::object result;
    {
      RunningUserFunction running(connection_);
      result = nb::steal(PyObject_CallObject(callable_.ptr(), args.ptr()));
    }
    if (!result.is_valid()) throw nb::python_error();
    return to_value(result, ValueLabel{0, "returned by the function"});
  } catch (nb::python_error& error) {
    const std::string type = nb::cast<std::string>(nb::str(error.type().attr("__name__")));
    const std::string message = nb::cast<std::string>(nb::str(error.value()));
    throw std::runtime_error("user-defined function raised exception: " + type + ": " + message);
  }
}

}  // namespace aiolibsql::py
