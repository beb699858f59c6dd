// The metadata file beside a replica's database (`<database>-info`): which
// generation of the primary the replica follows, and the last frame of it
// that the replica holds durably. Its format is libSQL's own, so a replica
// directory made by the official client and one made by ours are
// interchangeable: compact JSON {"hash","version","durable_frame_num",
// "generation"}, the hash a CRC-32 of the other three as little-endian
// 32-bit integers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aiolibsql::replica {

struct SyncMetadata {
  std::uint32_t generation = 0;
  std::uint32_t durable_frame = 0;

  bool operator==(const SyncMetadata&) const = default;
};

std::string metadata_path(std::string_view database);

std::string encode_sync_metadata(SyncMetadata metadata);
// Throws DbError (DatabaseError, SQLITE_CORRUPT) for anything but the
// format above with a matching hash, version 0 and a generation above 0.
SyncMetadata decode_sync_metadata(std::string_view text);

// Nothing when the file does not exist; DbError when it cannot be read or decoded.
std::optional<SyncMetadata> read_sync_metadata(const std::string& path);
// Replaces the file atomically: a temporary file beside it, written and
// synced, then renamed over it, so a crash leaves the old or the new one.
void write_sync_metadata(const std::string& path, SyncMetadata metadata);

}  // namespace aiolibsql::replica
