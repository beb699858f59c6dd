#include "errors.hpp"

#include <array>
#include <string>

namespace aiolibsql::py {

namespace {

constexpr std::array<std::pair<ErrorKind, const char*>, 9> kClassNames{{
    {ErrorKind::Interface, "InterfaceError"},
    {ErrorKind::Database, "DatabaseError"},
    {ErrorKind::Data, "DataError"},
    {ErrorKind::Operational, "OperationalError"},
    {ErrorKind::Integrity, "IntegrityError"},
    {ErrorKind::Internal, "InternalError"},
    {ErrorKind::Programming, "ProgrammingError"},
    {ErrorKind::NotSupported, "NotSupportedError"},
    {ErrorKind::Memory, "MemoryError"},
}};

// Indexed by ErrorKind; filled once at import and kept for the process.
std::array<PyObject*, 16> exception_classes{};

PyObject* class_for(ErrorKind kind) {
  if (kind == ErrorKind::Cancelled) return PyExc_RuntimeError;
  PyObject* cls = exception_classes[static_cast<std::size_t>(kind)];
  return cls != nullptr ? cls : PyExc_RuntimeError;
}

}  // namespace

void register_exception_classes(nb::dict classes) {
  for (const auto& [kind, name] : kClassNames) {
    nb::object cls = kind == ErrorKind::Memory ? nb::borrow(PyExc_MemoryError) : classes[name];
    exception_classes[static_cast<std::size_t>(kind)] = cls.release().ptr();
  }
}

nb::object make_exception(const Error& error) {
  nb::object exception = nb::handle(class_for(error.kind))(nb::str(error.message.c_str(), error.message.size()));
  if (error.sqlite_code >= 0 && error.kind != ErrorKind::Memory) {
    nb::setattr(exception, "sqlite_errorcode", nb::int_(error.sqlite_code));
    nb::setattr(exception, "sqlite_errorname", nb::str(result_code_name(error.sqlite_code)));
  }
  return exception;
}

void raise(ErrorKind kind, const std::string& message) { raise(Error{kind, -1, message}); }

void raise(const Error& error) {
  nb::object exception = make_exception(error);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exception.ptr())), exception.ptr());
  throw nb::python_error();
}

}  // namespace aiolibsql::py
