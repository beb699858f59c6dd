#include "values.hpp"

#include <nanobind/stl/string.h>

#include <climits>
#include <string>
#include <utility>

#include "errors.hpp"

namespace aiolibsql::py {

namespace {

[[noreturn]] void unsupported(nb::handle object, ValueLabel label) {
  raise(ErrorKind::Programming, "Error binding parameter " + label.str() + ": type '" +
                                    std::string(Py_TYPE(object.ptr())->tp_name) + "' is not supported");
}

Value text_value(nb::handle object, ValueLabel label) {
  Py_ssize_t size = 0;
  const char* text = PyUnicode_AsUTF8AndSize(object.ptr(), &size);
  if (text == nullptr) {
    PyErr_Clear();
    raise(ErrorKind::Programming, "Error binding parameter " + label.str() + ": str is not encodable as UTF-8");
  }
  return std::string(text, static_cast<std::size_t>(size));
}

Value buffer_value(nb::handle object, ValueLabel label) {
  Py_buffer view;
  if (PyObject_GetBuffer(object.ptr(), &view, PyBUF_C_CONTIGUOUS) != 0) {
    PyErr_Clear();
    raise(ErrorKind::Programming, "Error binding parameter " + label.str() + ": buffer is not C-contiguous");
  }
  Blob blob{std::string(static_cast<const char*>(view.buf), static_cast<std::size_t>(view.len))};
  PyBuffer_Release(&view);
  return blob;
}

bool is_sequence_of_parameters(nb::handle parameters) {
  PyObject* object = parameters.ptr();
  return PySequence_Check(object) && !PyUnicode_Check(object) && !PyBytes_Check(object) && !PyByteArray_Check(object) &&
         !PyMemoryView_Check(object);
}

bool is_mapping_of_parameters(nb::handle parameters) {
  // Referenced for the life of the process: a static nb::object would be
  // released after the interpreter is finalized.
  static const nb::handle mapping_type = nb::object(nb::module_::import_("collections.abc").attr("Mapping")).release();
  return PyObject_IsInstance(parameters.ptr(), mapping_type.ptr()) == 1;
}

Params named_params(nb::handle items_source) {
  Params params;
  params.is_named = true;
  nb::object items =
      PyDict_Check(items_source.ptr())
          ? nb::borrow(items_source)
          : nb::steal(PyObject_CallOneArg(reinterpret_cast<PyObject*>(&PyDict_Type), items_source.ptr()));
  if (!items.is_valid()) throw nb::python_error();
  for (auto [key, value] : nb::borrow<nb::dict>(items)) {
    if (!PyUnicode_Check(key.ptr())) continue;
    std::string name = nb::cast<std::string>(key);
    const std::string label = ":" + name;
    Value converted = to_value(value, ValueLabel{0, label});
    params.named.emplace_back(std::move(name), std::move(converted));
  }
  return params;
}

}  // namespace

Value to_value(nb::handle object, ValueLabel label) {
  PyObject* raw = object.ptr();
  if (raw == Py_None) return Null{};
  if (PyLong_Check(raw)) {
    int overflow = 0;
    const long long integer = PyLong_AsLongLongAndOverflow(raw, &overflow);
    if (overflow != 0) {
      PyErr_SetString(PyExc_OverflowError, "Python int too large to convert to SQLite INTEGER");
      throw nb::python_error();
    }
    if (integer == -1 && PyErr_Occurred()) throw nb::python_error();
    return static_cast<std::int64_t>(integer);
  }
  if (PyFloat_Check(raw)) return PyFloat_AS_DOUBLE(raw);
  if (PyUnicode_Check(raw)) return text_value(object, label);
  if (PyBytes_Check(raw)) {
    return Blob{std::string(PyBytes_AS_STRING(raw), static_cast<std::size_t>(PyBytes_GET_SIZE(raw)))};
  }
  if (PyByteArray_Check(raw) || PyMemoryView_Check(raw)) return buffer_value(object, label);
  unsupported(object, label);
}

Params to_params(nb::handle parameters) {
  PyObject* raw = parameters.ptr();
  if (raw == Py_None) return {};
  if (PyTuple_Check(raw) || PyList_Check(raw)) {
    Params params;
    const Py_ssize_t size = PySequence_Fast_GET_SIZE(raw);
    PyObject** items = PySequence_Fast_ITEMS(raw);
    params.positional.reserve(static_cast<std::size_t>(size));
    for (Py_ssize_t i = 0; i < size; ++i) {
      params.positional.push_back(to_value(items[i], ValueLabel{static_cast<std::size_t>(i) + 1, {}}));
    }
    return params;
  }
  if (PyDict_Check(raw) || is_mapping_of_parameters(parameters)) return named_params(parameters);
  if (is_sequence_of_parameters(parameters)) return to_params(nb::tuple(nb::borrow(parameters)));
  raise(ErrorKind::Programming, "parameters are of unsupported type '" + std::string(Py_TYPE(raw)->tp_name) +
                                    "': use a sequence for ? placeholders or a mapping for named ones");
}

nb::object from_value(const Value& value) {
  struct Converter {
    nb::object operator()(const Null&) const { return nb::none(); }
    nb::object operator()(std::int64_t integer) const { return nb::steal(PyLong_FromLongLong(integer)); }
    nb::object operator()(double real) const { return nb::steal(PyFloat_FromDouble(real)); }
    nb::object operator()(const std::string& text) const {
      PyObject* str = PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "surrogateescape");
      if (str == nullptr) throw nb::python_error();
      return nb::steal(str);
    }
    nb::object operator()(const Blob& blob) const {
      return nb::steal(PyBytes_FromStringAndSize(blob.bytes.data(), static_cast<Py_ssize_t>(blob.bytes.size())));
    }
  };
  return std::visit(Converter{}, value);
}

nb::object row_tuple(const RowChunk& rows, const Columns* columns, std::size_t row) {
  const std::size_t width = rows.column_count();
  nb::object tuple = nb::steal(PyTuple_New(static_cast<Py_ssize_t>(width)));
  if (!tuple.is_valid()) throw nb::python_error();
  for (std::size_t column = 0; column < width; ++column) {
    const Cell& cell = rows.cell(row, column);
    PyObject* item = nullptr;
    switch (cell.type) {
      case ValueType::Integer:
        item = PyLong_FromLongLong(cell.integer);
        break;
      case ValueType::Real:
        item = PyFloat_FromDouble(cell.real);
        break;
      case ValueType::Text: {
        const auto bytes = rows.bytes(cell);
        item = PyUnicode_DecodeUTF8(bytes.data(), static_cast<Py_ssize_t>(bytes.size()), nullptr);
        if (item == nullptr && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
          PyErr_Clear();
          const std::string name = columns != nullptr ? columns->names[column] : std::to_string(column);
          raise(ErrorKind::Operational, "Could not decode to UTF-8 column '" + name + "'");
        }
        break;
      }
      case ValueType::Blob: {
        const auto bytes = rows.bytes(cell);
        item = PyBytes_FromStringAndSize(bytes.data(), static_cast<Py_ssize_t>(bytes.size()));
        break;
      }
      case ValueType::Null:
        item = Py_NewRef(Py_None);
        break;
    }
    if (item == nullptr) throw nb::python_error();
    PyTuple_SET_ITEM(tuple.ptr(), static_cast<Py_ssize_t>(column), item);
  }
  return tuple;
}

}  // namespace aiolibsql::py
