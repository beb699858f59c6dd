// Frames as sqld's replication log carries them: a 24-byte little-endian
// header (the frame's number in the log, a rolling checksum, the page
// number, and the database's size in pages after a commit frame, else 0)
// and one page. A replica's WAL takes frames in SQLite's layout, so each is
// rewritten into it before it goes in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aiolibsql::replica {

struct LogFrame {
  std::uint64_t number = 0;
  std::uint32_t page_number = 0;
  std::uint32_t commit_size = 0;
  std::string_view page;
};

// Throws DbError (DatabaseError, SQLITE_CORRUPT) for a frame of the wrong size.
LogFrame read_log_frame(std::string_view frame);

// `frame` in the WAL's layout, as split_frames() reads it, committing the
// database at `commit_size` pages (0: not a commit frame).
void append_wal_frame(std::string& out, const LogFrame& frame, std::uint32_t commit_size);

// A snapshot's frames as one transaction, in the WAL's layout: each page
// once, at its newest frame, the last frame committing the database at the
// snapshot's size. Sets `newest` to the highest frame number in it. Throws
// DbError (DatabaseError, SQLITE_CORRUPT) for one without a size.
std::string snapshot_as_transaction(const std::vector<std::string>& frames, std::uint64_t& newest);

}  // namespace aiolibsql::replica
