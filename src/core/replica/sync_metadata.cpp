#include "sync_metadata.hpp"

#include <simdjson.h>
#include <zlib.h>

#include <array>

#include "error.hpp"
#include "replica_files.hpp"

namespace aiolibsql::replica {

namespace {

constexpr std::uint32_t kMetadataVersion = 0;
constexpr int kSqliteCorrupt = 11;

std::uint32_t metadata_hash(std::uint32_t version, std::uint32_t durable_frame, std::uint32_t generation) {
  std::array<unsigned char, 12> bytes{};
  std::uint32_t index = 0;
  for (const std::uint32_t value : {version, durable_frame, generation}) {
    for (int shift = 0; shift < 32; shift += 8) bytes[index++] = static_cast<unsigned char>(value >> shift);
  }
  return static_cast<std::uint32_t>(crc32(crc32(0L, Z_NULL, 0), bytes.data(), static_cast<uInt>(bytes.size())));
}

[[noreturn]] void corrupt(const std::string& why) {
  throw DbError(Error{ErrorKind::Database, kSqliteCorrupt, "the replica's metadata file is not valid: " + why});
}

std::uint32_t field(simdjson::dom::object& object, const char* name) {
  std::uint64_t value = 0;
  if (object[name].get(value) != simdjson::SUCCESS || value > UINT32_MAX) {
    corrupt(std::string("\"") + name + "\" is missing or not a 32-bit unsigned integer");
  }
  return static_cast<std::uint32_t>(value);
}

}  // namespace

std::string metadata_path(std::string_view database) { return std::string(database) + "-info"; }

std::string encode_sync_metadata(SyncMetadata metadata) {
  std::ostringstream out;
  out << "{\"hash\":" << metadata_hash(kMetadataVersion, metadata.durable_frame, metadata.generation)
      << ",\"version\":" << kMetadataVersion << ",\"durable_frame_num\":" << metadata.durable_frame
      << ",\"generation\":" << metadata.generation << "}";
  return out.str();
}

SyncMetadata decode_sync_metadata(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(text.data(), text.size()).get(object) != simdjson::SUCCESS) corrupt("it is not a JSON object");
  const std::uint32_t hash = field(object, "hash");
  const std::uint32_t version = field(object, "version");
  SyncMetadata metadata{field(object, "generation"), field(object, "durable_frame_num")};
  if (version != kMetadataVersion) corrupt("version " + std::to_string(version) + " is not one this client reads");
  if (hash != metadata_hash(version, metadata.durable_frame, metadata.generation)) corrupt("its hash does not match");
  if (metadata.generation == 0) corrupt("its generation is 0");
  return metadata;
}

std::optional<SyncMetadata> read_sync_metadata(const std::string& path) {
  const auto content = read_file_if_exists(path);
  if (!content) return std::nullopt;
  return decode_sync_metadata(*content);
}

void write_sync_metadata(const std::string& path, SyncMetadata metadata) {
  write_file_atomically(path, encode_sync_metadata(metadata));
}

}  // namespace aiolibsql::replica
