// WAL frames as libSQL's sync protocol carries them: a 24-byte header (page
// number, and the database's size in pages after a commit frame, both
// big-endian; salts and checksums are the receiver's to compute) and one
// page. The protocol's pages are 4096 bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace aiolibsql::replica {

inline constexpr std::size_t kPageSize = 4096;
inline constexpr std::size_t kFrameHeaderSize = 24;
inline constexpr std::size_t kFrameSize = kFrameHeaderSize + kPageSize;

struct FrameView {
  // The whole frame, header and page.
  std::string_view bytes;
  std::uint32_t page_number = 0;
  // Non-zero only for a transaction's last frame.
  std::uint32_t commit_size = 0;

  bool is_commit() const noexcept { return commit_size != 0; }
};

// The frames of a pulled body. Throws DbError (DatabaseError, SQLITE_CORRUPT)
// for a body that is empty, not whole frames, or has a frame for page 0, a
// first page without SQLite's header or a commit that leaves a page beyond
// the database's size: nothing of such a body may reach the replica.
std::vector<FrameView> split_frames(std::string_view body);

}  // namespace aiolibsql::replica
