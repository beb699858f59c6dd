#include "native_future.hpp"

#include <exception>
#include <new>
#include <utility>

#include "send_result.hpp"

namespace aiolibsql::py {

namespace {

enum class State : unsigned char { Pending, Finished, Cancelled };

struct FutureObject {
  PyObject_HEAD PyObject* loop;
  PyObject* result;     // set when Finished without an error
  PyObject* exception;  // set when Finished with an error
  PyObject* cancel_message;
  // Nearly every future has one callback, its awaiting task's wake-up; the
  // rare others go to a list of (callback, context) tuples.
  PyObject* callback;
  PyObject* context;
  PyObject* more_callbacks;
  std::weak_ptr<Cancellable> owner;
  State state;
  bool blocking;   // asyncio's _asyncio_future_blocking: set while a task waits on it
  bool turn_owed;  // finished, but the awaiter suspends once before taking the value
};

FutureObject* as_future(PyObject* object) noexcept { return reinterpret_cast<FutureObject*>(object); }

// Objects looked up once at import and kept for the life of the process.
struct Shared {
  PyTypeObject* type = nullptr;
  PyObject* cancelled_error = nullptr;
  PyObject* invalid_state_error = nullptr;
  PyObject* call_soon = nullptr;
  PyObject* call_exception_handler = nullptr;
  PyObject* context_keyword = nullptr;  // the kwnames tuple ("context",)
};
Shared shared;

std::uintptr_t tag_of(FutureObject* future) noexcept { return reinterpret_cast<std::uintptr_t>(future); }

// loop.call_soon(callback, future, context=context)
int call_soon(PyObject* loop, PyObject* callback, PyObject* future, PyObject* context) {
  if (loop == nullptr) {
    // Only after the garbage collector has cleared the future.
    PyErr_SetString(PyExc_RuntimeError, "the future has no event loop");
    return -1;
  }
  PyObject* args[] = {loop, callback, future, context};
  PyObject* handle = PyObject_VectorcallMethod(shared.call_soon, args, 3, shared.context_keyword);
  if (handle == nullptr) return -1;
  Py_DECREF(handle);
  return 0;
}

// Hands every callback of a finished future to the loop, as asyncio.Future does.
int schedule_callbacks(FutureObject* future) {
  PyObject* self = reinterpret_cast<PyObject*>(future);
  int status = 0;
  if (future->callback != nullptr) {
    status = call_soon(future->loop, future->callback, self, future->context);
    Py_CLEAR(future->callback);
    Py_CLEAR(future->context);
  }
  if (future->more_callbacks != nullptr) {
    PyObject* more = future->more_callbacks;
    future->more_callbacks = nullptr;
    for (Py_ssize_t i = 0; status == 0 && i < PyList_GET_SIZE(more); ++i) {
      PyObject* pair = PyList_GET_ITEM(more, i);
      status = call_soon(future->loop, PyTuple_GET_ITEM(pair, 0), self, PyTuple_GET_ITEM(pair, 1));
    }
    Py_DECREF(more);
  }
  return status;
}

PyObject* make_cancelled_error(FutureObject* future) {
  if (future->cancel_message == nullptr) return PyObject_CallNoArgs(shared.cancelled_error);
  return PyObject_CallOneArg(shared.cancelled_error, future->cancel_message);
}

// Raises a stored exception. Each raise starts from an empty traceback, as
// asyncio.Future does, so retrieving it again does not grow the old one.
void raise_object(PyObject* exception) {
  PyException_SetTraceback(exception, Py_None);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exception)), exception);
}

// The value of a done future (a new reference), or nullptr with its error raised.
PyObject* outcome(FutureObject* future) {
  switch (future->state) {
    case State::Pending:
      PyErr_SetString(shared.invalid_state_error, "Result is not set.");
      return nullptr;
    case State::Cancelled:
      if (PyObject* error = make_cancelled_error(future)) {
        raise_object(error);
        Py_DECREF(error);
      }
      return nullptr;
    case State::Finished:
      if (future->exception != nullptr) {
        raise_object(future->exception);
        return nullptr;
      }
      return Py_NewRef(future->result != nullptr ? future->result : Py_None);
  }
  return nullptr;
}

// -- the Python type ----------------------------------------------------------

int future_clear(PyObject* self) {
  FutureObject* future = as_future(self);
  Py_CLEAR(future->loop);
  Py_CLEAR(future->result);
  Py_CLEAR(future->exception);
  Py_CLEAR(future->cancel_message);
  Py_CLEAR(future->callback);
  Py_CLEAR(future->context);
  Py_CLEAR(future->more_callbacks);
  return 0;
}

int future_traverse(PyObject* self, visitproc visit, void* arg) {
  FutureObject* future = as_future(self);
  Py_VISIT(Py_TYPE(self));
  Py_VISIT(future->loop);
  Py_VISIT(future->result);
  Py_VISIT(future->exception);
  Py_VISIT(future->cancel_message);
  Py_VISIT(future->callback);
  Py_VISIT(future->context);
  Py_VISIT(future->more_callbacks);
  return 0;
}

void future_dealloc(PyObject* self) {
  PyTypeObject* type = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  future_clear(self);
  as_future(self)->owner.~weak_ptr();
  type->tp_free(self);
  Py_DECREF(type);
}

PyObject* future_repr(PyObject* self) {
  static const char* const names[] = {"pending", "finished", "cancelled"};
  return PyUnicode_FromFormat("<aiolibsql Future %s>", names[static_cast<int>(as_future(self)->state)]);
}

PyObject* future_result(PyObject* self, PyObject*) { return outcome(as_future(self)); }

PyObject* future_exception(PyObject* self, PyObject*) {
  FutureObject* future = as_future(self);
  if (future->state == State::Pending) {
    PyErr_SetString(shared.invalid_state_error, "Exception is not set.");
    return nullptr;
  }
  if (future->state == State::Cancelled) return outcome(future);
  return Py_NewRef(future->exception != nullptr ? future->exception : Py_None);
}

PyObject* future_done(PyObject* self, PyObject*) { return PyBool_FromLong(as_future(self)->state != State::Pending); }

PyObject* future_cancelled(PyObject* self, PyObject*) {
  return PyBool_FromLong(as_future(self)->state == State::Cancelled);
}

PyObject* future_get_loop(PyObject* self, PyObject*) {
  PyObject* loop = as_future(self)->loop;
  return Py_NewRef(loop != nullptr ? loop : Py_None);
}

PyObject* future_make_cancelled_error(PyObject* self, PyObject*) { return make_cancelled_error(as_future(self)); }

PyObject* future_cancel(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"msg", nullptr};
  PyObject* message = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:cancel", const_cast<char**>(keywords), &message)) return nullptr;
  FutureObject* future = as_future(self);
  if (future->state != State::Pending) Py_RETURN_FALSE;
  future->state = State::Cancelled;
  if (message != Py_None) future->cancel_message = Py_NewRef(message);
  // The awaiters hear of it whatever happens next.
  if (schedule_callbacks(future) < 0) return nullptr;
  if (auto owner = future->owner.lock()) {
    try {
      owner->cancel(tag_of(future));
    } catch (const std::exception& error) {
      PyErr_SetString(PyExc_RuntimeError, error.what());
      return nullptr;
    }
  }
  Py_RETURN_TRUE;
}

// add_done_callback(fn, /, *, context=None): called by every task that awaits the future.
PyObject* future_add_done_callback(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  if (nargs != 1) {
    PyErr_SetString(PyExc_TypeError, "add_done_callback() takes one positional argument");
    return nullptr;
  }
  PyObject* context = Py_None;
  const Py_ssize_t keywords = kwnames == nullptr ? 0 : PyTuple_GET_SIZE(kwnames);
  for (Py_ssize_t i = 0; i < keywords; ++i) {
    if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, i), "context") != 0) {
      PyErr_Format(PyExc_TypeError, "add_done_callback() got an unexpected keyword argument '%U'",
                   PyTuple_GET_ITEM(kwnames, i));
      return nullptr;
    }
    context = args[nargs + i];
  }
  PyObject* owned_context = context == Py_None ? PyContext_CopyCurrent() : Py_NewRef(context);
  if (owned_context == nullptr) return nullptr;
  FutureObject* future = as_future(self);
  PyObject* callback = args[0];
  if (future->state != State::Pending) {
    const int status = call_soon(future->loop, callback, self, owned_context);
    Py_DECREF(owned_context);
    if (status < 0) return nullptr;
    Py_RETURN_NONE;
  }
  if (future->callback == nullptr && future->more_callbacks == nullptr) {
    future->callback = Py_NewRef(callback);
    future->context = owned_context;
    Py_RETURN_NONE;
  }
  PyObject* pair = PyTuple_Pack(2, callback, owned_context);
  Py_DECREF(owned_context);
  if (pair == nullptr) return nullptr;
  if (future->more_callbacks == nullptr && (future->more_callbacks = PyList_New(0)) == nullptr) {
    Py_DECREF(pair);
    return nullptr;
  }
  const int status = PyList_Append(future->more_callbacks, pair);
  Py_DECREF(pair);
  if (status < 0) return nullptr;
  Py_RETURN_NONE;
}

// Compares under strong references: a callback's __eq__ may run any code,
// this method included.
PyObject* future_remove_done_callback(PyObject* self, PyObject* callback) {
  FutureObject* future = as_future(self);
  Py_ssize_t removed = 0;
  if (future->callback != nullptr) {
    PyObject* first = Py_NewRef(future->callback);
    const int same = PyObject_RichCompareBool(first, callback, Py_EQ);
    if (same > 0 && future->callback == first) {
      Py_CLEAR(future->callback);
      Py_CLEAR(future->context);
      ++removed;
    }
    Py_DECREF(first);
    if (same < 0) return nullptr;
  }
  if (future->more_callbacks != nullptr) {
    PyObject* more = Py_NewRef(future->more_callbacks);
    PyObject* kept = PyList_New(0);
    if (kept == nullptr) {
      Py_DECREF(more);
      return nullptr;
    }
    int status = 0;
    for (Py_ssize_t i = 0; status == 0 && i < PyList_GET_SIZE(more); ++i) {
      PyObject* pair = Py_NewRef(PyList_GET_ITEM(more, i));
      const int same = PyObject_RichCompareBool(PyTuple_GET_ITEM(pair, 0), callback, Py_EQ);
      if (same < 0 || (same == 0 && PyList_Append(kept, pair) < 0)) status = -1;
      removed += same > 0;
      Py_DECREF(pair);
    }
    // The list is replaced only if nothing else replaced it meanwhile.
    if (status == 0 && future->more_callbacks == more) Py_SETREF(future->more_callbacks, Py_NewRef(kept));
    Py_DECREF(kept);
    Py_DECREF(more);
    if (status < 0) return nullptr;
  }
  return PyLong_FromSsize_t(removed);
}

PyObject* future_get_blocking(PyObject* self, void*) { return PyBool_FromLong(as_future(self)->blocking); }

int future_set_blocking(PyObject* self, PyObject* value, void*) {
  if (value == nullptr) {
    PyErr_SetString(PyExc_AttributeError, "cannot delete attribute");
    return -1;
  }
  const int truth = PyObject_IsTrue(value);
  if (truth < 0) return -1;
  as_future(self)->blocking = truth != 0;
  return 0;
}

// One step of `await future`: yields the future itself to the task while it
// is pending (the task then adds its wake-up as a done-callback), returns
// its value once done.
PySendResult future_send(PyObject* self, PyObject*, PyObject** value) {
  FutureObject* future = as_future(self);
  if (future->turn_owed) {
    // A bare yield: the task comes back on the loop's next iteration.
    future->turn_owed = false;
    *value = Py_NewRef(Py_None);
    return PYGEN_NEXT;
  }
  if (future->state == State::Pending) {
    future->blocking = true;
    *value = Py_NewRef(self);
    return PYGEN_NEXT;
  }
  *value = outcome(future);
  return *value == nullptr ? PYGEN_ERROR : PYGEN_RETURN;
}

PyObject* future_next(PyObject* self) {
  PyObject* value = nullptr;
  const PySendResult status = future_send(self, Py_None, &value);
  return as_iterator_step(status, value);
}

PyMethodDef future_methods[] = {
    {"result", future_result, METH_NOARGS, "The value; raises the error, or CancelledError."},
    {"exception", future_exception, METH_NOARGS, "The error, or None."},
    {"done", future_done, METH_NOARGS, "Whether it finished or was cancelled."},
    {"cancelled", future_cancelled, METH_NOARGS, "Whether it was cancelled."},
    {"cancel", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(future_cancel)), METH_VARARGS | METH_KEYWORDS,
     "Cancel the operation: dropped if queued, interrupted if running."},
    {"add_done_callback", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(future_add_done_callback)),
     METH_FASTCALL | METH_KEYWORDS, "Call fn(future) once it is done."},
    {"remove_done_callback", future_remove_done_callback, METH_O, "Forget fn; returns how many were removed."},
    {"get_loop", future_get_loop, METH_NOARGS, "The event loop the future belongs to."},
    {"_make_cancelled_error", future_make_cancelled_error, METH_NOARGS, "The CancelledError to raise."},
    {nullptr, nullptr, 0, nullptr},
};

// asyncio.gather reads it from the children it gathers.
PyObject* future_get_cancel_message(PyObject* self, void*) {
  PyObject* message = as_future(self)->cancel_message;
  return Py_NewRef(message != nullptr ? message : Py_None);
}

int future_set_cancel_message(PyObject* self, PyObject* value, void*) {
  FutureObject* future = as_future(self);
  Py_XSETREF(future->cancel_message, value == nullptr || value == Py_None ? nullptr : Py_NewRef(value));
  return 0;
}

PyGetSetDef future_getset[] = {
    {"_asyncio_future_blocking", future_get_blocking, future_set_blocking, nullptr, nullptr},
    {"_cancel_message", future_get_cancel_message, future_set_cancel_message, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyObject* future_await(PyObject* self) { return Py_NewRef(self); }

PyType_Slot future_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(future_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(future_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(future_clear)},
    {Py_tp_repr, reinterpret_cast<void*>(future_repr)},
    {Py_tp_iter, reinterpret_cast<void*>(future_await)},
    {Py_tp_iternext, reinterpret_cast<void*>(future_next)},
    {Py_am_await, reinterpret_cast<void*>(future_await)},
    {Py_am_send, reinterpret_cast<void*>(future_send)},
    {Py_tp_methods, future_methods},
    {Py_tp_getset, future_getset},
    {Py_tp_doc, const_cast<char*>("The result of one operation, awaitable like asyncio.Future.")},
    {0, nullptr},
};

PyType_Spec future_spec = {
    "aiolibsql._native.Future",
    sizeof(FutureObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    future_slots,
};

FutureObject* allocate(PyObject* loop) {
  PyObject* object = PyType_GenericAlloc(shared.type, 0);
  if (object == nullptr) throw nb::python_error();
  FutureObject* future = as_future(object);
  new (&future->owner) std::weak_ptr<Cancellable>();
  future->loop = Py_NewRef(loop);
  return future;
}

PyObject* new_reference(const char* module, const char* name) {
  nb::object value = nb::module_::import_(module).attr(name);
  return value.release().ptr();
}

}  // namespace

void define_future_type(nb::module_& module) {
  shared.type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&future_spec));
  if (shared.type == nullptr) throw nb::python_error();
  shared.cancelled_error = new_reference("asyncio", "CancelledError");
  shared.invalid_state_error = new_reference("asyncio", "InvalidStateError");
  shared.call_soon = PyUnicode_InternFromString("call_soon");
  shared.call_exception_handler = PyUnicode_InternFromString("call_exception_handler");
  shared.context_keyword = Py_BuildValue("(s)", "context");
  module.attr("Future") = nb::borrow(reinterpret_cast<PyObject*>(shared.type));
}

nb::object new_future(PyObject* loop, std::weak_ptr<Cancellable> owner) {
  FutureObject* future = allocate(loop);
  future->owner = std::move(owner);
  return nb::steal(reinterpret_cast<PyObject*>(future));
}

nb::object finished_future(PyObject* loop, nb::object value) {
  FutureObject* future = allocate(loop);
  future->state = State::Finished;
  future->result = value.release().ptr();
  return nb::steal(reinterpret_cast<PyObject*>(future));
}

nb::object finished_after_a_turn(PyObject* loop, nb::object value) {
  nb::object future = finished_future(loop, std::move(value));
  as_future(future.ptr())->turn_owed = true;
  return future;
}

bool is_pending_future(PyObject* object) noexcept {
  return Py_TYPE(object) == shared.type && as_future(object)->state == State::Pending;
}

// -- waking the awaiters ------------------------------------------------------

void WakeUps::collect(PyObject* object) {
  FutureObject* future = as_future(object);
  if (future->callback != nullptr) {
    wake_ups_.push_back({nb::borrow(object), nb::steal(future->callback), nb::steal(future->context)});
    future->callback = nullptr;
    future->context = nullptr;
  }
  if (future->more_callbacks != nullptr) {
    nb::object more = nb::steal(future->more_callbacks);
    future->more_callbacks = nullptr;
    for (nb::handle pair : more) {
      wake_ups_.push_back({nb::borrow(object), nb::borrow(PyTuple_GET_ITEM(pair.ptr(), 0)),
                           nb::borrow(PyTuple_GET_ITEM(pair.ptr(), 1))});
    }
  }
}

void WakeUps::set_result(PyObject* future, nb::object value) {
  as_future(future)->state = State::Finished;
  as_future(future)->result = value.release().ptr();
  collect(future);
}

void WakeUps::set_exception(PyObject* future, nb::object exception) {
  as_future(future)->state = State::Finished;
  as_future(future)->exception = exception.release().ptr();
  collect(future);
}

void WakeUps::set_cancelled(PyObject* future) {
  as_future(future)->state = State::Cancelled;
  collect(future);
}

namespace {

// What the loop does with an error from a callback it runs: report it.
void report_callback_error(PyObject* future, PyObject* error) {
  PyObject* details = Py_BuildValue("{s:s,s:O,s:O}", "message", "Exception in a done-callback of an aiolibsql future",
                                    "exception", error, "future", future);
  PyObject* reported = details == nullptr
                           ? nullptr
                           : PyObject_CallMethodOneArg(as_future(future)->loop, shared.call_exception_handler, details);
  Py_XDECREF(details);
  if (reported == nullptr) {
    PyErr_WriteUnraisable(future);
  } else {
    Py_DECREF(reported);
  }
}

}  // namespace

void WakeUps::run() {
  for (std::size_t i = 0; i < wake_ups_.size(); ++i) {
    WakeUp& wake_up = wake_ups_[i];
    if (PyContext_Enter(wake_up.context.ptr()) < 0) {
      // The context is in use further up this thread: let the loop run it.
      PyErr_Clear();
      if (call_soon(as_future(wake_up.future.ptr())->loop, wake_up.callback.ptr(), wake_up.future.ptr(),
                    wake_up.context.ptr()) < 0) {
        PyErr_WriteUnraisable(wake_up.future.ptr());
      }
      continue;
    }
    PyObject* returned = PyObject_CallOneArg(wake_up.callback.ptr(), wake_up.future.ptr());
    if (returned != nullptr) {
      Py_DECREF(returned);
      if (PyContext_Exit(wake_up.context.ptr()) < 0) PyErr_Clear();
      continue;
    }
    nb::python_error error;
    if (PyContext_Exit(wake_up.context.ptr()) < 0) PyErr_Clear();
    if (error.matches(PyExc_KeyboardInterrupt) || error.matches(PyExc_SystemExit)) {
      wake_ups_.erase(wake_ups_.begin(), wake_ups_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      throw error;  // the destructor hands the remaining callbacks to the loop
    }
    report_callback_error(wake_up.future.ptr(), error.value().ptr());
  }
  wake_ups_.clear();
}

WakeUps::~WakeUps() {
  for (WakeUp& wake_up : wake_ups_) {
    if (call_soon(as_future(wake_up.future.ptr())->loop, wake_up.callback.ptr(), wake_up.future.ptr(),
                  wake_up.context.ptr()) < 0) {
      PyErr_WriteUnraisable(wake_up.future.ptr());
    }
  }
}

}  // namespace aiolibsql::py
