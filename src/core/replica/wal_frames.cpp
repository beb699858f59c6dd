#include "wal_frames.hpp"

#include <string>

#include "error.hpp"

namespace aiolibsql::replica {

namespace {

constexpr int kSqliteCorrupt = 11;
// How every SQLite database file, so its first page, begins.
constexpr std::string_view kDatabaseHeader{"SQLite format 3\0", 16};

std::uint32_t big_endian(std::string_view bytes) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  return value;
}

[[noreturn]] void refuse(const std::string& why) {
  throw DbError(Error{ErrorKind::Database, kSqliteCorrupt, "the primary sent frames that are not valid: " + why});
}

}  // namespace

std::vector<FrameView> split_frames(std::string_view body) {
  if (body.empty()) refuse("no frames");
  if (body.size() % kFrameSize != 0) {
    refuse(std::to_string(body.size()) + " bytes are not whole frames of " + std::to_string(kPageSize) + "-byte pages");
  }
  std::vector<FrameView> frames;
  frames.reserve(body.size() / kFrameSize);
  std::uint32_t highest_page = 0;
  for (std::size_t offset = 0; offset < body.size(); offset += kFrameSize) {
    FrameView frame{body.substr(offset, kFrameSize), big_endian(body.substr(offset, 4)),
                    big_endian(body.substr(offset + 4, 4))};
    if (frame.page_number == 0) refuse("a frame for page 0");
    if (frame.page_number == 1 && body.substr(offset + kFrameHeaderSize, kDatabaseHeader.size()) != kDatabaseHeader) {
      refuse("a first page that is not an SQLite database's");
    }
    highest_page = std::max(highest_page, frame.page_number);
    if (frame.is_commit()) {
      if (frame.commit_size < highest_page) refuse("a commit that leaves a page beyond the database's size");
      highest_page = 0;
    }
    frames.push_back(frame);
  }
  return frames;
}

}  // namespace aiolibsql::replica
