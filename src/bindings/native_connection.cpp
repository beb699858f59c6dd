#include "native_connection.hpp"

#include <chrono>
#include <cmath>

#include "completion_port.hpp"
#include "errors.hpp"
#include "let_go.hpp"
#include "python_function.hpp"
#include "result_rows.hpp"
#include "shutdown.hpp"
#include "values.hpp"

namespace aiolibsql::py {

TransactionControl transaction_control(int autocommit) {
  switch (autocommit) {
    case -1:
      return TransactionControl::Legacy;
    case 0:
      return TransactionControl::Manual;
    case 1:
      return TransactionControl::Autocommit;
    default:
      throw nb::value_error("autocommit must be True, False or LEGACY_TRANSACTION_CONTROL (-1)");
  }
}

std::string_view sql_view(nb::handle sql, const char* what) {
  if (!PyUnicode_Check(sql.ptr())) {
    raise(ErrorKind::Programming, std::string(what) + " must be a str, not " + Py_TYPE(sql.ptr())->tp_name);
  }
  Py_ssize_t size = 0;
  const char* text = PyUnicode_AsUTF8AndSize(sql.ptr(), &size);
  if (text == nullptr) {
    PyErr_Clear();
    raise(ErrorKind::Programming, std::string(what) + " is not encodable as UTF-8");
  }
  return {text, static_cast<std::size_t>(size)};
}

namespace {

std::chrono::milliseconds milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000.0)));
}

}  // namespace

remote::RemoteOptions remote_options(const std::string& url, nb::handle auth_token, double timeout) {
  remote::RemoteOptions options;
  try {
    options.endpoint = remote::parse_remote_url(url, secret_key(auth_token));
  } catch (const DbError& error) {
    raise(error.error());
  }
  // Zero means no bound, as libcurl reads it.
  options.http.connect_timeout = milliseconds(timeout);
  options.http.request_timeout = milliseconds(timeout);
  return options;
}

NativeConnection::NativeConnection(std::shared_ptr<ConnectionBackend> backend, std::shared_ptr<AsyncConnection> engine,
                                   bool inline_reads, std::shared_ptr<replica::ReplicaConnection> replica)
    : backend_(std::move(backend)),
      engine_(std::move(engine)),
      replica_(std::move(replica)),
      inline_reads_(inline_reads) {}

NativeConnection NativeConnection::local(bool inline_reads, nb::bytes database, bool uri, double timeout,
                                         std::optional<std::string> isolation_level, int autocommit,
                                         std::size_t cached_statements, nb::handle encryption_key, std::string cipher) {
  OpenOptions options;
  options.database.assign(database.c_str(), database.size());
  options.uri = uri;
  options.timeout_seconds = timeout;
  options.isolation_level = std::move(isolation_level);
  options.transaction_control = transaction_control(autocommit);
  options.cached_statements = cached_statements;
  options.encryption_key = secret_key(encryption_key);
  options.cipher = std::move(cipher);
  auto engine = std::make_shared<AsyncConnection>(std::move(options));
  close_at_exit(engine);
  return NativeConnection(engine, engine, inline_reads);
}

NativeConnection NativeConnection::remote(const std::string& url, nb::handle auth_token, double timeout,
                                          std::optional<std::string> isolation_level, int autocommit) {
  remote::RemoteOptions options = remote_options(url, auth_token, timeout);
  options.transactions = TransactionRules{transaction_control(autocommit), std::move(isolation_level)};
  return NativeConnection(std::make_shared<remote::RemoteConnection>(std::move(options)), nullptr, false);
}

replica::SyncProtocol sync_protocol(const std::string& name) {
  const auto protocol = replica::parse_sync_protocol(name);
  if (!protocol) raise(ErrorKind::Programming, "sync_protocol must be 'auto', 'v1' or 'v2', not '" + name + "'");
  return *protocol;
}

NativeConnection NativeConnection::replica(nb::bytes database, const std::string& sync_url, nb::handle auth_token,
                                           const std::string& protocol, bool offline,
                                           std::optional<double> sync_interval, double timeout,
                                           std::optional<std::string> isolation_level, int autocommit,
                                           std::size_t cached_statements, bool inline_reads) {
  replica::ReplicaOptions options;
  options.primary = remote_options(sync_url, auth_token, timeout);
  options.primary.transactions = TransactionRules{transaction_control(autocommit), isolation_level};
  options.local.database.assign(database.c_str(), database.size());
  options.local.timeout_seconds = timeout;
  options.local.isolation_level = std::move(isolation_level);
  options.local.transaction_control = transaction_control(autocommit);
  options.local.cached_statements = cached_statements;
  options.offline = offline;
  options.protocol = sync_protocol(protocol);
  if (sync_interval) options.sync_interval = milliseconds(*sync_interval);
  auto replica = std::make_shared<replica::ReplicaConnection>(std::move(options));
  close_at_exit(replica->local());
  return NativeConnection(replica, replica->local(), inline_reads, replica);
}

nb::object NativeConnection::sync(nb::handle port) {
  if (!replica_) raise(ErrorKind::NotSupported, "sync() is for embedded replicas: connect with sync_url=...");
  return start_operation(port, backend_, [&](auto sink, auto tag) { replica_->sync(std::move(sink), tag); });
}

NativeConnection::~NativeConnection() {
  // Destroying the engine joins its worker, which may be waiting for the GIL
  // to call a user function.
  nb::gil_scoped_release released;
  replica_.reset();
  backend_.reset();
  if (closes_where_dropped_) {
    engine_.reset();
  } else {
    let_go(std::move(engine_));
  }
}

namespace {

// The future of work done on the caller's thread since `started` (an open
// or a close): it counts in the streak like an inline read, so a loop of
// opens and closes still lets the loop run other tasks.
nb::object done_inline(nb::handle port, InlineStreak::Clock::time_point started) {
  auto& completion_port = nb::cast<CompletionPort&>(port);
  const auto now = InlineStreak::Clock::now();
  if (inline_streak().allows_another(started, now)) return completion_port.finished(nb::none());
  inline_streak().suspending(now);
  return completion_port.after_a_turn(nb::none());
}

}  // namespace

nb::object NativeConnection::open(nb::handle port) {
  closes_where_dropped_ = port.is_none();
  // A local file opens on the loop's thread when it can (a replica's open
  // may talk to its primary); otherwise the new, idle connection's open
  // usually ends within the hand-off wait.
  if (!port.is_none() && engine_ && !replica_) {
    try {
      const auto started = InlineStreak::Clock::now();
      if (engine_->try_open_inline()) return done_inline(port, started);
    } catch (const DbError& error) {
      raise(error.error());
    }
  }
  return start(port, [&](auto sink, auto tag) { return backend_->open(std::move(sink), tag); });
}

AsyncConnection& NativeConnection::engine(Capability capability, const char* what) const {
  if (const auto missing = backend_->lacks(capability)) {
    raise(ErrorKind::NotSupported, std::string(what) + " is not supported " + *missing);
  }
  return *engine_;
}

nb::object NativeConnection::execute_inline_or_queued(nb::handle sql, nb::handle parameters, const PortSource& port) {
  const std::string_view text = sql_view(sql, "the SQL statement");
  if (backend_->is_closed()) raise(ErrorKind::Programming, "Cannot operate on a closed database.");
  Params params = to_params(parameters);
  // Over the streak, queue_execute() finds the suspension owed.
  if (inline_reads_ && inline_streak().allows_another()) {
    auto result = run_inline(*backend_, text, params);
    inline_streak().work_ended();
    if (result) return nb::cast(ResultRows(std::move(*result)));
  }
  return queue_execute(port(), text, std::move(params));
}

bool NativeConnection::inside_own_user_function() const {
  return engine_ && connection_running_user_function() == engine_.get();
}

void NativeConnection::refuse_reentry() const {
  if (inside_own_user_function()) {
    raise(ErrorKind::Programming, "a user function can only run execute() on its own connection");
  }
}

template <typename Start>
nb::object NativeConnection::start(nb::handle port, Start&& start, std::string_view statement) {
  refuse_reentry();
  // Only a caller alone on the connection can expect its result at once, and
  // only within the streak: a result handed over without suspending counts
  // like inline work, or a task awaiting one quick statement after another
  // would never let the loop run anything else.
  // Never while user functions may need the interpreter lock this thread
  // holds: the worker would wait out the whole spin before calling one.
  const bool wait_briefly = backend_->can_hand_off(statement) && inline_streak().allows_another();
  if (!wait_briefly) inline_streak().suspending();
  nb::object future = start_with_handoff(port, backend_, [&](auto sink) {
    return std::pair{start(std::move(sink), 0), wait_briefly};
  });
  if (wait_briefly) inline_streak().work_ended();
  return future;
}

nb::object NativeConnection::execute(nb::handle port, nb::handle sql, nb::handle parameters) {
  const std::string_view text = sql_view(sql, "the SQL statement");
  Params params = to_params(parameters);
  if (port.is_none() && inside_own_user_function()) {
    QueryResult result;
    {
      nb::gil_scoped_release released;
      result = engine_->execute_nested(text, params);
    }
    return nb::cast(ResultRows(std::move(result)));
  }
  return queue_execute(port, text, std::move(params));
}

nb::object NativeConnection::queue_execute(nb::handle port, std::string_view text, Params params) {
  if (!port.is_none() && inline_streak().owes_suspension()) {
    // The caller must let the loop run other tasks now. A short read still
    // runs inline; its result arrives on the loop's next iteration, which is
    // all the suspension needs (no trip to the worker and back).
    inline_streak().suspending();
    if (inline_reads_) {
      if (auto result = run_inline(*backend_, text, params))
        return nb::cast<CompletionPort&>(port).after_a_turn(nb::cast(ResultRows(std::move(*result))));
    }
  }
  return start(
      port,
      [&](auto sink, auto tag) {
        return backend_->execute(std::string(text), std::move(params), std::move(sink), tag);
      },
      text);
}

nb::object NativeConnection::executemany(nb::handle port, nb::handle sql, nb::handle batch) {
  std::string text = sql_text(sql, "the SQL statement");
  auto converted = parameter_sets(batch);
  return start(port, [&](auto sink, auto tag) {
    return backend_->execute_many(std::move(text), std::move(converted), std::move(sink), tag);
  });
}

nb::object NativeConnection::executescript(nb::handle port, nb::handle script) {
  std::string text = sql_text(script, "the script");
  return start(port,
               [&](auto sink, auto tag) { return backend_->execute_script(std::move(text), std::move(sink), tag); });
}

std::vector<Params> parameter_sets(nb::handle batch) {
  std::vector<Params> converted;
  for (nb::handle parameters : batch) converted.push_back(to_params(parameters));
  return converted;
}

std::vector<std::pair<std::string, Params>> statement_pairs(nb::handle statements) {
  std::vector<std::pair<std::string, Params>> converted;
  for (nb::handle item : statements) {
    nb::tuple pair;
    if (!nb::try_cast(item, pair) || pair.size() < 1 || pair.size() > 2) {
      raise(ErrorKind::Programming, "executebatch() takes a sequence of (sql, parameters) pairs");
    }
    converted.emplace_back(sql_text(pair[0], "the SQL statement"), pair.size() == 2 ? to_params(pair[1]) : Params{});
  }
  return converted;
}

Secret secret_key(nb::handle key) {
  if (key.is_none()) return {};
  if (PyBytes_Check(key.ptr())) {
    return Secret(std::string(PyBytes_AS_STRING(key.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(key.ptr()))));
  }
  if (PyUnicode_Check(key.ptr())) return Secret(std::string(sql_view(key, "the encryption key")));
  throw nb::type_error("an encryption key must be str or bytes");
}

nb::object NativeConnection::rekey(nb::handle port, nb::handle key) {
  AsyncConnection& engine = this->engine(Capability::Rekey, "rekey()");
  refuse_reentry();
  Secret secret = secret_key(key);
  return start_operation(port, engine_,
                         [&](auto sink, auto tag) { engine.rekey(std::move(secret), std::move(sink), tag); });
}

nb::object NativeConnection::commit(nb::handle port) {
  return start(port, [&](auto sink, auto tag) { return backend_->commit(std::move(sink), tag); });
}

nb::object NativeConnection::rollback(nb::handle port) {
  return start(port, [&](auto sink, auto tag) { return backend_->rollback(std::move(sink), tag); });
}

nb::object NativeConnection::set_autocommit(nb::handle port, int autocommit) {
  refuse_reentry();
  const auto control = transaction_control(autocommit);
  return start_operation(
      port, backend_, [&](auto sink, auto tag) { backend_->set_transaction_control(control, std::move(sink), tag); });
}

nb::object NativeConnection::backup(nb::handle port, NativeConnection& target, std::string schema, int pages) {
  AsyncConnection& engine = this->engine(Capability::Backup, "backup()");
  target.engine(Capability::Backup, "backup() into this target");
  refuse_reentry();
  return start_operation(port, engine_, [&](auto sink, auto tag) {
    engine.backup_to(target.engine_, std::move(schema), pages, std::move(sink), tag);
  });
}

nb::object NativeConnection::create_function(nb::handle port, std::string name, int arg_count, nb::object callable,
                                             bool deterministic) {
  AsyncConnection& engine = this->engine(Capability::UserFunctions, "create_function()");
  refuse_reentry();
  if (!PyCallable_Check(callable.ptr())) throw nb::type_error("func must be callable");
  auto function = std::make_shared<PythonFunction>(std::move(callable), &engine);
  return start_operation(port, engine_, [&](auto sink, auto tag) {
    engine.create_function(std::move(name), arg_count, deterministic, std::move(function), std::move(sink), tag);
  });
}

nb::object NativeConnection::close(nb::handle port) {
  const auto started = InlineStreak::Clock::now();
  if (!port.is_none() && engine_ && !replica_ && !inside_own_user_function() && engine_->try_close_inline()) {
    return done_inline(port, started);
  }
  return start(port, [&](auto sink, auto tag) { return backend_->close(std::move(sink), tag); });
}

}  // namespace aiolibsql::py
