#include "log_metadata.hpp"

#include <sqlite3.h>

#include "error.hpp"
#include "replica_files.hpp"

namespace aiolibsql::replica {

namespace {

constexpr std::size_t kMetadataSize = 32;
constexpr std::uint64_t kNothingCommitted = ~std::uint64_t{0};

void put_little_endian(std::string& out, std::uint64_t value) {
  for (int byte = 0; byte < 8; ++byte) out.push_back(static_cast<char>((value >> (8 * byte)) & 0xff));
}

std::uint64_t get_little_endian(std::string_view bytes) {
  std::uint64_t value = 0;
  for (int byte = 7; byte >= 0; --byte) value = (value << 8) | static_cast<unsigned char>(bytes[byte]);
  return value;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string log_metadata_path(std::string_view database) { return std::string(database) + "-client_wal_index"; }

std::optional<LogId> parse_log_id(std::string_view text) {
  constexpr std::size_t kUuidText = 36;
  if (text.size() != kUuidText) return std::nullopt;
  LogId id{};
  std::size_t next = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      continue;
    }
    const int high = hex_digit(text[i]);
    const int low = i + 1 < text.size() ? hex_digit(text[i + 1]) : -1;
    if (high < 0 || low < 0) return std::nullopt;
    id[next++] = static_cast<unsigned char>(high * 16 + low);
    ++i;
  }
  return id;
}

std::string encode_log_metadata(const LogMetadata& metadata) {
  std::string bytes;
  bytes.reserve(kMetadataSize);
  // The UUID as a 128-bit integer (its first byte the most significant), little-endian.
  for (auto byte = metadata.log_id.rbegin(); byte != metadata.log_id.rend(); ++byte) {
    bytes.push_back(static_cast<char>(*byte));
  }
  put_little_endian(bytes, metadata.committed_frame.value_or(kNothingCommitted));
  const PendingCommit pending = metadata.pending.value_or(PendingCommit{});
  put_little_endian(bytes, pending.wal_frames | (std::uint64_t{pending.log_frames} << 32));
  return bytes;
}

LogMetadata decode_log_metadata(std::string_view bytes) {
  if (bytes.size() != kMetadataSize) {
    throw DbError(Error{
        ErrorKind::Database, SQLITE_CORRUPT,
        "the replica's metadata file is damaged: " + std::to_string(bytes.size()) + " bytes where libSQL writes 32"});
  }
  LogMetadata metadata;
  for (std::size_t i = 0; i < metadata.log_id.size(); ++i) {
    metadata.log_id[i] = static_cast<unsigned char>(bytes[metadata.log_id.size() - 1 - i]);
  }
  const std::uint64_t committed = get_little_endian(bytes.substr(16, 8));
  if (committed != kNothingCommitted) {
    if (committed > static_cast<std::uint64_t>(INT64_MAX)) {
      throw DbError(Error{ErrorKind::Database, SQLITE_CORRUPT,
                          "the replica's metadata file is damaged: frame " + std::to_string(committed)});
    }
    metadata.committed_frame = committed;
  }
  const std::uint64_t pending = get_little_endian(bytes.substr(24, 8));
  const PendingCommit commit{static_cast<std::uint32_t>(pending), static_cast<std::uint32_t>(pending >> 32)};
  if (commit.log_frames != 0) metadata.pending = commit;
  return metadata;
}

LogMetadata LogMetadata::settled(std::uint32_t wal_frames) const noexcept {
  LogMetadata settled = *this;
  settled.pending.reset();
  if (pending && wal_frames >= pending->wal_frames) settled.committed_frame = next_frame() + pending->log_frames - 1;
  return settled;
}

std::optional<LogMetadata> read_log_metadata(const std::string& path) {
  const auto content = read_file_if_exists(path);
  if (!content || content->empty()) return std::nullopt;
  return decode_log_metadata(*content);
}

void write_log_metadata(const std::string& path, const LogMetadata& metadata) {
  write_file_atomically(path, encode_log_metadata(metadata));
}

}  // namespace aiolibsql::replica
