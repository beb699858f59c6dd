#include "native_remote_pool.hpp"

#include <utility>

#include "completion_port.hpp"
#include "errors.hpp"
#include "native_connection.hpp"
#include "shutdown.hpp"
#include "values.hpp"

namespace aiolibsql::py {

NativeRemotePool::NativeRemotePool(const std::string& url, nb::handle auth_token, double timeout, std::size_t size) {
  core_ = std::make_shared<remote::RemotePool>(remote_options(url, auth_token, timeout), size);
}

nb::object NativeRemotePool::open(nb::handle port) {
  return start_operation(port, core_, [&](auto sink, auto tag) { core_->open(std::move(sink), tag); });
}

nb::object NativeRemotePool::execute(nb::handle port, nb::handle sql, nb::handle parameters) {
  std::string text = sql_text(sql, "the SQL statement");
  Params params = to_params(parameters);
  return start_operation(port, core_, [&](auto sink, auto tag) {
    core_->execute(std::move(text), std::move(params), std::move(sink), tag);
  });
}

nb::object NativeRemotePool::executemany(nb::handle port, nb::handle sql, nb::handle batch) {
  std::string text = sql_text(sql, "the SQL statement");
  auto sets = parameter_sets(batch);
  return start_operation(port, core_, [&](auto sink, auto tag) {
    core_->execute_many(std::move(text), std::move(sets), std::move(sink), tag);
  });
}

nb::object NativeRemotePool::executebatch(nb::handle port, nb::handle statements) {
  auto converted = statement_pairs(statements);
  return start_operation(
      port, core_, [&](auto sink, auto tag) { core_->execute_atomically(std::move(converted), std::move(sink), tag); });
}

bool NativeRemotePool::goes_to_writer(nb::handle sql) {
  return remote::RemotePool::may_write(sql_view(sql, "the SQL statement"));
}

nb::object NativeRemotePool::close(nb::handle port) {
  return start_operation(port, core_, [&](auto sink, auto tag) { core_->close(std::move(sink), tag); });
}

nb::list NativeRemotePool::stats() const {
  nb::list streams;
  for (const auto& stream : core_->stats()) {
    nb::dict entry;
    entry["role"] = stream.pinned ? "pinned stream" : "stream";
    entry["queued"] = stream.queued;
    entry["completed"] = stream.completed;
    // The server commits each write; nothing is grouped here.
    entry["groups"] = 0;
    entry["grouped_operations"] = 0;
    entry["largest_group"] = 0;
    streams.append(entry);
  }
  return streams;
}

NativeRemotePinned NativeRemotePool::transaction() const { return {core_, remote::PinKind::Transaction}; }

NativeRemotePinned NativeRemotePool::snapshot() const { return {core_, remote::PinKind::Snapshot}; }

NativeRemotePinned::NativeRemotePinned(NativeRemotePinned&& other) noexcept
    : pool_(std::move(other.pool_)),
      kind_(other.kind_),
      stream_(std::exchange(other.stream_, -1)),
      ended_(std::exchange(other.ended_, true)) {}

NativeRemotePinned::~NativeRemotePinned() {
  if (pool_ && stream_ >= 0 && !ended_) pool_->unpin(stream_, false, nullptr, 0);
}

void NativeRemotePinned::require_active() const {
  if (stream_ < 0 || ended_) {
    raise(ErrorKind::Programming,
          kind_ == remote::PinKind::Transaction ? "the transaction is not active" : "the snapshot is not active");
  }
}

nb::object NativeRemotePinned::begin(nb::handle port) {
  if (stream_ >= 0) raise(ErrorKind::Programming, "this block has already begun");
  return start_operation(port, pool_, [&](auto sink, auto tag) { stream_ = pool_->pin(kind_, std::move(sink), tag); });
}

nb::object NativeRemotePinned::execute(nb::handle port, nb::handle sql, nb::handle parameters) {
  require_active();
  std::string text = sql_text(sql, "the SQL statement");
  Params params = to_params(parameters);
  return start_operation(port, pool_, [&](auto sink, auto tag) {
    pool_->pinned_execute(stream_, kind_, std::move(text), std::move(params), std::move(sink), tag);
  });
}

nb::object NativeRemotePinned::executemany(nb::handle port, nb::handle sql, nb::handle batch) {
  require_active();
  std::string text = sql_text(sql, "the SQL statement");
  auto converted = parameter_sets(batch);
  return start_operation(port, pool_, [&](auto sink, auto tag) {
    pool_->pinned_execute_many(stream_, std::move(text), std::move(converted), std::move(sink), tag);
  });
}

nb::object NativeRemotePinned::end(nb::handle port, bool commit) {
  require_active();
  ended_ = true;
  const bool commits = commit && kind_ == remote::PinKind::Transaction;
  return start_operation(port, pool_,
                         [&](auto sink, auto tag) { pool_->unpin(stream_, commits, std::move(sink), tag); });
}

}  // namespace aiolibsql::py
