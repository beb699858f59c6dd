// What keeps one replica's local file in step with its primary: bootstrap
// from the primary's export, pull its frames into the local WAL a
// transaction at a time, push the frames written locally (offline mode),
// and record how far it got in the metadata file. Every call runs on the
// thread that holds the local connection (its worker).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "connection.hpp"
#include "sync_client.hpp"
#include "sync_metadata.hpp"

namespace aiolibsql::replica {

struct SyncReport {
  std::uint64_t frames_pulled = 0;
  std::uint64_t frames_pushed = 0;
  std::uint32_t generation = 0;
  // The last frame of `generation` the replica holds.
  std::uint32_t frame = 0;
};

// What sync() completes with: one row of frames_pulled, frames_pushed,
// generation and frame.
QueryResult sync_result(const SyncReport& report);

// Not thread-safe: every pull and push of a replica goes through its
// CatchUp, which serialises them.
class ReplicaSync {
 public:
  ReplicaSync(std::string database, SyncClient client) : database_(std::move(database)), client_(std::move(client)) {}

  // Before the local file is opened: a replica whose files are both missing
  // is made from the primary's export (true); one whose files are both there
  // is used as it is, without the network (false); one with only one of
  // them is refused.
  bool bootstrap();
  // After it is opened: WAL mode, commits synced, no checkpoints (the local
  // WAL mirrors the primary's frames).
  void prepare(Connection& connection);
  // Pushes the local frames the primary lacks (offline mode), then pulls
  // the primary's new frames.
  SyncReport sync(Connection& connection, bool push);
  // Frames pulled, into the local WAL.
  std::uint64_t pull(Connection& connection);

  void watch_cancellation(const std::atomic<bool>* cancelled) noexcept { client_.watch_cancellation(cancelled); }

 private:
  std::uint64_t push(Connection& connection);
  void save(SyncMetadata metadata);

  std::string database_;
  SyncClient client_;
  SyncMetadata metadata_;
};

}  // namespace aiolibsql::replica
