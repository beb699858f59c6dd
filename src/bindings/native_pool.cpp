#include "native_pool.hpp"

#include "completion_port.hpp"
#include "errors.hpp"
#include "native_connection.hpp"
#include "result_rows.hpp"
#include "shutdown.hpp"
#include "values.hpp"

namespace aiolibsql::py {

NativePool::NativePool(nb::bytes database, bool uri, std::size_t size, double timeout,
                       std::vector<std::string> setup_statements, std::size_t largest_group,
                       double group_gather_seconds, std::size_t cached_statements, bool inline_reads,
                       nb::handle encryption_key, std::string cipher)
    : inline_reads_(inline_reads) {
  PoolOptions options;
  options.database.assign(database.c_str(), database.size());
  options.uri = uri;
  options.size = size;
  options.timeout_seconds = timeout;
  options.setup_statements = std::move(setup_statements);
  options.largest_group = largest_group;
  options.group_gather = std::chrono::microseconds(static_cast<std::int64_t>(group_gather_seconds * 1e6));
  options.cached_statements = cached_statements;
  options.encryption_key = secret_key(encryption_key);
  options.cipher = std::move(cipher);
  core_ = std::make_shared<Pool>(std::move(options));
  close_at_exit(core_);
}

NativePool::~NativePool() {
  nb::gil_scoped_release released;
  core_.reset();
}

nb::object NativePool::open(nb::handle port) {
  return start_operation(port, core_, [&](auto sink, auto tag) { core_->open(std::move(sink), tag); });
}

nb::object NativePool::execute(nb::handle port, nb::handle sql, nb::handle parameters) {
  const Route route = core_->route(sql_view(sql, "the SQL statement"));
  Params params = to_params(parameters);
  if (inline_reads_ && !port.is_none() && streak_.allows_another()) {
    if (auto result = run_inline(*core_, route, params)) {
      return nb::cast<CompletionPort&>(port).finished(nb::cast(ResultRows(std::move(*result))));
    }
  }
  streak_.suspending();
  return start_operation(port, core_,
                         [&](auto sink, auto tag) { core_->execute(route, std::move(params), std::move(sink), tag); });
}

nb::object NativePool::executemany(nb::handle port, nb::handle sql, nb::handle batch) {
  std::string text = sql_text(sql, "the SQL statement");
  auto converted = parameter_sets(batch);
  return start_operation(port, core_, [&](auto sink, auto tag) {
    core_->execute_many(std::move(text), std::move(converted), std::move(sink), tag);
  });
}

nb::object NativePool::executebatch(nb::handle port, nb::handle statements) {
  auto converted = statement_pairs(statements);
  return start_operation(
      port, core_, [&](auto sink, auto tag) { core_->execute_batch(std::move(converted), std::move(sink), tag); });
}

bool NativePool::goes_to_writer(nb::handle sql) {
  const Route route = core_->route(sql_view(sql, "the SQL statement"));
  return !route.readonly && !route.transaction_control && !route.changes_connection;
}

nb::object NativePool::close(nb::handle port) {
  return start_operation(port, core_, [&](auto sink, auto tag) { core_->close(std::move(sink), tag); });
}

nb::list NativePool::stats() const {
  nb::list connections;
  for (const auto& connection : core_->stats()) {
    nb::dict entry;
    entry["role"] = connection.writer ? "writer" : "reader";
    entry["queued"] = connection.executor.queued;
    entry["completed"] = connection.executor.completed;
    entry["groups"] = connection.executor.groups;
    entry["grouped_operations"] = connection.executor.grouped_operations;
    entry["largest_group"] = connection.executor.largest_group;
    connections.append(entry);
  }
  return connections;
}

NativeTransaction::~NativeTransaction() {
  if (id_ != 0 && !ended_) pool_->end_transaction(id_, false, nullptr, 0);
}

nb::object NativeTransaction::begin(nb::handle port) {
  if (id_ != 0) raise(ErrorKind::Programming, "this transaction has already begun");
  return start_operation(port, pool_,
                         [&](auto sink, auto tag) { id_ = pool_->begin_transaction(std::move(sink), tag); });
}

nb::object NativeTransaction::execute(nb::handle port, nb::handle sql, nb::handle parameters) {
  if (id_ == 0 || ended_) raise(ErrorKind::Programming, "the transaction is not active");
  std::string text = sql_text(sql, "the SQL statement");
  Params params = to_params(parameters);
  return start_operation(port, pool_, [&](auto sink, auto tag) {
    pool_->transaction_execute(id_, std::move(text), std::move(params), std::move(sink), tag);
  });
}

nb::object NativeTransaction::executemany(nb::handle port, nb::handle sql, nb::handle batch) {
  if (id_ == 0 || ended_) raise(ErrorKind::Programming, "the transaction is not active");
  std::string text = sql_text(sql, "the SQL statement");
  auto converted = parameter_sets(batch);
  return start_operation(port, pool_, [&](auto sink, auto tag) {
    pool_->transaction_execute_many(id_, std::move(text), std::move(converted), std::move(sink), tag);
  });
}

nb::object NativeTransaction::end(nb::handle port, bool commit) {
  if (id_ == 0 || ended_) raise(ErrorKind::Programming, "the transaction is not active");
  ended_ = true;
  return start_operation(port, pool_,
                         [&](auto sink, auto tag) { pool_->end_transaction(id_, commit, std::move(sink), tag); });
}

NativeSnapshot::~NativeSnapshot() {
  if (reader_ >= 0 && !ended_) pool_->end_snapshot(reader_, nullptr, 0);
}

nb::object NativeSnapshot::begin(nb::handle port) {
  if (reader_ >= 0) raise(ErrorKind::Programming, "this snapshot has already begun");
  return start_operation(port, pool_,
                         [&](auto sink, auto tag) { reader_ = pool_->begin_snapshot(std::move(sink), tag); });
}

nb::object NativeSnapshot::execute(nb::handle port, nb::handle sql, nb::handle parameters) {
  if (reader_ < 0 || ended_) raise(ErrorKind::Programming, "the snapshot is not active");
  std::string text = sql_text(sql, "the SQL statement");
  Params params = to_params(parameters);
  return start_operation(port, pool_, [&](auto sink, auto tag) {
    pool_->snapshot_execute(reader_, std::move(text), std::move(params), std::move(sink), tag);
  });
}

nb::object NativeSnapshot::end(nb::handle port) {
  if (reader_ < 0 || ended_) raise(ErrorKind::Programming, "the snapshot is not active");
  ended_ = true;
  return start_operation(port, pool_, [&](auto sink, auto tag) { pool_->end_snapshot(reader_, std::move(sink), tag); });
}

}  // namespace aiolibsql::py
