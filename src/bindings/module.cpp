// The extension module aiolibsql._native: only the types the Python package
// builds its public API from.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>
#include <sqlite3.h>

#include "completion_port.hpp"
#include "errors.hpp"
#include "execute_base.hpp"
#include "lazy_call.hpp"
#include "native_connection.hpp"
#include "native_future.hpp"
#include "native_pool.hpp"
#include "result_reader.hpp"
#include "result_rows.hpp"
#include "shutdown.hpp"

namespace nb = nanobind;
using namespace aiolibsql::py;

NB_MODULE(_native, m) {
  m.doc() = "Native core of aiolibsql: libSQL connections driven by worker threads.";

  m.attr("sqlite_version") = sqlite3_libversion();
  m.attr("libsql_version") = libsql_libversion();
  m.def("register_exception_classes", &register_exception_classes, nb::arg("classes"),
        "Tell the native core which Python classes to raise, by DB-API name.");
  m.def("close_everything_still_open", &close_everything_still_open,
        "Close every open connection and pool, waiting for running statements (used at interpreter exit).");
  m.def("fetch_more", &fetch_more, nb::arg("port").none(), nb::arg("rows"),
        "The next chunk of a result that has more rows, from the connection that produced it.");

  define_future_type(m);
  define_lazy_call_type(m);
  define_result_reader_type(m);
  define_execute_base_types(m);

  nb::class_<CompletionPort>(m, "CompletionPort",
                             "Collects the completions of operations submitted from one event loop.")
      .def(nb::init<nb::handle>(), nb::arg("loop"))
      .def_prop_ro("fd", &CompletionPort::fd, "File descriptor that is readable while completions wait.")
      .def("drain", &CompletionPort::drain, "Resolve the future of every finished operation.");

  nb::class_<ResultRows>(m, "ResultRows", "One chunk of an execution's rows, converted as they are fetched.")
      .def("fetchone", &ResultRows::fetchone)
      .def("fetchmany", &ResultRows::fetchmany, nb::arg("size"))
      .def("fetchall", &ResultRows::fetchall)
      .def_prop_ro("remaining", &ResultRows::remaining)
      .def_prop_ro("has_more", &ResultRows::has_more)
      .def_prop_ro("rowcount", &ResultRows::rowcount)
      .def_prop_ro("lastrowid", &ResultRows::lastrowid)
      .def_prop_ro("description", &ResultRows::description);

  const auto port = nb::arg("port").none();
  nb::class_<NativeConnection>(m, "NativeConnection",
                               "A connection to a local file or a remote database. Each operation takes a "
                               "CompletionPort and returns a Future, or None and blocks.")
      .def_static("local", &NativeConnection::local, nb::arg("inline_reads"), nb::arg("database"), nb::arg("uri"),
                  nb::arg("timeout"), nb::arg("isolation_level").none(), nb::arg("autocommit"),
                  nb::arg("cached_statements"), nb::arg("encryption_key").none(), nb::arg("cipher"),
                  "A local file or :memory:, its work on a worker thread of its own.")
      .def_static("remote", &NativeConnection::remote, nb::arg("url"), nb::arg("auth_token").none(), nb::arg("timeout"),
                  nb::arg("isolation_level").none(), nb::arg("autocommit"), "A remote database over Hrana.")
      .def_static("replica", &NativeConnection::replica, nb::arg("database"), nb::arg("sync_url"),
                  nb::arg("auth_token").none(), nb::arg("sync_protocol"), nb::arg("offline"),
                  nb::arg("sync_interval").none(), nb::arg("timeout"), nb::arg("isolation_level").none(),
                  nb::arg("autocommit"), nb::arg("cached_statements"), nb::arg("inline_reads"),
                  "An embedded replica: a local file kept in step with a remote primary.")
      .def("open", &NativeConnection::open, port)
      .def("rekey", &NativeConnection::rekey, port, nb::arg("key").none())
      .def("execute", &NativeConnection::execute, port, nb::arg("sql").none(), nb::arg("parameters").none())
      .def("executemany", &NativeConnection::executemany, port, nb::arg("sql").none(), nb::arg("batch"))
      .def("executescript", &NativeConnection::executescript, port, nb::arg("script").none())
      .def("commit", &NativeConnection::commit, port)
      .def("rollback", &NativeConnection::rollback, port)
      .def("set_autocommit", &NativeConnection::set_autocommit, port, nb::arg("autocommit"))
      .def("backup", &NativeConnection::backup, port, nb::arg("target"), nb::arg("schema"), nb::arg("pages"))
      .def("create_function", &NativeConnection::create_function, port, nb::arg("name"), nb::arg("arg_count"),
           nb::arg("callable"), nb::arg("deterministic"))
      .def("close", &NativeConnection::close, port)
      .def("sync", &NativeConnection::sync, port)
      .def("interrupt", &NativeConnection::interrupt)
      .def_prop_ro("in_transaction", &NativeConnection::in_transaction)
      .def_prop_ro("total_changes", &NativeConnection::total_changes)
      .def_prop_ro("closed", &NativeConnection::closed)
      .def_prop_ro("is_remote", &NativeConnection::is_remote)
      .def_prop_ro("is_replica", &NativeConnection::is_replica);

  nb::class_<NativePool>(m, "NativePool", "A pool of connections to a local file, or of streams to a remote database.")
      .def_static("local", &NativePool::local, nb::arg("database"), nb::arg("uri"), nb::arg("size"), nb::arg("timeout"),
                  nb::arg("setup_statements"), nb::arg("largest_group"), nb::arg("group_gather"),
                  nb::arg("cached_statements"), nb::arg("inline_reads"), nb::arg("encryption_key").none(),
                  nb::arg("cipher"), "One writer and size - 1 readers on one WAL file.")
      .def_static("remote", &NativePool::remote, nb::arg("url"), nb::arg("auth_token").none(), nb::arg("timeout"),
                  nb::arg("size"), "size streams to a remote database over Hrana.")
      .def_static("replica", &NativePool::replica, nb::arg("database"), nb::arg("sync_url"),
                  nb::arg("auth_token").none(), nb::arg("sync_protocol"), nb::arg("size"), nb::arg("timeout"),
                  nb::arg("setup_statements"), nb::arg("cached_statements"), nb::arg("inline_reads"),
                  nb::arg("sync_interval").none(), "Readers on an embedded replica, writes to its primary.")
      .def("open", &NativePool::open, port)
      .def("execute", &NativePool::execute, port, nb::arg("sql").none(), nb::arg("parameters").none())
      .def("executemany", &NativePool::executemany, port, nb::arg("sql").none(), nb::arg("batch"))
      .def("goes_to_writer", &NativePool::goes_to_writer, nb::arg("sql").none())
      .def("executebatch", &NativePool::executebatch, port, nb::arg("statements"))
      .def("close", &NativePool::close, port)
      .def("sync", &NativePool::sync, port)
      .def("stats", &NativePool::stats)
      .def("transaction", &NativePool::transaction)
      .def("snapshot", &NativePool::snapshot)
      .def_prop_ro("size", &NativePool::size)
      .def_prop_ro("reader_count", &NativePool::reader_count)
      .def_prop_ro("closed", &NativePool::closed)
      .def_prop_ro("is_remote", &NativePool::is_remote)
      .def_prop_ro("is_replica", &NativePool::is_replica);

  nb::class_<NativePinned>(m, "NativePinned",
                           "A transaction or snapshot pinning one member of a pool; rolls back if dropped unended.")
      .def("begin", &NativePinned::begin, port)
      .def("execute", &NativePinned::execute, port, nb::arg("sql").none(), nb::arg("parameters").none())
      .def("executemany", &NativePinned::executemany, port, nb::arg("sql").none(), nb::arg("batch"))
      .def("end", &NativePinned::end, port, nb::arg("commit") = false);
}
