// The metadata file beside a replica that follows sqld's replication log
// (`<database>-client_wal_index`): which log the replica follows and the
// last frame of it that the replica has committed. Its format is libSQL's
// own, so a replica made by libSQL's Rust client and one made by ours are
// interchangeable: 32 bytes, the log's UUID as a little-endian 128-bit
// integer, the frame number as a little-endian 64-bit integer (all ones
// before the first commit), then 8 bytes of padding. libSQL's client writes
// the padding as zeros and never reads it; ours keeps a pending commit there
// (see PendingCommit).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aiolibsql::replica {

// A UUID's 16 bytes, in the order its text spells them.
using LogId = std::array<unsigned char, 16>;

// Pulled frames about to be committed to the WAL, recorded before they are:
// a crash between the WAL's commit and the metadata's next write leaves the
// WAL ahead of `committed_frame`, and this says by how much, so that no frame
// is ever applied twice (a page written again over a newer one would show a
// state the primary never had). Both little-endian 32-bit integers.
struct PendingCommit {
  // The WAL's frame count once the commit is in.
  std::uint32_t wal_frames = 0;
  // Log frames the commit covers, after `committed_frame`.
  std::uint32_t log_frames = 0;

  bool operator==(const PendingCommit&) const = default;
};

struct LogMetadata {
  LogId log_id{};
  // Nothing before the first transaction is committed.
  std::optional<std::uint64_t> committed_frame;
  std::optional<PendingCommit> pending;

  bool operator==(const LogMetadata&) const = default;

  // The frame after the last committed one.
  std::uint64_t next_frame() const noexcept { return committed_frame ? *committed_frame + 1 : 0; }
  // With the pending commit settled by what the WAL holds: in when the WAL
  // has reached its frame count, never made otherwise.
  LogMetadata settled(std::uint32_t wal_frames) const noexcept;
};

std::string log_metadata_path(std::string_view database);

// Nothing for text that is not a UUID (8-4-4-4-12 hexadecimal digits).
std::optional<LogId> parse_log_id(std::string_view text);

std::string encode_log_metadata(const LogMetadata& metadata);
// Throws DbError (DatabaseError, SQLITE_CORRUPT) for anything but 32 bytes,
// or a frame number past what a 64-bit signed integer holds.
LogMetadata decode_log_metadata(std::string_view bytes);

// Nothing when the file does not exist or is empty (libSQL's client makes
// it empty before its first handshake); DbError when it cannot be read or
// decoded.
std::optional<LogMetadata> read_log_metadata(const std::string& path);
// Replaces the file atomically (see AtomicFile).
void write_log_metadata(const std::string& path, const LogMetadata& metadata);

}  // namespace aiolibsql::replica
