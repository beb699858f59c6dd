#include "wal_access.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <thread>

#include "error.hpp"

namespace aiolibsql::replica {

namespace {

void check(sqlite3* db, int code) {
  if (code != SQLITE_OK) throw DbError(engine_error(db, code));
}

}  // namespace

namespace {

// Waits as `patience` says while `attempt` answers SQLITE_BUSY.
template <typename Attempt>
void patiently(sqlite3* db, const WalPatience& patience, Attempt&& attempt) {
  const auto deadline = std::chrono::steady_clock::now() + patience.timeout;
  auto pause = std::chrono::milliseconds(1);
  while (true) {
    const int code = attempt();
    if (code == SQLITE_OK) return;
    const bool may_wait = (code & 0xff) == SQLITE_BUSY && std::chrono::steady_clock::now() < deadline &&
                          (patience.cancelled == nullptr || !patience.cancelled->load(std::memory_order_relaxed));
    if (!may_wait) check(db, code);
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
}

}  // namespace

WalInserter::~WalInserter() {
  if (open_) libsql_wal_insert_end(db_);
}

void WalInserter::begin() {
  if (open_) return;
  patiently(db_, patience_, [this] { return libsql_wal_insert_begin(db_); });
  open_ = true;
}

void WalInserter::end() {
  if (!open_) return;
  open_ = false;
  check(db_, libsql_wal_insert_end(db_));
}

bool WalInserter::insert(std::uint32_t number, const FrameView& frame) {
  add(number, frame);
  if (!frame.is_commit()) return false;
  end();
  return true;
}

void WalInserter::append(const FrameView& frame) {
  // libSQL appends any frame numbered past the WAL's end.
  add(std::numeric_limits<std::uint32_t>::max(), frame);
}

void WalInserter::add(std::uint32_t number, const FrameView& frame) {
  begin();
  int conflict = 0;
  const int code = libsql_wal_insert_frame(db_, number, const_cast<char*>(frame.bytes.data()),
                                           static_cast<unsigned>(frame.bytes.size()), &conflict);
  if (conflict != 0) {
    throw DbError(Error{ErrorKind::Operational, SQLITE_ERROR,
                        "frame " + std::to_string(number) +
                            " from the primary differs from the replica's own: the replica has local changes the "
                            "primary does not have"});
  }
  check(db_, code);
}

std::uint32_t committed_wal_frames(sqlite3* db, const WalPatience& patience) {
  unsigned count = 0;
  patiently(db, patience, [&] {
    // A read brings this connection's view of the WAL up to date.
    const int code = sqlite3_exec(db, "SELECT 1 FROM sqlite_master LIMIT 1", nullptr, nullptr, nullptr);
    return code != SQLITE_OK ? code : libsql_wal_frame_count(db, &count);
  });
  return count;
}

std::uint32_t wal_frame_count(sqlite3* db) {
  unsigned count = 0;
  check(db, libsql_wal_frame_count(db, &count));
  return count;
}

std::string wal_frame(sqlite3* db, std::uint32_t number) {
  std::string frame(kFrameSize, '\0');
  check(db, libsql_wal_get_frame(db, number, frame.data(), static_cast<unsigned>(frame.size())));
  return frame;
}

void disable_checkpoints(sqlite3* db) { check(db, libsql_wal_disable_checkpoint(db)); }

namespace {

int refuse_checkpointing_pragmas(void*, int action, const char* pragma, const char* value, const char*,
                                 const char*) noexcept {
  if (action != SQLITE_PRAGMA || pragma == nullptr) return SQLITE_OK;
  if (sqlite3_stricmp(pragma, "wal_checkpoint") == 0) return SQLITE_DENY;
  const bool sets = value != nullptr;
  if (sets && (sqlite3_stricmp(pragma, "wal_autocheckpoint") == 0 || sqlite3_stricmp(pragma, "journal_mode") == 0)) {
    return SQLITE_DENY;
  }
  return SQLITE_OK;
}

}  // namespace

void refuse_wal_changes(sqlite3* db) { check(db, sqlite3_set_authorizer(db, refuse_checkpointing_pragmas, nullptr)); }

void checkpoint_into_database(sqlite3* db) {
  int log = -1;
  int checkpointed = -1;
  check(db, sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log, &checkpointed));
  if (log != 0 || checkpointed != 0) {
    throw DbError(Error{ErrorKind::Operational, SQLITE_BUSY,
                        "the replica's WAL could not be emptied for the primary's new generation: another "
                        "connection to the replica is reading"});
  }
}

}  // namespace aiolibsql::replica
