#include "log_sync.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <string_view>

#include "error.hpp"
#include "log_frames.hpp"
#include "sync_metadata.hpp"
#include "wal_access.hpp"
#include "wal_frames.hpp"

namespace aiolibsql::replica {

namespace {

// A session may end between two requests when the primary restarts; one
// that ends again right after a new handshake is a fault.
constexpr int kHandshakesPerPull = 2;
// A primary that asks for a snapshot again right after sending one is faulty.
constexpr int kSnapshotsPerPull = 2;

std::uint32_t big_endian(std::string_view bytes) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

// Whole transactions (WAL layout) as one, which readers see only whole: the
// last commit frame ends it, the others become plain frames, and frames of
// pages past the database's final size (it shrank on the way) are dropped.
std::string as_one_transaction(std::string_view frames) {
  const std::uint32_t final_size = big_endian(frames.substr(frames.size() - kFrameSize + 4, 4));
  std::string transaction;
  transaction.reserve(frames.size());
  for (std::size_t offset = 0; offset < frames.size(); offset += kFrameSize) {
    const std::string_view frame = frames.substr(offset, kFrameSize);
    const bool last = offset + kFrameSize == frames.size();
    if (!last && big_endian(frame) > final_size) continue;
    transaction.append(frame);
    if (!last) std::fill_n(transaction.end() - static_cast<std::ptrdiff_t>(kFrameSize - 4), 4, '\0');
  }
  return transaction;
}

}  // namespace

bool LogSync::bootstrap() {
  if (offline_) {
    throw DbError(Error{ErrorKind::NotSupported, -1,
                        "offline mode needs a primary that takes pushed frames (libSQL's HTTP sync protocol); "
                        "this one serves sqld's replication log, which has no push"});
  }
  const std::string path = log_metadata_path(database_);
  const auto metadata = read_log_metadata(path);
  if (replica_exists(database_, path, metadata.has_value(), metadata_path(database_),
                     "libSQL's HTTP sync protocol (sync_protocol='v2')")) {
    metadata_ = *metadata;
    follows_log_ = true;
    return false;
  }
  shake_hands();
  return true;
}

void LogSync::prepare(Connection& connection) {
  prepare_replica_wal(connection);
  disable_checkpoints(connection.handle());
  refuse_wal_changes(connection.handle());
}

std::optional<std::uint64_t> LogSync::shake_hands() {
  const LogHello hello = client_.hello();
  const auto log_id = parse_log_id(hello.log_id);
  if (!log_id) fail_sync("the primary's replication log has an id that is not a UUID: '" + hello.log_id + "'");
  if (follows_log_) {
    if (*log_id != metadata_.log_id) {
      fail_sync("the primary's replication log (" + hello.log_id +
                ") is not the one this replica follows: the primary's database was replaced; make a new replica");
    }
  } else {
    metadata_ = LogMetadata{*log_id, std::nullopt, std::nullopt};
    write_log_metadata(log_metadata_path(database_), metadata_);
    follows_log_ = true;
  }
  session_token_ = hello.session_token;
  return hello.replication_index;
}

LogMetadata LogSync::current(std::uint32_t wal_frames) const {
  const auto on_disk = read_log_metadata(log_metadata_path(database_));
  if (!on_disk) fail_sync("the replica's metadata file '" + log_metadata_path(database_) + "' has gone");
  if (on_disk->log_id != metadata_.log_id) fail_sync("the replica's metadata file now names another log");
  return on_disk->settled(wal_frames);
}

bool LogSync::apply(sqlite3* db, const std::string& frames, std::uint64_t first, std::uint64_t last) {
  const std::vector<FrameView> split = split_frames(frames);
  // Counted before the write lock is taken (counting takes it). Whoever
  // commits between the two has moved the metadata file by the time the
  // lock is free, and the check below then gives way to it.
  const std::uint32_t wal_before = committed_wal_frames(db, patience_);
  WalInserter inserter(db, patience_);
  // Under the write lock, nothing else of this replica applies frames.
  inserter.begin();
  const LogMetadata on_disk = current(wal_before);
  if (on_disk.next_frame() != first) {
    metadata_ = on_disk;
    return false;
  }
  if (last - first + 1 > UINT32_MAX || split.size() > UINT32_MAX - wal_before) {
    fail_sync("a transaction from the primary is too large for one replica commit");
  }
  const std::string path = log_metadata_path(database_);
  LogMetadata pending = on_disk;
  pending.pending = PendingCommit{static_cast<std::uint32_t>(wal_before + split.size()),
                                  static_cast<std::uint32_t>(last - first + 1)};
  write_log_metadata(path, pending);
  for (const FrameView& frame : split) inserter.append(frame);
  LogMetadata done = on_disk;
  done.committed_frame = last;
  write_log_metadata(path, done);
  inserter.end();
  metadata_ = done;
  return true;
}

std::uint64_t LogSync::pull(Connection& connection) {
  sqlite3* db = connection.handle();
  // Every pull starts with a handshake, as libSQL's client syncs: it is what
  // tells a log that was replaced (a new log id) from the one followed.
  // Read before the handshake: the primary's log only grows, so a replica
  // past where it ends then is ahead of the primary, not just quick.
  metadata_ = current(committed_wal_frames(db, patience_));
  const std::optional<std::uint64_t> primary_last = shake_hands();
  if (primary_last && metadata_.committed_frame && *metadata_.committed_frame > *primary_last) {
    fail_sync("the replica has frame " + std::to_string(*metadata_.committed_frame) +
              " of the primary's log, which ends at frame " + std::to_string(*primary_last) +
              ": the primary lost part of its log; make a new replica");
  }
  std::uint64_t pulled = 0;
  int handshakes = 1;
  int snapshots = 0;
  // Frames of a transaction whose commit frame has not come yet, in the
  // WAL's layout, and the log number of the first.
  std::string carried;
  std::uint64_t next = metadata_.next_frame();
  while (true) {
    const LogFrames answer = client_.frames_from(next, session_token_);
    if (answer.kind != LogFrames::Kind::Frames) {
      carried.clear();
      if (answer.kind == LogFrames::Kind::NeedHello) {
        if (++handshakes > kHandshakesPerPull) fail_sync("the primary keeps ending the replication session");
        shake_hands();
      } else {
        if (++snapshots > kSnapshotsPerPull) fail_sync("the primary keeps asking for a snapshot after sending one");
        const LogFrames snapshot = client_.snapshot_from(metadata_.next_frame(), session_token_);
        if (snapshot.kind != LogFrames::Kind::Frames || snapshot.frames.empty()) {
          fail_sync("the primary asked for a snapshot but did not send one");
        }
        std::uint64_t newest = 0;
        const std::string transaction = snapshot_as_transaction(snapshot.frames, newest);
        if (newest < metadata_.next_frame()) fail_sync("the primary sent a snapshot older than the replica");
        if (apply(db, transaction, metadata_.next_frame(), newest)) pulled += snapshot.frames.size();
      }
      next = metadata_.next_frame();
      continue;
    }
    if (answer.frames.empty()) break;
    const std::uint64_t carried_from = next - carried.size() / kFrameSize;
    std::size_t through_commit = 0;
    std::uint64_t last_commit = 0;
    for (const std::string& bytes : answer.frames) {
      const LogFrame frame = read_log_frame(bytes);
      if (frame.number != next) {
        fail_sync("the primary sent frame " + std::to_string(frame.number) + " where frame " + std::to_string(next) +
                  " belongs");
      }
      append_wal_frame(carried, frame, frame.commit_size);
      ++next;
      if (frame.commit_size != 0) {
        through_commit = carried.size();
        last_commit = frame.number;
      }
    }
    pulled += answer.frames.size();
    if (through_commit == 0) continue;
    const std::string transaction = as_one_transaction(std::string_view(carried).substr(0, through_commit));
    carried.erase(0, through_commit);
    if (!apply(db, transaction, carried_from, last_commit)) {
      carried.clear();
      next = metadata_.next_frame();
    }
  }
  if (!carried.empty()) {
    fail_sync("the primary's log ends inside a transaction (at frame " + std::to_string(next - 1) +
              "): the replica keeps its last whole one");
  }
  return pulled;
}

SyncReport LogSync::exchange(Connection& connection, bool push) {
  if (push) fail_sync("sqld's replication log has no push");
  SyncReport report;
  report.frames_pulled = pull(connection);
  report.frame = metadata_.committed_frame.value_or(0);
  return report;
}

}  // namespace aiolibsql::replica
