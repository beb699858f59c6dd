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

void CompletionPort::drain() {
  for (auto& operation : queue_->drain()) {
    nb::object future = nb::steal(reinterpret_cast<PyObject*>(operation->tag()));
    try {
      // A cancelled awaiter no longer wants the value; dropping it releases
      // whatever it holds (an open cursor goes back to its connection).
      if (nb::cast<bool>(future.attr("done")())) continue;
      auto& outcome = operation->outcome();
      if (auto* error = std::get_if<Error>(&outcome)) {
        if (error->kind == ErrorKind::Cancelled) {
          future.attr("cancel")();
        } else {
          future.attr("set_exception")(make_exception(*error));
        }
        continue;
      }
      future.attr("set_result")(outcome_value(outcome));
    } catch (nb::python_error& error) {
      error.discard_as_unraisable("resolving an aiolibsql operation");
    }
  }
}

}  // namespace aiolibsql::py
