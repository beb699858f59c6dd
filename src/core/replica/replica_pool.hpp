// A pool on an embedded replica: its readers (and inline reads) on the local
// file, its writes, transactions and atomic batches on the primary through
// a remote pool, and one sync for the whole pool. A read first pulls what
// the pool's own writes changed (CatchUp), so every task reads the writes
// that returned before it. A snapshot pins a local reader once the replica
// has caught up; while it is behind, a snapshot runs on the primary.
#pragma once

#include <memory>
#include <mutex>
#include <optional>

#include "background_sync.hpp"
#include "catch_up.hpp"
#include "pool/pool.hpp"
#include "pool_backend.hpp"
#include "remote_pool.hpp"
#include "replica_sync.hpp"
#include "sync_protocol.hpp"

namespace aiolibsql::replica {

class ReplicaPool final : public std::enable_shared_from_this<ReplicaPool>, public PoolBackend {
 public:
  // `local.database` is the replica's file; `streams` connections to the primary.
  ReplicaPool(PoolOptions local, remote::RemoteOptions primary, SyncProtocol protocol, std::size_t streams,
              std::optional<std::chrono::milliseconds> sync_interval);
  ReplicaPool(const ReplicaPool&) = delete;
  ReplicaPool& operator=(const ReplicaPool&) = delete;

  // Makes a new replica (and pulls), opens the
  // local pool, then reaches the primary.
  void open(Sink sink, std::uintptr_t tag) override;
  Route route(std::string_view sql) override { return local_->route(sql); }
  void execute(const Route& route, Params params, Sink sink, std::uintptr_t tag) override;
  std::optional<QueryResult> try_execute_inline(const Route& route, Params& params) override;
  void execute_many(std::string sql, std::vector<Params> batch, Sink sink, std::uintptr_t tag) override;
  void execute_batch(std::vector<std::pair<std::string, Params>> statements, Sink sink, std::uintptr_t tag) override;
  std::int64_t pin(PinKind kind, Sink sink, std::uintptr_t tag) override;
  void pinned_execute(std::int64_t pin, PinKind kind, std::string sql, Params params, Sink sink,
                      std::uintptr_t tag) override;
  void pinned_execute_many(std::int64_t pin, std::string sql, std::vector<Params> batch, Sink sink,
                           std::uintptr_t tag) override;
  void unpin(std::int64_t pin, PinKind kind, bool commit, Sink sink, std::uintptr_t tag) override;
  void close(Sink sink, std::uintptr_t tag) override;
  bool is_closed() const override { return local_->is_closed(); }
  bool cancel(std::uintptr_t tag) override { return local_->cancel(tag) || primary_->cancel(tag); }
  std::size_t size() const noexcept override { return local_->size(); }
  std::size_t reader_count() const noexcept override { return local_->reader_count(); }
  std::vector<PoolMemberStats> stats() const override;
  // Pulls (see ReplicaConnection::sync); completes with the same one row.
  void sync(Sink sink, std::uintptr_t tag);

  // The local pool, for what only it offers (process-exit handling).
  const std::shared_ptr<Pool>& local() const noexcept { return local_; }

 private:
  // A sink that counts a write on the primary, then completes into `sink`.
  Sink counting_write(Sink sink);
  // Pulls on the local writer, then completes into `then`.
  void pull_then(Sink then, std::uintptr_t tag);
  void sync_on_writer(Sink sink, std::uintptr_t tag);
  void start_background_sync();

  std::shared_ptr<ReplicaSync> sync_;
  std::shared_ptr<CatchUp> catch_up_ = std::make_shared<CatchUp>();
  std::shared_ptr<bool> made_ = std::make_shared<bool>(false);
  std::shared_ptr<Pool> local_;
  std::shared_ptr<remote::RemotePool> primary_;
  std::optional<std::chrono::milliseconds> sync_interval_;
  // The process generation (see fork_generation()) the pool was made in.
  std::uint64_t generation_;
  std::mutex mutex_;
  std::unique_ptr<BackgroundSync> background_;
  bool closed_ = false;
};

}  // namespace aiolibsql::replica
