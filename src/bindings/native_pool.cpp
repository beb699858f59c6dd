#include "native_pool.hpp"

#include <nanobind/stl/string.h>

#include <cmath>
#include <utility>

#include "completion_port.hpp"
#include "errors.hpp"
#include "let_go.hpp"
#include "native_connection.hpp"
#include "pool/pool.hpp"
#include "remote_pool.hpp"
#include "result_rows.hpp"
#include "shutdown.hpp"
#include "values.hpp"

namespace aiolibsql::py {

NativePool NativePool::local(nb::bytes database, bool uri, std::size_t size, double timeout,
                             std::vector<std::string> setup_statements, std::size_t largest_group,
                             double group_gather_seconds, std::size_t cached_statements, bool inline_reads,
                             nb::handle encryption_key, std::string cipher) {
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
  auto pool = std::make_shared<Pool>(std::move(options));
  close_at_exit(pool);
  return NativePool(std::move(pool), inline_reads, false);
}

NativePool NativePool::remote(const std::string& url, nb::handle auth_token, double timeout, std::size_t size) {
  return NativePool(std::make_shared<remote::RemotePool>(remote_options(url, auth_token, timeout), size), false, true);
}

NativePool NativePool::replica(nb::bytes database, const std::string& sync_url, nb::handle auth_token,
                               const std::string& protocol, std::size_t size, double timeout,
                               std::vector<std::string> setup_statements, std::size_t cached_statements,
                               bool inline_reads, std::optional<double> sync_interval) {
  PoolOptions options;
  options.database.assign(database.c_str(), database.size());
  options.size = size;
  options.timeout_seconds = timeout;
  options.setup_statements = std::move(setup_statements);
  options.cached_statements = cached_statements;
  std::optional<std::chrono::milliseconds> interval;
  if (sync_interval)
    interval = std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(*sync_interval * 1000.0)));
  auto pool = std::make_shared<replica::ReplicaPool>(std::move(options), remote_options(sync_url, auth_token, timeout),
                                                     sync_protocol(protocol), size, interval);
  close_at_exit(pool->local());
  return NativePool(pool, inline_reads, false, pool);
}

nb::object NativePool::sync(nb::handle port) {
  if (!replica_) raise(ErrorKind::NotSupported, "sync() is for pools on embedded replicas: create_pool(sync_url=...)");
  return start_operation(port, core_, [&](auto sink, auto tag) { replica_->sync(std::move(sink), tag); });
}

NativePool::~NativePool() {
  // Destroying a local pool joins its workers.
  nb::gil_scoped_release released;
  replica_.reset();
  let_go(std::move(core_));
}

nb::object NativePool::open(nb::handle port) {
  return start_operation(port, core_, [&](auto sink, auto tag) { core_->open(std::move(sink), tag); });
}

std::optional<ResultRows> NativePool::try_inline(const Route& route, Params& params) {
  if (!inline_reads_ || route.writes() || !inline_streak().allows_another()) return std::nullopt;
  auto result = run_inline(*core_, route, params);
  inline_streak().work_ended();
  if (!result) return std::nullopt;
  return ResultRows(std::move(*result));
}

nb::object NativePool::queue_execute(nb::handle port, const Route& route, Params params) {
  inline_streak().suspending();
  return start_operation(port, core_,
                         [&](auto sink, auto tag) { core_->execute(route, std::move(params), std::move(sink), tag); });
}

nb::object NativePool::execute_inline_or_queued(nb::handle sql, nb::handle parameters, const PortSource& port) {
  if (core_->is_closed()) raise(ErrorKind::Programming, "Cannot operate on a closed pool.");
  const Route route = core_->route(sql_view(sql, "the SQL statement"));
  Params params = to_params(parameters);
  if (auto rows = try_inline(route, params)) return nb::cast(std::move(*rows));
  return queue_execute(port(), route, std::move(params));
}

nb::object NativePool::execute(nb::handle port, nb::handle sql, nb::handle parameters) {
  const Route route = core_->route(sql_view(sql, "the SQL statement"));
  Params params = to_params(parameters);
  if (!port.is_none()) {
    if (auto rows = try_inline(route, params)) {
      return nb::cast<CompletionPort&>(port).finished(nb::cast(std::move(*rows)));
    }
  }
  return queue_execute(port, route, std::move(params));
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

bool NativePool::goes_to_writer(nb::handle sql) { return core_->route(sql_view(sql, "the SQL statement")).writes(); }

nb::object NativePool::close(nb::handle port) {
  return start_operation(port, core_, [&](auto sink, auto tag) { core_->close(std::move(sink), tag); });
}

nb::list NativePool::stats() const {
  nb::list members;
  for (const auto& member : core_->stats()) {
    nb::dict entry;
    entry["role"] = member.role;
    entry["queued"] = member.queued;
    entry["completed"] = member.completed;
    entry["groups"] = member.groups;
    entry["grouped_operations"] = member.grouped_operations;
    entry["largest_group"] = member.largest_group;
    members.append(entry);
  }
  return members;
}

NativePinned NativePool::transaction() const { return {core_, PinKind::Transaction}; }

NativePinned NativePool::snapshot() const { return {core_, PinKind::Snapshot}; }

NativePinned::NativePinned(NativePinned&& other) noexcept
    : pool_(std::move(other.pool_)),
      kind_(other.kind_),
      pin_(std::exchange(other.pin_, -1)),
      ended_(std::exchange(other.ended_, true)) {}

NativePinned::~NativePinned() {
  if (pool_ && pin_ >= 0 && !ended_) pool_->unpin(pin_, kind_, false, nullptr, 0);
}

void NativePinned::require_active() const {
  if (pin_ < 0 || ended_) {
    raise(ErrorKind::Programming,
          kind_ == PinKind::Transaction ? "the transaction is not active" : "the snapshot is not active");
  }
}

nb::object NativePinned::begin(nb::handle port) {
  if (pin_ >= 0) {
    raise(ErrorKind::Programming,
          kind_ == PinKind::Transaction ? "this transaction has already begun" : "this snapshot has already begun");
  }
  return start_operation(port, pool_, [&](auto sink, auto tag) { pin_ = pool_->pin(kind_, std::move(sink), tag); });
}

nb::object NativePinned::execute(nb::handle port, nb::handle sql, nb::handle parameters) {
  require_active();
  std::string text = sql_text(sql, "the SQL statement");
  Params params = to_params(parameters);
  return start_operation(port, pool_, [&](auto sink, auto tag) {
    pool_->pinned_execute(pin_, kind_, std::move(text), std::move(params), std::move(sink), tag);
  });
}

nb::object NativePinned::executemany(nb::handle port, nb::handle sql, nb::handle batch) {
  require_active();
  if (kind_ != PinKind::Transaction) raise(ErrorKind::Programming, "a snapshot only reads: executemany() writes");
  std::string text = sql_text(sql, "the SQL statement");
  auto converted = parameter_sets(batch);
  return start_operation(port, pool_, [&](auto sink, auto tag) {
    pool_->pinned_execute_many(pin_, std::move(text), std::move(converted), std::move(sink), tag);
  });
}

nb::object NativePinned::end(nb::handle port, bool commit) {
  require_active();
  ended_ = true;
  return start_operation(port, pool_,
                         [&](auto sink, auto tag) { pool_->unpin(pin_, kind_, commit, std::move(sink), tag); });
}

}  // namespace aiolibsql::py
