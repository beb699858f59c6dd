#include "log_sync.hpp"

#include <sqlite3.h>

#include "error.hpp"
#include "log_frames.hpp"
#include "wal_access.hpp"
#include "wal_frames.hpp"

namespace aiolibsql::replica {

namespace {

// Past this many frames, a pull ends with a checkpoint, which moves them into
// the database file unless a reader still needs them.
constexpr std::uint32_t kCheckpointAfterFrames = 1000;
// A session may end between two requests when the primary restarts; one
// that ends again right after a new handshake is a fault.
constexpr int kHandshakesPerPull = 2;

}  // namespace

bool LogSync::bootstrap() {
  if (offline_) {
    throw DbError(Error{ErrorKind::NotSupported, -1,
                        "offline mode needs a primary that takes pushed frames (libSQL's HTTP sync protocol); "
                        "this one serves sqld's replication log, which has no push"});
  }
  const std::string path = log_metadata_path(database_);
  const auto metadata = read_log_metadata(path);
  if (replica_exists(database_, path, metadata.has_value())) {
    metadata_ = *metadata;
    follows_log_ = true;
    return false;
  }
  shake_hands();
  return true;
}

void LogSync::prepare(Connection& connection) { prepare_replica_wal(connection); }

void LogSync::shake_hands() {
  const LogHello hello = client_.hello();
  const auto log_id = parse_log_id(hello.log_id);
  if (!log_id) fail_sync("the primary's replication log has an id that is not a UUID: '" + hello.log_id + "'");
  if (follows_log_) {
    if (*log_id != metadata_.log_id) {
      fail_sync("the primary's replication log (" + hello.log_id +
                ") is not the one this replica follows: the primary's database was replaced; make a new replica");
    }
  } else {
    metadata_ = LogMetadata{*log_id, std::nullopt};
    write_log_metadata(log_metadata_path(database_), metadata_);
    follows_log_ = true;
  }
  session_token_ = hello.session_token;
}

void LogSync::commit(std::uint64_t frame) {
  LogMetadata progress = metadata_;
  progress.committed_frame = frame;
  write_log_metadata(log_metadata_path(database_), progress);
  metadata_ = progress;
}

std::uint64_t LogSync::pull_snapshot(sqlite3* db) {
  const std::uint64_t next = next_frame();
  const LogFrames snapshot = client_.snapshot_from(next, session_token_);
  if (snapshot.kind != LogFrames::Kind::Frames || snapshot.frames.empty()) {
    fail_sync("the primary asked for a snapshot but did not send one");
  }
  std::uint64_t newest = 0;
  const std::string transaction = snapshot_as_transaction(snapshot.frames, newest);
  if (newest < next) fail_sync("the primary sent a snapshot older than the replica");
  WalInserter inserter(db);
  for (const FrameView& frame : split_frames(transaction)) inserter.append(frame);
  commit(newest);
  return snapshot.frames.size();
}

std::uint64_t LogSync::next_frame() const { return metadata_.committed_frame ? *metadata_.committed_frame + 1 : 0; }

std::uint64_t LogSync::pull(Connection& connection) {
  sqlite3* db = connection.handle();
  // Every pull starts with a handshake, as libSQL's client syncs: it is what
  // tells a log that was replaced (a new log id) from the one followed.
  shake_hands();
  std::uint64_t pulled = 0;
  int handshakes = 1;
  // The transaction being pulled: readers see it once its commit frame is in.
  std::optional<WalInserter> open;
  std::uint64_t next = next_frame();
  while (true) {
    const LogFrames answer = client_.frames_from(next, session_token_);
    if (answer.kind != LogFrames::Kind::Frames) {
      // Either way the pull starts again after the last committed frame.
      open.reset();
      if (answer.kind == LogFrames::Kind::NeedHello) {
        if (++handshakes > kHandshakesPerPull) fail_sync("the primary keeps ending the replication session");
        shake_hands();
      } else {
        pulled += pull_snapshot(db);
      }
      next = next_frame();
      continue;
    }
    if (answer.frames.empty()) break;
    std::string wal;
    wal.reserve(answer.frames.size() * kFrameSize);
    std::vector<std::uint64_t> numbers;
    numbers.reserve(answer.frames.size());
    for (const std::string& bytes : answer.frames) {
      const LogFrame frame = read_log_frame(bytes);
      if (frame.number != next + numbers.size()) {
        fail_sync("the primary sent frame " + std::to_string(frame.number) + " where frame " +
                  std::to_string(next + numbers.size()) + " belongs");
      }
      append_wal_frame(wal, frame, frame.commit_size);
      numbers.push_back(frame.number);
    }
    std::optional<std::uint64_t> committed;
    const std::vector<FrameView> frames = split_frames(wal);
    for (std::size_t i = 0; i < frames.size(); ++i) {
      if (!open) open.emplace(db);
      if (open->append(frames[i])) {
        open.reset();
        committed = numbers[i];
      }
    }
    next += numbers.size();
    pulled += numbers.size();
    // Once per answer: a crash before this pulls those transactions again,
    // and their pages, written again, change nothing.
    if (committed) commit(*committed);
  }
  if (wal_frame_count(db) > kCheckpointAfterFrames) {
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
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
