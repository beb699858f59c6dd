// A replica kept in step over libSQL's HTTP sync protocol ("v2", what
// Turso serves): made from the primary's export, its local WAL mirrors the
// primary's frames of the current generation (local frame k is the
// primary's frame k), so pulled frames are appended as they come and, in
// offline mode, local frames are pushed as they are.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "replica_sync.hpp"
#include "sync_client.hpp"
#include "sync_metadata.hpp"
#include "wal_access.hpp"

namespace aiolibsql::replica {

class HttpSync final : public ReplicaSync {
 public:
  // `generation`: the primary's current one, when the caller has just asked.
  // `lock_timeout`: how long a pull waits for another connection's.
  HttpSync(std::string database, SyncClient client, std::chrono::milliseconds lock_timeout,
           std::optional<std::uint32_t> generation = std::nullopt)
      : database_(std::move(database)),
        client_(std::move(client)),
        patience_{lock_timeout},
        known_generation_(generation) {}

  // A new replica is made from the primary's export.
  bool bootstrap() override;
  // No checkpoints, and none allowed: frame numbers must keep matching the
  // primary's.
  void prepare(Connection& connection) override;
  std::uint64_t pull(Connection& connection) override;
  void watch_cancellation(const std::atomic<bool>* cancelled) noexcept override {
    client_.watch_cancellation(cancelled);
    patience_.cancelled = cancelled;
  }

 protected:
  SyncReport exchange(Connection& connection, bool push) override;

 private:
  std::uint64_t push(Connection& connection);
  void save(SyncMetadata metadata);

  std::string database_;
  SyncClient client_;
  WalPatience patience_;
  SyncMetadata metadata_;
  std::optional<std::uint32_t> known_generation_;
};

}  // namespace aiolibsql::replica
