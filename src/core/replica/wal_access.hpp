// A replica's own WAL, through libSQL's WAL API: local frame k is the
// primary's frame k of the same generation, so pulled frames are appended as
// they come and pushed frames are read as they are.
#pragma once

#include <cstdint>
#include <string>

#include "wal_frames.hpp"

struct sqlite3;

namespace aiolibsql::replica {

// Pulled frames go in one transaction at a time: readers see a transaction
// once its commit frame is in, never part of one. Not thread-safe: used on
// the thread that holds the connection.
class WalInserter {
 public:
  explicit WalInserter(sqlite3* db) : db_(db) {}
  // Ends a transaction left without its commit frame; its frames are dropped.
  ~WalInserter();
  WalInserter(const WalInserter&) = delete;
  WalInserter& operator=(const WalInserter&) = delete;

  // Appends `frame` as frame `number`; true when it committed a transaction.
  // A frame the WAL has already is accepted when its page is the same, and
  // is a conflict (DbError) when it is not.
  bool insert(std::uint32_t number, const FrameView& frame);
  // Appends `frame` after the WAL's last frame, whatever its number (the WAL
  // may have restarted after a checkpoint); true when it committed.
  bool append(const FrameView& frame);

 private:
  sqlite3* db_;
  bool open_ = false;
};

// Frames in the WAL.
std::uint32_t wal_frame_count(sqlite3* db);
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
