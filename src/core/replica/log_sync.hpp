// A replica kept in step with sqld's replication log ("v1", what a
// self-hosted sqld serves). A new replica starts empty and pulls the log
// from its first frame, or a snapshot where the primary has compacted the
// log. Each answer's whole transactions go into the local WAL as one
// transaction, under the WAL's write lock, and only after checking the
// metadata file that every connection and process of the replica shares:
// no frame is ever applied twice. The protocol has no push: offline mode is
// refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "log_client.hpp"
#include "log_metadata.hpp"
#include "replica_sync.hpp"
#include "wal_access.hpp"

struct sqlite3;

namespace aiolibsql::replica {

class LogSync final : public ReplicaSync {
 public:
  // `lock_timeout`: how long a pull waits for another connection's.
  LogSync(std::string database, LogClient client, bool offline, std::chrono::milliseconds lock_timeout)
      : database_(std::move(database)), client_(std::move(client)), offline_(offline), patience_{lock_timeout} {}

  // A new replica shakes hands with the primary, to learn which log it follows.
  bool bootstrap() override;
  // No checkpoints, as over HTTP sync: the metadata's pending commit counts
  // the WAL's frames.
  void prepare(Connection& connection) override;
  std::uint64_t pull(Connection& connection) override;
  void watch_cancellation(const std::atomic<bool>* cancelled) noexcept override {
    client_.watch_cancellation(cancelled);
    patience_.cancelled = cancelled;
  }

 protected:
  SyncReport exchange(Connection& connection, bool push) override;

 private:
  // A session with the primary, on the log this replica follows; returns
  // the primary's last frame number, when it says.
  std::optional<std::uint64_t> shake_hands();
  // Applies `frames` (in the WAL's layout, the last a commit frame) as one
  // transaction covering log frames `first`..`last`. False, with nothing
  // applied, when the metadata file says another connection of the replica
  // has moved it since this one looked: the pull then goes on from there.
  bool apply(sqlite3* db, const std::string& frames, std::uint64_t first, std::uint64_t last);
  // The metadata file as it stands, its pending commit settled by the
  // WAL's `wal_frames`.
  LogMetadata current(std::uint32_t wal_frames) const;

  std::string database_;
  LogClient client_;
  bool offline_;
  WalPatience patience_;
  LogMetadata metadata_;
  // Whether metadata_ names a log: read from the file, or learnt by a handshake.
  bool follows_log_ = false;
  std::string session_token_;
};

}  // namespace aiolibsql::replica
