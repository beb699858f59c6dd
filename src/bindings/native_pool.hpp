// The Python-facing handles of a connection pool, whatever its backend (a
// local file's writer and readers, or streams to a remote database), and of
// the transactions and snapshots that pin one of its members. Like
// NativeConnection, every operation takes a CompletionPort or None.
#pragma once

#include <nanobind/nanobind.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "native_connection.hpp"
#include "pool_backend.hpp"
#include "replica_pool.hpp"
#include "result_rows.hpp"

namespace aiolibsql::py {

namespace nb = nanobind;

class NativePinned;

class NativePool {
 public:
  static NativePool local(nb::bytes database, bool uri, std::size_t size, double timeout,
                          std::vector<std::string> setup_statements, std::size_t largest_group,
                          double group_gather_seconds, std::size_t cached_statements, bool inline_reads,
                          nb::handle encryption_key, std::string cipher);
  // InterfaceError for a URL that is not a remote database's.
  static NativePool remote(const std::string& url, nb::handle auth_token, double timeout, std::size_t size);
  // Readers on the embedded replica in `database`, writes to the primary at `sync_url`.
  static NativePool replica(nb::bytes database, const std::string& sync_url, nb::handle auth_token,
                            const std::string& protocol, std::size_t size, double timeout,
                            std::vector<std::string> setup_statements, std::size_t cached_statements, bool inline_reads,
                            std::optional<double> sync_interval);
  NativePool(NativePool&&) noexcept = default;
  NativePool& operator=(NativePool&&) = delete;
  ~NativePool();

  nb::object open(nb::handle port);
  // The fast path of an awaited execute(), as NativeConnection's: a short
  // read runs inline on an idle reader and its ResultRows are returned;
  // anything else is queued, on the port `port` gives, and its future returned.
  nb::object execute_inline_or_queued(nb::handle sql, nb::handle parameters, const PortSource& port);
  // Runs a short read inline on an idle reader and returns its rows in a
  // finished future; anything else is queued and its pending future returned.
  nb::object execute(nb::handle port, nb::handle sql, nb::handle parameters);
  nb::object executemany(nb::handle port, nb::handle sql, nb::handle batch);
  nb::object executebatch(nb::handle port, nb::handle statements);
  // Whether `sql` writes: inside the caller's own transaction block, a task
  // awaiting it would wait for its own transaction to end.
  bool goes_to_writer(nb::handle sql);
  nb::object close(nb::handle port);
  // A replica pool's sync with its primary; NotSupportedError otherwise.
  nb::object sync(nb::handle port);
  nb::list stats() const;
  NativePinned transaction() const;
  NativePinned snapshot() const;
  std::size_t size() const noexcept { return core_->size(); }
  std::size_t reader_count() const noexcept { return core_->reader_count(); }
  bool closed() const { return core_->is_closed(); }
  bool is_remote() const noexcept { return remote_; }
  bool is_replica() const noexcept { return replica_ != nullptr; }

 private:
  // A statement routed and its parameters converted: its rows when it ran
  // inline on an idle reader, or nullopt.
  std::optional<ResultRows> try_inline(const Route& route, Params& params);
  nb::object queue_execute(nb::handle port, const Route& route, Params params);

  NativePool(std::shared_ptr<PoolBackend> core, bool inline_reads, bool remote,
             std::shared_ptr<replica::ReplicaPool> replica = nullptr)
      : core_(std::move(core)), replica_(std::move(replica)), inline_reads_(inline_reads), remote_(remote) {}

  std::shared_ptr<PoolBackend> core_;
  // The same pool when it is on an embedded replica; null otherwise.
  std::shared_ptr<replica::ReplicaPool> replica_;
  bool inline_reads_;
  bool remote_;
};

// A transaction or snapshot on one pinned member of a pool. Dropped without
// an end, it rolls back and frees the member, so a forgotten transaction
// cannot hold the writer forever.
class NativePinned {
 public:
  NativePinned(std::shared_ptr<PoolBackend> pool, PinKind kind) : pool_(std::move(pool)), kind_(kind) {}
  NativePinned(NativePinned&& other) noexcept;
  NativePinned(const NativePinned&) = delete;
  NativePinned& operator=(const NativePinned&) = delete;
  NativePinned& operator=(NativePinned&&) = delete;
  ~NativePinned();

  nb::object begin(nb::handle port);
  nb::object execute(nb::handle port, nb::handle sql, nb::handle parameters);
  // Transactions only.
  nb::object executemany(nb::handle port, nb::handle sql, nb::handle batch);
  // A snapshot always rolls back.
  nb::object end(nb::handle port, bool commit);

 private:
  void require_active() const;

  std::shared_ptr<PoolBackend> pool_;
  PinKind kind_;
  std::int64_t pin_ = -1;
  bool ended_ = false;
};

}  // namespace aiolibsql::py
