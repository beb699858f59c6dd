#include "http_sync.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>

#include "error.hpp"
#include "log_metadata.hpp"
#include "wal_access.hpp"

namespace aiolibsql::replica {

bool HttpSync::bootstrap() {
  const std::string info_path = metadata_path(database_);
  const auto metadata = read_sync_metadata(info_path);
  if (replica_exists(database_, info_path, metadata.has_value(), log_metadata_path(database_),
                     "sqld's replication log (sync_protocol='v1')")) {
    metadata_ = *metadata;
    return false;
  }
  const std::uint32_t generation = known_generation_ ? *known_generation_ : client_.current_generation();
  client_.export_database(generation, database_);
  save(SyncMetadata{generation, 0});
  return true;
}

void HttpSync::prepare(Connection& connection) {
  prepare_replica_wal(connection);
  disable_checkpoints(connection.handle());
  refuse_wal_changes(connection.handle());
  const std::uint32_t frames = wal_frame_count(connection.handle());
  if (frames < metadata_.durable_frame) {
    fail_sync("the replica's WAL holds " + std::to_string(frames) + " frames but its metadata says " +
              std::to_string(metadata_.durable_frame) + " were pulled: the replica is damaged; make a new one");
  }
}

void HttpSync::save(SyncMetadata metadata) {
  write_sync_metadata(metadata_path(database_), metadata);
  metadata_ = metadata;
}

SyncReport HttpSync::exchange(Connection& connection, bool push) {
  SyncReport report;
  if (push) report.frames_pushed = this->push(connection);
  report.frames_pulled = pull(connection);
  report.generation = metadata_.generation;
  report.frame = metadata_.durable_frame;
  return report;
}

std::uint64_t HttpSync::pull(Connection& connection) {
  sqlite3* db = connection.handle();
  std::uint64_t pulled = 0;
  SyncMetadata progress = metadata_;
  WalInserter inserter(db, patience_);
  std::uint32_t next = progress.durable_frame + 1;
  while (true) {
    const Pulled answer = client_.pull(progress.generation, next, next + kFramesPerRequest);
    if (answer.frames.empty()) {
      if (answer.current_generation <= progress.generation) break;
      if (next != progress.durable_frame + 1) fail_sync("the primary ended its generation inside a transaction");
      if (wal_frame_count(db) > progress.durable_frame) {
        fail_sync("the primary has started a new generation while this replica holds frames it has not pushed");
      }
      // The primary's next generation starts from where this one ends.
      checkpoint_into_database(db);
      progress = SyncMetadata{progress.generation + 1, 0};
      save(progress);
      next = 1;
      continue;
    }
    for (const FrameView& frame : split_frames(answer.frames)) {
      if (inserter.insert(next, frame)) progress.durable_frame = next;
      ++next;
      ++pulled;
    }
    // Only whole transactions count; the WAL holds them (synchronous = FULL).
    if (progress.durable_frame != metadata_.durable_frame) save(progress);
  }
  return pulled;
}

std::uint64_t HttpSync::push(Connection& connection) {
  sqlite3* db = connection.handle();
  const std::uint32_t last = wal_frame_count(db);
  if (last < metadata_.durable_frame) {
    fail_sync("the replica's WAL holds " + std::to_string(last) + " frames but its metadata says " +
              std::to_string(metadata_.durable_frame) + " are the primary's: the WAL was emptied behind the replica");
  }
  std::uint64_t pushed = 0;
  std::string baton;
  std::uint32_t start = metadata_.durable_frame + 1;
  // The primary keeps a transaction's frames only once its commit frame
  // arrives: until then they hang on the baton, and are lost with it.
  std::uint32_t last_commit = metadata_.durable_frame;
  bool resent = false;
  while (start <= last) {
    const std::uint32_t end = std::min(last + 1, start + kFramesPerRequest);
    std::string frames;
    frames.reserve(static_cast<std::size_t>(end - start) * kFrameSize);
    std::uint32_t commit_in_batch = 0;
    for (std::uint32_t number = start; number < end; ++number) {
      std::string frame = wal_frame(db, number);
      // A commit frame carries the database's size after it (bytes 4 to 7).
      if (frame.find_first_not_of('\0', 4) < 8) commit_in_batch = number;
      frames += frame;
    }
    const Pushed answer = client_.push(metadata_.generation, start, end, baton, std::move(frames));
    if (answer.conflict) {
      fail_sync("the primary has changes this replica does not have (a conflict at frame " + std::to_string(start) +
                "): the local changes are kept but cannot be pushed");
    }
    if (answer.max_frame >= end || answer.generation != metadata_.generation) {
      fail_sync("the primary's answer to a push does not match what was pushed");
    }
    if (answer.max_frame + 1 < end) {
      // The primary lacks frames before these: once, send again from there.
      if (resent || answer.max_frame < metadata_.durable_frame) {
        fail_sync("the primary keeps refusing this replica's frames");
      }
      resent = true;
      start = answer.max_frame + 1;
      baton.clear();
      continue;
    }
    pushed += end - start;
    baton = answer.baton;
    start = end;
    if (commit_in_batch != 0) last_commit = commit_in_batch;
  }
  if (last_commit != metadata_.durable_frame) save(SyncMetadata{metadata_.generation, last_commit});
  return pushed;
}

}  // namespace aiolibsql::replica
