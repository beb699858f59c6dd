#include "log_frames.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <map>

#include "error.hpp"
#include "wal_frames.hpp"

namespace aiolibsql::replica {

namespace {

template <typename Integer>
Integer little_endian(std::string_view bytes) {
  Integer value = 0;
  for (std::size_t i = sizeof(Integer); i-- > 0;) value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  return value;
}

void put_big_endian(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((value >> shift) & 0xff));
}

[[noreturn]] void refuse(const std::string& why) {
  throw DbError(Error{ErrorKind::Database, SQLITE_CORRUPT, "the primary sent frames that are not valid: " + why});
}

}  // namespace

LogFrame read_log_frame(std::string_view frame) {
  if (frame.size() != kFrameSize) {
    refuse("a frame of " + std::to_string(frame.size()) + " bytes, not a header and a " + std::to_string(kPageSize) +
           "-byte page");
  }
  return LogFrame{little_endian<std::uint64_t>(frame.substr(0, 8)), little_endian<std::uint32_t>(frame.substr(16, 4)),
                  little_endian<std::uint32_t>(frame.substr(20, 4)), frame.substr(kFrameHeaderSize)};
}

void append_wal_frame(std::string& out, const LogFrame& frame, std::uint32_t commit_size) {
  put_big_endian(out, frame.page_number);
  put_big_endian(out, commit_size);
  // Salts and checksums are the WAL's to compute.
  out.append(kFrameHeaderSize - 8, '\0');
  out.append(frame.page);
}

std::string snapshot_as_transaction(const std::vector<std::string>& frames, std::uint64_t& newest) {
  std::map<std::uint32_t, LogFrame> newest_by_page;
  std::uint32_t size = 0;
  std::uint64_t size_frame = 0;
  newest = 0;
  for (const std::string& bytes : frames) {
    const LogFrame frame = read_log_frame(bytes);
    auto [slot, added] = newest_by_page.try_emplace(frame.page_number, frame);
    if (!added && slot->second.number < frame.number) slot->second = frame;
    if (frame.commit_size != 0 && (size == 0 || frame.number > size_frame)) {
      size = frame.commit_size;
      size_frame = frame.number;
    }
    newest = std::max(newest, frame.number);
  }
  if (size == 0) refuse("a snapshot that does not say the database's size");
  // Pages past the size belong to a database the snapshot has since shrunk.
  std::vector<const LogFrame*> kept;
  for (const auto& [page, frame] : newest_by_page) {
    if (page <= size) kept.push_back(&frame);
  }
  if (kept.empty()) refuse("a snapshot with no pages");
  std::string transaction;
  transaction.reserve(kept.size() * kFrameSize);
  for (std::size_t i = 0; i < kept.size(); ++i)
    append_wal_frame(transaction, *kept[i], i + 1 == kept.size() ? size : 0);
  return transaction;
}

}  // namespace aiolibsql::replica
