#include "result_reader.hpp"

#include <structmember.h>

#include <cstddef>

#include "c_api_guard.hpp"
#include "errors.hpp"
#include "lazy_call.hpp"
#include "native_connection.hpp"
#include "native_pool.hpp"
#include "result_rows.hpp"

namespace aiolibsql::py {

namespace {

// Whether the connection or pool that made a result is closed: fetching
// from a closed one raises, as sqlite3 does, even for rows already here.
using ClosedProbe = bool (*)(PyObject* native);

bool connection_closed(PyObject* native) { return nb::inst_ptr<NativeConnection>(native)->closed(); }
bool pool_closed(PyObject* native) { return nb::inst_ptr<NativePool>(native)->closed(); }
// Anything else a runner may drive: asked through its `closed` attribute.
bool attribute_closed(PyObject* native) {
  PyObject* closed = PyObject_GetAttrString(native, "closed");
  const int truth = closed == nullptr ? -1 : PyObject_IsTrue(closed);
  Py_XDECREF(closed);
  if (truth < 0) PyErr_Clear();
  return truth != 0;
}

struct ReaderObject {
  PyObject_HEAD PyObject* runner;
  PyObject* connection;  // the Connection of a cursor; nullptr for pool results
  PyObject* rows;        // the ResultRows being read, or nullptr
  ResultRows* rows_ptr;
  PyObject* carried;        // rows a cancelled fetch put back (a deque), or None/nullptr
  PyObject* pending_chunk;  // the next chunk being fetched, or None/nullptr
  PyObject* description;    // nullptr until asked for
  PyObject* row_factory;
  PyObject* lastrowid;
  PyObject* native;  // the runner's native connection or pool
  ClosedProbe native_closed;
  Py_ssize_t arraysize;
  long long rowcount;
  char closed;
};

ReaderObject* as_reader(PyObject* object) noexcept { return reinterpret_cast<ReaderObject*>(object); }

struct Names {
  PyObject* fetchone_slowly = nullptr;
  PyObject* drop_unread = nullptr;
  PyObject* check_open = nullptr;
  PyObject* native = nullptr;
};
Names names;

bool is_none(PyObject* object) noexcept { return object == nullptr || object == Py_None; }

ClosedProbe probe_for(PyObject* native) {
  if (nb::isinstance<NativeConnection>(native)) return connection_closed;
  if (nb::isinstance<NativePool>(native)) return pool_closed;
  return attribute_closed;
}

// Holds `rows` (a ResultRows, or None/nullptr for no result) and its counts.
void hold_rows(ReaderObject* reader, PyObject* rows) {
  if (is_none(rows)) {
    Py_CLEAR(reader->rows);
    reader->rows_ptr = nullptr;
    return;
  }
  ResultRows* rows_ptr = nb::inst_ptr<ResultRows>(rows);
  Py_XSETREF(reader->rows, Py_NewRef(rows));
  reader->rows_ptr = rows_ptr;
}

void take_counts(ReaderObject* reader) {
  reader->rowcount = reader->rows_ptr->rowcount();
  Py_XSETREF(reader->lastrowid, PyLong_FromLongLong(reader->rows_ptr->lastrowid()));
}

int reader_traverse(PyObject* self, visitproc visit, void* arg) {
  ReaderObject* reader = as_reader(self);
  Py_VISIT(Py_TYPE(self));
  Py_VISIT(reader->runner);
  Py_VISIT(reader->connection);
  Py_VISIT(reader->rows);
  Py_VISIT(reader->carried);
  Py_VISIT(reader->pending_chunk);
  Py_VISIT(reader->description);
  Py_VISIT(reader->row_factory);
  Py_VISIT(reader->lastrowid);
  Py_VISIT(reader->native);
  return 0;
}

int reader_clear(PyObject* self) {
  ReaderObject* reader = as_reader(self);
  Py_CLEAR(reader->runner);
  Py_CLEAR(reader->connection);
  Py_CLEAR(reader->rows);
  reader->rows_ptr = nullptr;
  Py_CLEAR(reader->carried);
  Py_CLEAR(reader->pending_chunk);
  Py_CLEAR(reader->description);
  Py_CLEAR(reader->row_factory);
  Py_CLEAR(reader->lastrowid);
  Py_CLEAR(reader->native);
  return 0;
}

void reader_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  reader_clear(self);
  type->tp_free(self);
  Py_DECREF(type);
}

// The state every reader starts from: arraysize 1, no counts.
void start_state(ReaderObject* reader, PyObject* runner, PyObject* row_factory, PyObject* connection, PyObject* native,
                 ClosedProbe probe) {
  Py_XSETREF(reader->runner, Py_NewRef(runner));
  Py_XSETREF(reader->row_factory, Py_NewRef(row_factory));
  Py_XSETREF(reader->connection, is_none(connection) ? nullptr : Py_NewRef(connection));
  Py_XSETREF(reader->native, Py_NewRef(native));
  reader->native_closed = probe;
  reader->arraysize = 1;
  reader->rowcount = -1;
  Py_CLEAR(reader->lastrowid);
  Py_CLEAR(reader->description);
  reader->closed = 0;
}

// __init__(runner, row_factory, rows=None, connection=None)
int reader_init(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"runner", "row_factory", "rows", "connection", nullptr};
  PyObject* runner = nullptr;
  PyObject* row_factory = nullptr;
  PyObject* rows = Py_None;
  PyObject* connection = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|OO:ResultReaderBase", const_cast<char**>(keywords), &runner,
                                   &row_factory, &rows, &connection)) {
    return -1;
  }
  PyObject* result = guarded([&]() -> PyObject* {
    if (!is_none(rows) && !nb::isinstance<ResultRows>(rows)) {
      PyErr_SetString(PyExc_TypeError, "rows must be a ResultRows or None");
      return nullptr;
    }
    nb::object native = nb::steal(PyObject_GetAttr(runner, names.native));
    if (!native.is_valid()) return nullptr;
    ReaderObject* reader = as_reader(self);
    start_state(reader, runner, row_factory, connection, native.ptr(), probe_for(native.ptr()));
    hold_rows(reader, rows);
    if (reader->rows_ptr != nullptr) {
      take_counts(reader);
    } else {
      reader->description = Py_NewRef(Py_None);
    }
    return Py_NewRef(Py_None);
  });
  Py_XDECREF(result);
  return result == nullptr ? -1 : 0;
}

// -- attributes -----------------------------------------------------------------

PyObject* reader_get_rows(PyObject* self, void*) {
  PyObject* rows = as_reader(self)->rows;
  return Py_NewRef(rows != nullptr ? rows : Py_None);
}

int reader_set_rows(PyObject* self, PyObject* value, void*) {
  PyObject* done = guarded([&]() -> PyObject* {
    if (!is_none(value) && !nb::isinstance<ResultRows>(value)) {
      PyErr_SetString(PyExc_TypeError, "_rows must be a ResultRows or None");
      return nullptr;
    }
    ReaderObject* reader = as_reader(self);
    // The next chunk of the same result: the description stays the first
    // chunk's, even if the schema changed in between.
    if (!is_none(value) && reader->description == nullptr && reader->rows_ptr != nullptr) {
      reader->description = reader->rows_ptr->description().release().ptr();
    }
    hold_rows(reader, value);
    return Py_NewRef(Py_None);
  });
  Py_XDECREF(done);
  return done == nullptr ? -1 : 0;
}

// DB-API description, built on first use: most callers never look at it.
PyObject* reader_get_description(PyObject* self, void*) {
  ReaderObject* reader = as_reader(self);
  if (reader->description == nullptr) {
    PyObject* description = reader->rows_ptr == nullptr
                                ? Py_NewRef(Py_None)
                                : guarded([&] { return reader->rows_ptr->description().release().ptr(); });
    if (description == nullptr) return nullptr;
    reader->description = description;
  }
  return Py_NewRef(reader->description);
}

PyMemberDef reader_members[] = {
    {"_runner", T_OBJECT, offsetof(ReaderObject, runner), READONLY, nullptr},
    {"_connection", T_OBJECT, offsetof(ReaderObject, connection), READONLY, nullptr},
    {"_carried", T_OBJECT, offsetof(ReaderObject, carried), 0, nullptr},
    {"_pending_chunk", T_OBJECT, offsetof(ReaderObject, pending_chunk), 0, nullptr},
    {"_closed", T_BOOL, offsetof(ReaderObject, closed), 0, nullptr},
    {"row_factory", T_OBJECT, offsetof(ReaderObject, row_factory), 0,
     "Called as row_factory(cursor, row_tuple) for each row when set."},
    {"lastrowid", T_OBJECT, offsetof(ReaderObject, lastrowid), 0,
     "Row id of the last inserted row, as the engine reports it."},
    {"rowcount", T_LONGLONG, offsetof(ReaderObject, rowcount), 0,
     "Rows changed by the last INSERT/UPDATE/DELETE/REPLACE (summed over executemany); -1 for other statements."},
    {"arraysize", T_PYSSIZET, offsetof(ReaderObject, arraysize), 0, "Rows to fetch by default in fetchmany."},
    {nullptr, 0, 0, 0, nullptr},
};

PyGetSetDef reader_getset[] = {
    {"_rows", reader_get_rows, reader_set_rows, nullptr, nullptr},
    {"description", reader_get_description, nullptr,
     "DB-API description of the last result: a 7-tuple per column, or None.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

// -- methods --------------------------------------------------------------------

// Lets go of rows a cancelled fetch left behind (in Python: it may cancel a
// chunk being fetched).
int drop_unread(ReaderObject* reader) {
  if (is_none(reader->pending_chunk) && is_none(reader->carried)) return 0;
  PyObject* done = PyObject_CallMethodNoArgs(reinterpret_cast<PyObject*>(reader), names.drop_unread);
  Py_XDECREF(done);
  return done == nullptr ? -1 : 0;
}

// _take(rows): hold the result of an execution (its first rows and its counts).
PyObject* reader_take(PyObject* self, PyObject* rows) {
  ReaderObject* reader = as_reader(self);
  if (drop_unread(reader) < 0) return nullptr;
  return guarded([&]() -> PyObject* {
    if (!nb::isinstance<ResultRows>(rows)) {
      PyErr_SetString(PyExc_TypeError, "_take() needs a ResultRows");
      return nullptr;
    }
    hold_rows(reader, rows);
    Py_CLEAR(reader->description);
    take_counts(reader);
    return Py_NewRef(Py_None);
  });
}

// _forget_result(): no result any more (before executemany and executescript).
PyObject* reader_forget_result(PyObject* self, PyObject*) {
  ReaderObject* reader = as_reader(self);
  if (drop_unread(reader) < 0) return nullptr;
  hold_rows(reader, nullptr);
  Py_XSETREF(reader->description, Py_NewRef(Py_None));
  Py_RETURN_NONE;
}

// The next row when it is already here (the row factory applied), None when
// there are no more; declined() when fetchone must wait, for a chunk or for
// rows a cancelled fetch put back, which _fetchone_slowly() then does.
PyObject* fetchone_now(PyObject* self, PyObject* const*, Py_ssize_t, Continuation&) {
  ReaderObject* reader = as_reader(self);
  if (reader->native == nullptr) {
    return guarded([]() -> PyObject* { raise(ErrorKind::Programming, "the cursor's __init__ was never called"); });
  }
  if (reader->closed || reader->native_closed(reader->native)) {
    PyObject* checked = PyObject_CallMethodNoArgs(self, names.check_open);
    if (checked == nullptr) return nullptr;
    Py_DECREF(checked);
  }
  if (!is_none(reader->carried)) return declined();
  if (reader->rows_ptr == nullptr) return Py_NewRef(Py_None);
  PyObject* row = guarded([&] { return reader->rows_ptr->fetchone().release().ptr(); });
  if (row == nullptr) return nullptr;
  if (row == Py_None) {
    if (!reader->rows_ptr->has_more()) return row;
    Py_DECREF(row);
    return declined();
  }
  if (is_none(reader->row_factory)) return row;
  PyObject* args[] = {self, row};
  PyObject* shaped = PyObject_Vectorcall(reader->row_factory, args, 2, nullptr);
  Py_DECREF(row);
  return shaped;
}

PyObject* reader_fetchone(PyObject* self, PyObject*) {
  return lazy_call("fetchone", fetchone_now, names.fetchone_slowly, self, nullptr, 0);
}

PyMethodDef reader_methods[] = {
    {"fetchone", reader_fetchone, METH_NOARGS, "The next row, or None when there are no more (awaitable)."},
    {"_take", reader_take, METH_O, "Hold the result of an execution."},
    {"_forget_result", reader_forget_result, METH_NOARGS, "Hold no result."},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot reader_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(reader_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(reader_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(reader_clear)},
    {Py_tp_init, reinterpret_cast<void*>(reader_init)},
    {Py_tp_new, reinterpret_cast<void*>(PyType_GenericNew)},
    {Py_tp_members, reader_members},
    {Py_tp_getset, reader_getset},
    {Py_tp_methods, reader_methods},
    {Py_tp_doc, const_cast<char*>("The state of one result and the fetches that need no waiting.")},
    {0, nullptr},
};

PyType_Spec reader_spec = {
    "aiolibsql._native.ResultReaderBase",
    sizeof(ReaderObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    reader_slots,
};

PyTypeObject* reader_type = nullptr;

}  // namespace

void define_result_reader_type(nb::module_& module) {
  reader_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&reader_spec));
  if (reader_type == nullptr) throw nb::python_error();
  names.fetchone_slowly = PyUnicode_InternFromString("_fetchone_slowly");
  names.drop_unread = PyUnicode_InternFromString("_drop_unread");
  names.check_open = PyUnicode_InternFromString("_check_open");
  names.native = PyUnicode_InternFromString("native");
  module.attr("ResultReaderBase") = nb::borrow(reinterpret_cast<PyObject*>(reader_type));
}

bool is_result_reader_class(PyObject* type) noexcept {
  return PyType_Check(type) && PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(type), reader_type);
}

PyObject* new_result_reader(PyTypeObject* type, PyObject* runner, PyObject* row_factory, nb::object rows,
                            PyObject* connection, PyObject* native, ReaderOwner owner) noexcept {
  PyObject* self = type->tp_alloc(type, 0);
  if (self == nullptr) return nullptr;
  ReaderObject* reader = as_reader(self);
  start_state(reader, runner, row_factory, connection, native,
              owner == ReaderOwner::Connection ? connection_closed : pool_closed);
  hold_rows(reader, rows.ptr());
  take_counts(reader);
  return self;
}

}  // namespace aiolibsql::py
