// The native part of a cursor: the state of one result (its rows, counts and
// description) and fetchone's path when the next row is already here. The
// Python classes Cursor and PoolCursor derive from it and keep the paths
// that must wait (the next chunk, a setting change, rows a cancelled fetch
// put back), which the native methods hand over to when they cannot finish.
#pragma once

#include <nanobind/nanobind.h>

namespace aiolibsql::py {

namespace nb = nanobind;

// Adds the type to the module as `ResultReaderBase`.
void define_result_reader_type(nb::module_& module);

bool is_result_reader_class(PyObject* type) noexcept;

// What made a reader's result: fetching from it raises once that is closed.
enum class ReaderOwner { Connection, Pool };

// A new reader of class `type` (a subclass of ResultReaderBase) holding
// `rows`, made without running __init__: the fast path of an execute on
// `native` (a NativeConnection or NativePool, as `owner` says); `connection`
// is the Connection of a cursor, or nullptr. Nullptr with the error set on
// failure.
PyObject* new_result_reader(PyTypeObject* type, PyObject* runner, PyObject* row_factory, nb::object rows,
                            PyObject* connection, PyObject* native, ReaderOwner owner) noexcept;

}  // namespace aiolibsql::py
