#include "lazy_call.hpp"

#include "send_result.hpp"

namespace aiolibsql::py {

namespace {

constexpr Py_ssize_t max_arguments = 2;

struct LazyCallObject {
  PyObject_HEAD const char* name;  // for the never-awaited warning
  FastPath fast;
  PyObject* slow_method;
  PyObject* target;  // nullptr once finished, thrown into or closed
  PyObject* args[max_arguments];
  Py_ssize_t count;
  PyObject* slow;  // what took over (the fast path's work, or the slow path), if any
  Finish finish;   // makes the value from the fast path's work
  bool finished;
  bool running;  // inside send, throw or close: those refuse to run again
};

LazyCallObject* as_call(PyObject* object) noexcept { return reinterpret_cast<LazyCallObject*>(object); }

PyTypeObject* lazy_call_type = nullptr;
PyObject* declined_marker = nullptr;
PyObject* throw_name = nullptr;
PyObject* close_name = nullptr;

void forget_arguments(LazyCallObject* call) {
  Py_CLEAR(call->slow_method);
  for (Py_ssize_t i = 0; i < call->count; ++i) Py_CLEAR(call->args[i]);
  call->count = 0;
}

void forget_call(LazyCallObject* call) {
  forget_arguments(call);
  Py_CLEAR(call->target);
}

int call_traverse(PyObject* self, visitproc visit, void* arg) {
  LazyCallObject* call = as_call(self);
  Py_VISIT(Py_TYPE(self));
  Py_VISIT(call->target);
  for (Py_ssize_t i = 0; i < call->count; ++i) Py_VISIT(call->args[i]);
  Py_VISIT(call->slow);
  return 0;
}

int call_clear(PyObject* self) {
  forget_call(as_call(self));
  Py_CLEAR(as_call(self)->slow);
  return 0;
}

// A call dropped before it started did nothing: most likely an await was
// forgotten, which Python reports for a coroutine too.
void warn_never_awaited(LazyCallObject* call) {
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* traceback = nullptr;
  PyErr_Fetch(&type, &value, &traceback);
  if (PyErr_WarnFormat(PyExc_RuntimeWarning, 1, "aiolibsql call '%s' was never awaited", call->name) < 0) {
    PyErr_WriteUnraisable(reinterpret_cast<PyObject*>(call));
  }
  PyErr_Restore(type, value, traceback);
}

void call_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  LazyCallObject* call = as_call(self);
  if (!call->finished && call->slow == nullptr && call->target != nullptr) warn_never_awaited(call);
  call_clear(self);
  PyObject_GC_Del(self);
  Py_DECREF(type);
}

// After a step of what took over: once that is done, so is the call, and
// the fast path's work gets its value made.
PySendResult after_step(LazyCallObject* call, PySendResult status, PyObject** result) {
  if (status == PYGEN_NEXT) return status;
  call->finished = true;
  Py_CLEAR(call->slow);
  if (status == PYGEN_RETURN && call->finish != nullptr) {
    PyObject* awaited = *result;
    *result = call->finish(call->target, awaited);
    Py_DECREF(awaited);
    if (*result == nullptr) status = PYGEN_ERROR;
  }
  Py_CLEAR(call->target);
  return status;
}

PySendResult step(LazyCallObject* call, PyObject* value, PyObject** result) {
  if (call->slow != nullptr) return after_step(call, PyIter_Send(call->slow, value, result), result);
  *result = nullptr;
  if (call->finished) {
    PyErr_SetString(PyExc_RuntimeError, "cannot reuse an already awaited call");
    return PYGEN_ERROR;
  }
  if (value != Py_None) {
    PyErr_SetString(PyExc_TypeError, "can't send non-None value to a just-started call");
    return PYGEN_ERROR;
  }
  Continuation then;
  PyObject* outcome = call->fast(call->target, call->args, call->count, then);
  if (outcome != declined_marker) {
    forget_call(call);
    call->finished = true;
    *result = outcome;
    return outcome == nullptr ? PYGEN_ERROR : PYGEN_RETURN;
  }
  Py_DECREF(outcome);
  if (then.awaitable != nullptr) {
    call->finish = then.finish;
  } else {
    PyObject* stack[1 + max_arguments] = {call->target};
    for (Py_ssize_t i = 0; i < call->count; ++i) stack[1 + i] = call->args[i];
    then.awaitable = PyObject_VectorcallMethod(call->slow_method, stack, 1 + call->count, nullptr);
    if (then.awaitable == nullptr) {
      forget_call(call);
      call->finished = true;
      return PYGEN_ERROR;
    }
  }
  forget_arguments(call);
  call->slow = then.awaitable;
  return after_step(call, PyIter_Send(call->slow, Py_None, result), result);
}

// Like a coroutine, a call cannot be stepped, thrown into or closed from
// inside its own step (by a row factory, a parameter's __getitem__ ...).
bool refuse_if_running(LazyCallObject* call) {
  if (!call->running) return false;
  PyErr_SetString(PyExc_ValueError, "the call is already running");
  return true;
}

// Holds the call running, and alive, for one step.
class Running {
 public:
  explicit Running(LazyCallObject* call) : call_(call) {
    Py_INCREF(call_);
    call_->running = true;
  }
  ~Running() {
    call_->running = false;
    Py_DECREF(call_);
  }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;

 private:
  LazyCallObject* call_;
};

PySendResult call_send(PyObject* self, PyObject* value, PyObject** result) {
  LazyCallObject* call = as_call(self);
  if (refuse_if_running(call)) {
    *result = nullptr;
    return PYGEN_ERROR;
  }
  Running running(call);
  return step(call, value, result);
}

PyObject* send_as_iterator(PyObject* self, PyObject* value) {
  PyObject* result = nullptr;
  const PySendResult status = call_send(self, value, &result);
  return as_iterator_step(status, result);
}

PyObject* call_next(PyObject* self) { return send_as_iterator(self, Py_None); }

// throw(exception) or throw(type, value=None, traceback=None). Before the
// first step, the call never runs and the exception is raised, as a
// coroutine raises it at its start.
// Raises the exception throw() was given, checked as a coroutine checks it;
// false when the arguments are not an exception to raise.
bool set_thrown(PyObject* const* args, Py_ssize_t count) {
  PyObject* kind = args[0];
  PyObject* value = count > 1 ? args[1] : Py_None;
  if (PyExceptionInstance_Check(kind)) {
    if (value != Py_None) {
      PyErr_SetString(PyExc_TypeError, "instance exception may not have a separate value");
      return false;
    }
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(kind)), kind);
    return true;
  }
  if (PyExceptionClass_Check(kind)) {
    PyErr_SetObject(kind, value == Py_None ? nullptr : value);
    return true;
  }
  PyErr_Format(PyExc_TypeError, "exceptions must be classes or instances deriving from BaseException, not %s",
               Py_TYPE(kind)->tp_name);
  return false;
}

// throw(exception) or throw(type, value=None, traceback=None). Before the
// first step, the call never runs and the exception is raised, as a
// coroutine raises it at its start.
PyObject* call_throw(PyObject* self, PyObject* const* args, Py_ssize_t count) {
  if (count < 1 || count > 3) {
    PyErr_SetString(PyExc_TypeError, "throw() takes 1 to 3 arguments");
    return nullptr;
  }
  LazyCallObject* call = as_call(self);
  if (refuse_if_running(call)) return nullptr;
  if (call->finished) {
    PyErr_SetString(PyExc_RuntimeError, "cannot reuse an already awaited call");
    return nullptr;
  }
  Running running(call);
  if (call->slow != nullptr && call->finish == nullptr) {
    // The slow path's coroutine decides what the exception does; it may even go on.
    PyObject* stack[4] = {call->slow, args[0], count > 1 ? args[1] : nullptr, count > 2 ? args[2] : nullptr};
    PyObject* result = PyObject_VectorcallMethod(throw_name, stack, 1 + count, nullptr);
    if (result == nullptr) after_step(call, PYGEN_ERROR, &result);
    return result;
  }
  if (!set_thrown(args, count)) return nullptr;
  // The fast path's work is a future, which has no throw(): the exception is
  // raised here, as `yield from` raises it for an iterator without one.
  // Cancelling the task has cancelled the future already.
  Py_CLEAR(call->slow);
  forget_call(call);
  call->finished = true;
  if (PyErr_ExceptionMatches(PyExc_StopIteration)) {
    // A coroutine may not end by raising StopIteration, nor may this call.
    PyObject* type = nullptr;
    PyObject* value = nullptr;
    PyObject* traceback = nullptr;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    PyErr_SetString(PyExc_RuntimeError, "an aiolibsql call raised StopIteration");
    PyObject* error_type = nullptr;
    PyObject* error = nullptr;
    PyObject* error_traceback = nullptr;
    PyErr_Fetch(&error_type, &error, &error_traceback);
    PyErr_NormalizeException(&error_type, &error, &error_traceback);
    PyException_SetCause(error, value);  // steals value
    PyException_SetContext(error, Py_NewRef(value));
    PyErr_Restore(error_type, error, error_traceback);
    Py_XDECREF(type);
    Py_XDECREF(traceback);
  }
  return nullptr;
}

PyObject* call_close(PyObject* self, PyObject*) {
  LazyCallObject* call = as_call(self);
  if (refuse_if_running(call)) return nullptr;
  Running running(call);
  const bool coroutine = call->finish == nullptr;
  forget_call(call);
  call->finished = true;
  PyObject* slow = call->slow;
  call->slow = nullptr;
  if (slow == nullptr || !coroutine) {
    // A future needs no closing: its work goes on, unobserved, as a
    // coroutine's awaited future does when the coroutine is closed.
    Py_XDECREF(slow);
    Py_RETURN_NONE;
  }
  PyObject* result = PyObject_CallMethodNoArgs(slow, close_name);
  Py_DECREF(slow);
  return result;
}

PyObject* call_await(PyObject* self) { return Py_NewRef(self); }

PyMethodDef call_methods[] = {
    {"send", send_as_iterator, METH_O, "Run the next step."},
    {"throw", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(call_throw)), METH_FASTCALL,
     "Raise the exception in the call."},
    {"close", call_close, METH_NOARGS, "Stop the call; one that has not started never runs."},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot call_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(call_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(call_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(call_clear)},
    {Py_tp_iternext, reinterpret_cast<void*>(call_next)},
    {Py_am_await, reinterpret_cast<void*>(call_await)},
    {Py_am_send, reinterpret_cast<void*>(call_send)},
    {Py_tp_methods, call_methods},
    {Py_tp_doc, const_cast<char*>("A database call that runs when first awaited.")},
    {0, nullptr},
};

PyType_Spec call_spec = {
    "aiolibsql._native.LazyCall",
    sizeof(LazyCallObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    call_slots,
};

}  // namespace

PyObject* declined() noexcept { return Py_NewRef(declined_marker); }

void define_lazy_call_type(nb::module_& module) {
  lazy_call_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&call_spec));
  if (lazy_call_type == nullptr) throw nb::python_error();
  declined_marker = PyObject_CallNoArgs(reinterpret_cast<PyObject*>(&PyBaseObject_Type));
  throw_name = PyUnicode_InternFromString("throw");
  close_name = PyUnicode_InternFromString("close");
  if (declined_marker == nullptr || throw_name == nullptr || close_name == nullptr) throw nb::python_error();
  module.attr("LazyCall") = nb::borrow(reinterpret_cast<PyObject*>(lazy_call_type));
}

PyObject* lazy_call(const char* name, FastPath fast, PyObject* slow_method, PyObject* target, PyObject* const* args,
                    Py_ssize_t count) noexcept {
  LazyCallObject* call = PyObject_GC_New(LazyCallObject, lazy_call_type);
  if (call == nullptr) return nullptr;
  call->name = name;
  call->fast = fast;
  call->slow_method = Py_NewRef(slow_method);
  call->target = Py_NewRef(target);
  call->count = count;
  for (Py_ssize_t i = 0; i < count; ++i) call->args[i] = Py_NewRef(args[i]);
  call->slow = nullptr;
  call->finish = nullptr;
  call->finished = false;
  call->running = false;
  PyObject_GC_Track(call);
  return reinterpret_cast<PyObject*>(call);
}

}  // namespace aiolibsql::py
