// What keeps one replica's local file in step with its primary, whichever
// sync protocol the primary speaks: make the replica when it is new, pull
// the primary's frames into the local WAL a transaction at a time, push the
// frames written locally where the protocol can (offline mode), and record
// how far it got in the metadata file beside the database. Every call runs
// on the thread that holds the local connection (its worker).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "connection.hpp"

namespace aiolibsql::replica {

struct SyncReport {
  std::uint64_t frames_pulled = 0;
  std::uint64_t frames_pushed = 0;
  // The primary's generation (HTTP sync only).
  std::optional<std::uint32_t> generation;
  // The last frame the replica holds: of `generation`, or of the primary's log.
  std::uint64_t frame = 0;
};

// What sync() completes with: one row of frames_pulled, frames_pushed,
// generation and frame.
QueryResult sync_result(const SyncReport& report);

// Not thread-safe: every pull and push of a replica goes through its
// CatchUp, which serialises them.
class ReplicaSync {
 public:
  virtual ~ReplicaSync() = default;

  // Before the local file is opened: a replica whose files are both missing
  // is made (true); one whose files are both there is used as it is,
  // without the network (false); one with only one of them is refused.
  virtual bool bootstrap() = 0;
  // After it is opened: WAL mode, commits synced, and what the protocol
  // needs of the WAL.
  virtual void prepare(Connection& connection) = 0;
  // Pushes the local frames the primary lacks (offline mode), then pulls
  // the primary's new frames.
  SyncReport sync(Connection& connection, bool push);
  // Frames pulled, into the local WAL.
  virtual std::uint64_t pull(Connection& connection) = 0;

  virtual void watch_cancellation(const std::atomic<bool>* cancelled) noexcept = 0;

 protected:
  // sync() outside any transaction of `connection`.
  virtual SyncReport exchange(Connection& connection, bool push) = 0;
};

// The bootstrap() rule for a database and its metadata file: true when both
// exist, false when neither does; DbError for one without the other, which
// names the other protocol when its metadata file is there instead.
bool replica_exists(const std::string& database, const std::string& metadata_path, bool metadata_exists,
                    const std::string& other_protocols_metadata, const char* other_protocol);
// WAL mode, and a pulled transaction acknowledged in the metadata only once
// it is on disk: the WAL is never behind what the metadata says it holds.
void prepare_replica_wal(Connection& connection);
void run_sql(Connection& connection, std::string_view sql);
[[noreturn]] void fail_sync(const std::string& message);

}  // namespace aiolibsql::replica
