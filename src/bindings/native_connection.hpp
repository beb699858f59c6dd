// The Python-facing handle of one connection, whatever its backend: a local
// file's engine or a remote database. Every operation takes a CompletionPort
// (returns a future) or None (blocks, GIL released). What the backend lacks
// raises NotSupportedError with its reason.
#pragma once

#include <nanobind/nanobind.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "async_connection.hpp"
#include "errors.hpp"
#include "inline_streak.hpp"
#include "remote_connection.hpp"
#include "replica_connection.hpp"

namespace aiolibsql::py {

namespace nb = nanobind;

// The completion port to queue an operation on, asked for only when one is
// queued: a statement that runs inline needs none.
using PortSource = std::function<nb::object()>;

class NativeConnection {
 public:
  // A local file or :memory:. `inline_reads` lets short reads run on the
  // calling thread when the connection is idle.
  static NativeConnection local(bool inline_reads, nb::bytes database, bool uri, double timeout,
                                std::optional<std::string> isolation_level, int autocommit,
                                std::size_t cached_statements, nb::handle encryption_key, std::string cipher);
  // A remote database; InterfaceError for a URL that is not one.
  static NativeConnection remote(const std::string& url, nb::handle auth_token, double timeout,
                                 std::optional<std::string> isolation_level, int autocommit);
  // An embedded replica of the database at `sync_url`, in the file `database`.
  static NativeConnection replica(nb::bytes database, const std::string& sync_url, nb::handle auth_token,
                                  const std::string& protocol, bool offline, std::optional<double> sync_interval,
                                  double timeout, std::optional<std::string> isolation_level, int autocommit,
                                  std::size_t cached_statements, bool inline_reads);
  NativeConnection(NativeConnection&&) noexcept = default;
  NativeConnection& operator=(NativeConnection&&) = delete;
  ~NativeConnection();

  nb::object open(nb::handle port);
  // Changes the encryption key; None removes encryption.
  nb::object rekey(nb::handle port, nb::handle key);
  // The fast path of an awaited execute(): a short read on an idle
  // connection runs inline and its ResultRows are returned; anything else is
  // queued, on the port `port` gives, and its future returned. The SQL and
  // parameters are converted once either way.
  nb::object execute_inline_or_queued(nb::handle sql, nb::handle parameters, const PortSource& port);
  nb::object execute(nb::handle port, nb::handle sql, nb::handle parameters);
  nb::object executemany(nb::handle port, nb::handle sql, nb::handle batch);
  nb::object executescript(nb::handle port, nb::handle script);
  nb::object commit(nb::handle port);
  nb::object rollback(nb::handle port);
  nb::object set_autocommit(nb::handle port, int autocommit);
  nb::object backup(nb::handle port, NativeConnection& target, std::string schema, int pages);
  nb::object create_function(nb::handle port, std::string name, int arg_count, nb::object callable, bool deterministic);
  nb::object close(nb::handle port);
  // An embedded replica's sync with its primary; NotSupportedError otherwise.
  nb::object sync(nb::handle port);

  void interrupt() { engine(Capability::Interrupt, "interrupt()").interrupt(); }
  bool in_transaction() const { return backend_->in_transaction(); }
  std::int64_t total_changes() const { return engine(Capability::TotalChanges, "total_changes").total_changes(); }
  bool closed() const { return backend_->is_closed(); }
  bool is_remote() const noexcept { return engine_ == nullptr; }
  bool is_replica() const noexcept { return replica_ != nullptr; }

 private:
  NativeConnection(std::shared_ptr<ConnectionBackend> backend, std::shared_ptr<AsyncConnection> engine,
                   bool inline_reads, std::shared_ptr<replica::ReplicaConnection> replica = nullptr);
  // The local engine, for what only it offers; NotSupportedError naming
  // `what` and the backend's reason when there is none.
  AsyncConnection& engine(Capability capability, const char* what) const;
  // Queues an execute() whose SQL and parameters are converted; a short read
  // owed a suspension still runs inline, its result delivered a turn later.
  nb::object queue_execute(nb::handle port, std::string_view text, Params params);
  // Starts an operation; on an idle connection, waits briefly for its result.
  template <typename Start>
  // `statement`: the SQL of an execute(), which may let it be handed off.
  nb::object start(nb::handle port, Start&& start, std::string_view statement = {});
  // Raises ProgrammingError when called from a user function of this
  // connection for anything but execute(), which alone runs nested.
  void refuse_reentry() const;
  // Whether this thread is running a user function of this connection.
  bool inside_own_user_function() const;

  std::shared_ptr<ConnectionBackend> backend_;
  // The local file's engine (of the connection, or of the replica); null for a remote database.
  std::shared_ptr<AsyncConnection> engine_;
  // The same connection when it is an embedded replica; null otherwise.
  std::shared_ptr<replica::ReplicaConnection> replica_;
  bool inline_reads_;
  // Opened without an event loop (the blocking module): dropping it closes
  // it where it is dropped, as sqlite3 does, so its locks are gone once the
  // drop returns. No loop's thread can be held up by that.
  bool closes_where_dropped_ = false;
};

TransactionControl transaction_control(int autocommit);

// A short read run on the caller's thread by `engine` (a connection, given
// the SQL text, or a pool, given its route): its rows, or nullopt when it
// declined; its errors raised in Python.
template <typename Engine, typename Statement>
std::optional<QueryResult> run_inline(Engine& engine, const Statement& sql, Params& params) {
  try {
    return engine.try_execute_inline(sql, params);
  } catch (const DbError& error) {
    raise(error.error());
  }
}

// A remote endpoint and its HTTP bounds from connect()'s arguments;
// InterfaceError for a URL that is not a remote database's.
remote::RemoteOptions remote_options(const std::string& url, nb::handle auth_token, double timeout);
// "auto", "v1" or "v2"; ProgrammingError for anything else.
replica::SyncProtocol sync_protocol(const std::string& name);

// An encryption key from bytes (used as they are) or str (its UTF-8); empty for None.
Secret secret_key(nb::handle key);

// The UTF-8 text of a str argument, valid while it lives; ProgrammingError
// for anything else.
std::string_view sql_view(nb::handle sql, const char* what);
inline std::string sql_text(nb::handle sql, const char* what) { return std::string(sql_view(sql, what)); }

// The parameter sets of an executemany().
std::vector<Params> parameter_sets(nb::handle batch);
// The (sql, parameters) or (sql,) pairs of an executebatch(); ProgrammingError for anything else.
std::vector<std::pair<std::string, Params>> statement_pairs(nb::handle statements);

}  // namespace aiolibsql::py
