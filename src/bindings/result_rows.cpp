#include "result_rows.hpp"

#include "values.hpp"

namespace aiolibsql::py {

nb::object ResultRows::fetchone() {
  if (position_ >= result_.rows.row_count()) return nb::none();
  nb::object row = row_tuple(result_.rows, result_.columns.get(), position_);
  ++position_;
  return row;
}

nb::list ResultRows::fetchmany(std::size_t size) {
  nb::list rows;
  const std::size_t end = position_ + std::min(size, remaining());
  for (; position_ < end; ++position_) rows.append(row_tuple(result_.rows, result_.columns.get(), position_));
  return rows;
}

nb::list ResultRows::fetchall() { return fetchmany(remaining()); }

nb::object ResultRows::description() const {
  if (!result_.columns) return nb::none();
  const auto& names = result_.columns->names;
  nb::object description = nb::steal(PyTuple_New(static_cast<Py_ssize_t>(names.size())));
  for (std::size_t i = 0; i < names.size(); ++i) {
    nb::object column = nb::make_tuple(nb::str(names[i].c_str(), names[i].size()), nb::none(), nb::none(), nb::none(),
                                       nb::none(), nb::none(), nb::none());
    PyTuple_SET_ITEM(description.ptr(), static_cast<Py_ssize_t>(i), column.release().ptr());
  }
  return description;
}

}  // namespace aiolibsql::py
