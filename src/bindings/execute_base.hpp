// The native bases of aiolibsql's Connection and ConnectionPool: execute()
// with no Python frame on its fast path. A short read on an idle connection
// (or reader) runs inline when the call is first awaited and yields a cursor
// made natively; anything else is handed to the Python coroutine
// `_execute_queued` of the subclass.
#pragma once

#include <nanobind/nanobind.h>

namespace aiolibsql::py {

namespace nb = nanobind;

// Adds the types to the module as `ConnectionBase` and `PoolBase`.
void define_execute_base_types(nb::module_& module);

}  // namespace aiolibsql::py
