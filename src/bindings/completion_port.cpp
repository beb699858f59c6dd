#include "completion_port.hpp"

#include <stdexcept>

#include "errors.hpp"
#include "result_rows.hpp"

namespace aiolibsql::py {

nb::object outcome_value(Outcome& outcome) {
  struct Converter {
    nb::object operator()(std::monostate) const { return nb::none(); }
    nb::object operator()(QueryResult& result) const { return nb::cast(ResultRows(std::move(result))); }
    nb::object operator()(std::int64_t count) const { return nb::int_(count); }
    nb::object operator()(Error& error) const { raise(error); }
  };
  return std::visit(Converter{}, outcome);
}

nb::object CompletionPort::new_future() {
  PyObject* loop = PyWeakref_GetObject(loop_.ptr());
  if (loop == Py_None) throw std::runtime_error("the event loop of this completion port is gone");
  return nb::borrow(loop).attr("create_future")();
}

nb::object fetch_more(nb::handle port, nb::handle rows) {
  auto cursor = nb::cast<ResultRows&>(rows).open_cursor();
  if (!cursor) return nb::none();
  auto owner = cursor->owner();
  if (!owner) raise(ErrorKind::Programming, "Cannot operate on a closed database.");
  return start_operation(port, [&](auto sink, auto tag) { owner->fetch(std::move(cursor), std::move(sink), tag); });
}

nb::object CompletionPort::resolve_soon(nb::object value) {
  nb::object future = new_future();
  nb::borrow(PyWeakref_GetObject(loop_.ptr())).attr("call_soon")(future.attr("set_result"), value);
  return future;
}

namespace {

// Method names looked up once per drain loop's lifetime, not once per call.
struct FutureMethods {
  PyObject* done = PyUnicode_InternFromString("done");
  PyObject* cancel = PyUnicode_InternFromString("cancel");
  PyObject* set_result = PyUnicode_InternFromString("set_result");
  PyObject* set_exception = PyUnicode_InternFromString("set_exception");
};

const FutureMethods& future_methods() {
  // Created with the GIL held on first use; kept for the life of the process.
  static const FutureMethods methods;
  return methods;
}

nb::object call(nb::handle self, PyObject* method) {
  PyObject* result = PyObject_CallMethodNoArgs(self.ptr(), method);
  if (result == nullptr) throw nb::python_error();
  return nb::steal(result);
}

void call(nb::handle self, PyObject* method, nb::handle argument) {
  PyObject* result = PyObject_CallMethodOneArg(self.ptr(), method, argument.ptr());
  if (result == nullptr) throw nb::python_error();
  Py_DECREF(result);
}

}  // namespace

void CompletionPort::drain() {
  const auto& methods = future_methods();
  for (auto& operation : queue_->drain()) {
    nb::object future = nb::steal(reinterpret_cast<PyObject*>(operation->tag()));
    try {
      // A cancelled awaiter no longer wants the value; dropping it releases
      // whatever it holds (an open cursor goes back to its connection).
      if (call(future, methods.done).ptr() == Py_True) continue;
      auto& outcome = operation->outcome();
      if (auto* error = std::get_if<Error>(&outcome)) {
        if (error->kind == ErrorKind::Cancelled) {
          call(future, methods.cancel);
        } else {
          call(future, methods.set_exception, make_exception(*error));
        }
        continue;
      }
      call(future, methods.set_result, outcome_value(outcome));
    } catch (nb::python_error& error) {
      error.discard_as_unraisable("resolving an aiolibsql operation");
    }
  }
}

}  // namespace aiolibsql::py
