// A replica kept in step with sqld's replication log ("v1", what a
// self-hosted sqld serves). A new replica starts empty and pulls the log
// from its first frame, or a snapshot where the primary has compacted the
// log; the local WAL takes the frames a transaction at a time, numbered its
// own way, so it may be checkpointed. The protocol has no push: offline mode
// is refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

struct sqlite3;

#include "log_client.hpp"
#include "log_metadata.hpp"
#include "replica_sync.hpp"

namespace aiolibsql::replica {

class LogSync final : public ReplicaSync {
 public:
  LogSync(std::string database, LogClient client, bool offline)
      : database_(std::move(database)), client_(std::move(client)), offline_(offline) {}

  // A new replica shakes hands with the primary, to learn which log it follows.
  bool bootstrap() override;
  void prepare(Connection& connection) override;
  std::uint64_t pull(Connection& connection) override;
  void watch_cancellation(const std::atomic<bool>* cancelled) noexcept override {
    client_.watch_cancellation(cancelled);
  }

 protected:
  SyncReport exchange(Connection& connection, bool push) override;

 private:
  // A session with the primary, on the log this replica follows.
  void shake_hands();
  // Applies a snapshot from the frame after the last committed one.
  std::uint64_t pull_snapshot(sqlite3* db);
  void commit(std::uint64_t frame);
  // The frame after the last committed one.
  std::uint64_t next_frame() const;

  std::string database_;
  LogClient client_;
  bool offline_;
  LogMetadata metadata_;
  // Whether metadata_ names a log: read from the file, or learnt by a handshake.
  bool follows_log_ = false;
  std::string session_token_;
};

}  // namespace aiolibsql::replica
