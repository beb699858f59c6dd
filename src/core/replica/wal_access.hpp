// A replica's own WAL, through libSQL's WAL API: local frame k is the
// primary's frame k of the same generation, so pulled frames are appended as
// they come and pushed frames are read as they are.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "wal_frames.hpp"

struct sqlite3;

namespace aiolibsql::replica {

// How long to wait for the WAL's write lock (another connection of the
// replica may be syncing), and what stops the wait early.
struct WalPatience {
  std::chrono::milliseconds timeout{0};
  const std::atomic<bool>* cancelled = nullptr;
};

// Pulled frames go in one transaction at a time: readers see a transaction
// once its commit frame is in, never part of one. Not thread-safe: used on
// the thread that holds the connection.
class WalInserter {
 public:
  explicit WalInserter(sqlite3* db, WalPatience patience = {}) : db_(db), patience_(patience) {}
  // Ends a transaction left without its commit frame; its frames are dropped.
  ~WalInserter();
  WalInserter(const WalInserter&) = delete;
  WalInserter& operator=(const WalInserter&) = delete;

  // Appends `frame` as frame `number`; true when it committed a transaction.
  // A frame the WAL has already is accepted when its page is the same, and
  // is a conflict (DbError) when it is not.
  bool insert(std::uint32_t number, const FrameView& frame);

  // Takes the WAL's write lock (insert() and append() take it when needed),
  // waiting for it as the patience says; DbError (SQLITE_BUSY) past it.
  void begin();
  // Appends `frame` after the WAL's last frame. Readers see a transaction
  // once its commit frame is in; the write lock is kept until end().
  void append(const FrameView& frame);
  void end();

 private:
  void add(std::uint32_t number, const FrameView& frame);

  sqlite3* db_;
  WalPatience patience_;
  bool open_ = false;
};

// Frames in the WAL, as this connection last saw it.
std::uint32_t wal_frame_count(sqlite3* db);
// Frames committed to the WAL by any connection, now: the count takes the
// WAL's write lock for a moment, so it waits for it as `patience` says.
std::uint32_t committed_wal_frames(sqlite3* db, const WalPatience& patience);
// Frame `number` (from 1), header and page.
std::string wal_frame(sqlite3* db, std::uint32_t number);
// A replica's WAL must never be checkpointed into the database file behind
// the protocol's back: frame numbers would no longer match the primary's.
void disable_checkpoints(sqlite3* db);
// Refuses (SQLITE_AUTH) the statements that would empty the WAL behind the
// protocol's back: PRAGMA wal_checkpoint, and setting wal_autocheckpoint or
// journal_mode. Frames not pushed yet would be lost from the push.
void refuse_wal_changes(sqlite3* db);
// At a new generation: the WAL goes into the database file and restarts empty.
void checkpoint_into_database(sqlite3* db);

}  // namespace aiolibsql::replica
