#include "execute_base.hpp"

#include <structmember.h>

#include <cstddef>

#include "c_api_guard.hpp"
#include "completion_port.hpp"
#include "fork_generation.hpp"
#include "lazy_call.hpp"
#include "native_connection.hpp"
#include "native_pool.hpp"
#include "result_reader.hpp"
#include "result_rows.hpp"

namespace aiolibsql::py {

namespace {

// What differs between a connection and a pool.
struct Kind {
  const char* native_name;
  bool (*is_native)(nb::handle native);
  // The inline result (a ResultRows), or the Future of the statement queued
  // on the port `port` gives.
  nb::object (*execute)(PyObject* native, PyObject* sql, PyObject* parameters, const PortSource& port);
  ReaderOwner reader_owner;
  // The attribute that must be None for the fast path, and whether it is the
  // runner's (else the object's own).
  const char* gate;
  bool gate_on_runner;
};

// The same two calls on NativeConnection and NativePool.
template <typename Native>
bool is_a(nb::handle native) {
  return nb::isinstance<Native>(native);
}

template <typename Native>
nb::object execute_on(PyObject* native, PyObject* sql, PyObject* parameters, const PortSource& port) {
  return nb::inst_ptr<Native>(native)->execute_inline_or_queued(sql, parameters, port);
}

const Kind connection_kind{
    "NativeConnection",
    is_a<NativeConnection>,
    execute_on<NativeConnection>,
    ReaderOwner::Connection,
    // A setting change nobody awaited yet goes first.
    "pending_setting",
    true,
};

const Kind pool_kind{
    "NativePool",
    is_a<NativePool>,
    execute_on<NativePool>,
    ReaderOwner::Pool,
    // Inside a pool.transaction() block, a write would wait for its own task.
    "_transaction_owner",
    false,
};

struct BaseObject {
  PyObject_HEAD const Kind* kind;
  PyObject* native;
  PyObject* runner;
  PyObject* row_factory;
  PyObject* cursor_class;  // the class of the cursors execute() returns
  PyObject* gate;          // the interned name of kind->gate
  // A subclass that defines row_factory itself (a class attribute) is asked
  // for it by name, as Python code would be.
  bool row_factory_overridden;
  // The completion port the last queued statement went through, with the
  // thread and the process that asked the runner for it (see port_for_queueing).
  PyObject* port;
  unsigned long port_thread;
  std::uint64_t port_fork_generation;
};

BaseObject* as_base(PyObject* object) noexcept { return reinterpret_cast<BaseObject*>(object); }

struct Names {
  PyObject* execute_queued = nullptr;
  PyObject* port = nullptr;
  PyObject* is_running = nullptr;
  PyObject* row_factory = nullptr;
  PyObject* empty_parameters = nullptr;
};
Names names;

struct Types {
  PyTypeObject* connection = nullptr;
  PyTypeObject* pool = nullptr;
};
Types types;

int base_traverse(PyObject* self, visitproc visit, void* arg) {
  BaseObject* base = as_base(self);
  Py_VISIT(Py_TYPE(self));
  Py_VISIT(base->native);
  Py_VISIT(base->runner);
  Py_VISIT(base->row_factory);
  Py_VISIT(base->cursor_class);
  Py_VISIT(base->port);
  return 0;
}

int base_clear(PyObject* self) {
  BaseObject* base = as_base(self);
  Py_CLEAR(base->native);
  Py_CLEAR(base->runner);
  Py_CLEAR(base->row_factory);
  Py_CLEAR(base->cursor_class);
  Py_CLEAR(base->gate);
  Py_CLEAR(base->port);
  return 0;
}

void base_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  base_clear(self);
  type->tp_free(self);
  Py_DECREF(type);
}

// __init__(native, runner, cursor_class)
int base_init(PyObject* self, PyObject* args, PyObject* kwargs, const Kind& kind) {
  static const char* keywords[] = {"native", "runner", "cursor_class", nullptr};
  PyObject* native = nullptr;
  PyObject* runner = nullptr;
  PyObject* cursor_class = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO", const_cast<char**>(keywords), &native, &runner,
                                   &cursor_class)) {
    return -1;
  }
  if (!kind.is_native(native)) {
    PyErr_Format(PyExc_TypeError, "native must be a %s", kind.native_name);
    return -1;
  }
  if (!is_result_reader_class(cursor_class)) {
    PyErr_SetString(PyExc_TypeError, "cursor_class must derive from ResultReaderBase");
    return -1;
  }
  PyObject* gate = PyUnicode_InternFromString(kind.gate);
  if (gate == nullptr) return -1;
  BaseObject* base = as_base(self);
  base->kind = &kind;
  Py_XSETREF(base->gate, gate);
  Py_XSETREF(base->native, Py_NewRef(native));
  Py_XSETREF(base->runner, Py_NewRef(runner));
  Py_XSETREF(base->cursor_class, Py_NewRef(cursor_class));
  if (base->row_factory == nullptr) base->row_factory = Py_NewRef(Py_None);
  PyTypeObject* own_type = &kind == &connection_kind ? types.connection : types.pool;
  base->row_factory_overridden =
      _PyType_Lookup(Py_TYPE(self), names.row_factory) != _PyType_Lookup(own_type, names.row_factory);
  return 0;
}

int connection_init(PyObject* self, PyObject* args, PyObject* kwargs) {
  return base_init(self, args, kwargs, connection_kind);
}

int pool_init(PyObject* self, PyObject* args, PyObject* kwargs) { return base_init(self, args, kwargs, pool_kind); }

PyObject* new_cursor(BaseObject* base, nb::object rows) {
  PyObject* self = reinterpret_cast<PyObject*>(base);
  PyObject* connection = base->kind->reader_owner == ReaderOwner::Connection ? self : nullptr;
  // Deleting the attribute leaves the slot empty, which reads as None.
  nb::object row_factory = nb::borrow(base->row_factory != nullptr ? base->row_factory : Py_None);
  if (base->row_factory_overridden) {
    row_factory = nb::steal(PyObject_GetAttr(self, names.row_factory));
    if (!row_factory.is_valid()) return nullptr;
  }
  return new_result_reader(reinterpret_cast<PyTypeObject*>(base->cursor_class), base->runner, row_factory.ptr(),
                           std::move(rows), connection, base->native, base->kind->reader_owner);
}

// The cursor of a queued statement, from its rows.
PyObject* cursor_of_rows(PyObject* self, PyObject* rows) {
  if (!nb::isinstance<ResultRows>(rows)) {
    PyErr_SetString(PyExc_SystemError, "execute() finished without rows");
    return nullptr;
  }
  return new_cursor(as_base(self), nb::borrow(rows));
}

// Whether the loop of `port` is running; on this thread, that makes it the
// running loop, as only one loop runs on a thread at a time.
bool loop_is_running(PyObject* port) {
  nb::object loop;
  try {
    loop = nb::cast<CompletionPort&>(nb::handle(port)).loop();
  } catch (const std::exception&) {
    return false;  // the loop is gone
  }
  PyObject* running = PyObject_CallMethodNoArgs(loop.ptr(), names.is_running);
  if (running == nullptr) throw nb::python_error();
  const bool is_running = running == Py_True;
  Py_DECREF(running);
  return is_running;
}

// The completion port to queue a statement on. Asking the runner
// (Runner.port) costs two Python frames; the port it gave last time serves
// again on the same thread, in the same process, while its loop runs.
nb::object port_for_queueing(BaseObject* base) {
  const unsigned long thread = PyThread_get_thread_ident();
  if (base->port != nullptr && base->port_thread == thread && base->port_fork_generation == fork_generation() &&
      loop_is_running(base->port)) {
    return nb::borrow(base->port);
  }
  nb::object port = nb::steal(PyObject_CallMethodNoArgs(base->runner, names.port));
  if (!port.is_valid()) throw nb::python_error();
  Py_XSETREF(base->port, Py_NewRef(port.ptr()));
  base->port_thread = thread;
  base->port_fork_generation = fork_generation();
  return port;
}

// A cursor holding the statement's rows when it ran inline; otherwise the
// statement is queued and the call continues with its future. Declined
// without a continuation when the gate says the Python path must take it.
PyObject* execute_now(PyObject* self, PyObject* const* args, Py_ssize_t, Continuation& then) {
  BaseObject* base = as_base(self);
  PyObject* gate = PyObject_GetAttr(base->kind->gate_on_runner ? base->runner : self, base->gate);
  if (gate == nullptr) return nullptr;
  const bool open = gate == Py_None;
  Py_DECREF(gate);
  if (!open) return declined();
  const PortSource port = [base] { return port_for_queueing(base); };
  PyObject* started =
      guarded([&] { return base->kind->execute(base->native, args[0], args[1], port).release().ptr(); });
  if (started == nullptr) return nullptr;
  if (nb::isinstance<ResultRows>(started)) return new_cursor(base, nb::steal(started));
  then.awaitable = started;
  then.finish = cursor_of_rows;
  return declined();
}

// execute(sql, parameters=()): awaitable, a cursor holding the result.
PyObject* base_execute(PyObject* self, PyObject* const* args, Py_ssize_t count, PyObject* keywords) {
  if (as_base(self)->kind == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "__init__ was not called");
    return nullptr;
  }
  if (count > 2) {
    PyErr_Format(PyExc_TypeError, "execute() takes at most 2 arguments (%zd given)", count);
    return nullptr;
  }
  PyObject* call_args[2] = {nullptr, names.empty_parameters};
  for (Py_ssize_t i = 0; i < count; ++i) call_args[i] = args[i];
  const Py_ssize_t keyword_count = keywords == nullptr ? 0 : PyTuple_GET_SIZE(keywords);
  for (Py_ssize_t i = 0; i < keyword_count; ++i) {
    PyObject* name = PyTuple_GET_ITEM(keywords, i);
    const Py_ssize_t slot = PyUnicode_CompareWithASCIIString(name, "sql") == 0          ? 0
                            : PyUnicode_CompareWithASCIIString(name, "parameters") == 0 ? 1
                                                                                        : -1;
    if (slot < 0) {
      PyErr_Format(PyExc_TypeError, "execute() got an unexpected keyword argument '%U'", name);
      return nullptr;
    }
    if (slot < count) {
      PyErr_Format(PyExc_TypeError, "execute() got multiple values for argument '%U'", name);
      return nullptr;
    }
    call_args[slot] = args[count + i];
  }
  if (call_args[0] == nullptr) {
    PyErr_SetString(PyExc_TypeError, "execute() missing required argument 'sql'");
    return nullptr;
  }
  return lazy_call("execute", execute_now, names.execute_queued, self, call_args, 2);
}

PyMemberDef base_members[] = {
    {"_native", T_OBJECT, offsetof(BaseObject, native), READONLY, nullptr},
    {"_runner", T_OBJECT, offsetof(BaseObject, runner), READONLY, nullptr},
    {"row_factory", T_OBJECT, offsetof(BaseObject, row_factory), 0,
     "Called as row_factory(cursor, row_tuple) for each row of the cursors made after it is set."},
    {nullptr, 0, 0, 0, nullptr},
};

PyMethodDef base_methods[] = {
    {"execute", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(base_execute)),
     METH_FASTCALL | METH_KEYWORDS, "Run one statement; awaitable, a cursor holding its result."},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot connection_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(base_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(base_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(base_clear)},
    {Py_tp_init, reinterpret_cast<void*>(connection_init)},
    {Py_tp_new, reinterpret_cast<void*>(PyType_GenericNew)},
    {Py_tp_members, base_members},
    {Py_tp_methods, base_methods},
    {Py_tp_doc, const_cast<char*>("The native part of a connection: execute() without Python frames.")},
    {0, nullptr},
};

PyType_Slot pool_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(base_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(base_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(base_clear)},
    {Py_tp_init, reinterpret_cast<void*>(pool_init)},
    {Py_tp_new, reinterpret_cast<void*>(PyType_GenericNew)},
    {Py_tp_members, base_members},
    {Py_tp_methods, base_methods},
    {Py_tp_doc, const_cast<char*>("The native part of a pool: execute() without Python frames.")},
    {0, nullptr},
};

constexpr unsigned int base_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC;

PyType_Spec connection_spec = {"aiolibsql._native.ConnectionBase", sizeof(BaseObject), 0, base_flags, connection_slots};
PyType_Spec pool_spec = {"aiolibsql._native.PoolBase", sizeof(BaseObject), 0, base_flags, pool_slots};

PyTypeObject* add_type(nb::module_& module, const char* name, PyType_Spec& spec) {
  PyObject* type = PyType_FromSpec(&spec);
  if (type == nullptr) throw nb::python_error();
  module.attr(name) = nb::steal(type);
  return reinterpret_cast<PyTypeObject*>(type);
}

}  // namespace

void define_execute_base_types(nb::module_& module) {
  names.execute_queued = PyUnicode_InternFromString("_execute_queued");
  names.port = PyUnicode_InternFromString("port");
  names.is_running = PyUnicode_InternFromString("is_running");
  names.row_factory = PyUnicode_InternFromString("row_factory");
  names.empty_parameters = PyTuple_New(0);
  if (names.execute_queued == nullptr || names.port == nullptr || names.is_running == nullptr ||
      names.row_factory == nullptr || names.empty_parameters == nullptr) {
    throw nb::python_error();
  }
  types.connection = add_type(module, "ConnectionBase", connection_spec);
  types.pool = add_type(module, "PoolBase", pool_spec);
}

}  // namespace aiolibsql::py
