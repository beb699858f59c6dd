// Rows as the engine produced them, buffered so the binding can build its
// objects later on another thread without touching the engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3_stmt;

namespace aiolibsql {

class OpenCursor;

enum class ValueType : std::uint8_t { Null, Integer, Real, Text, Blob };

// One column value of a buffered row. TEXT and BLOB bytes live in the chunk's
// arena, so a row costs no allocation of its own.
struct Cell {
  ValueType type = ValueType::Null;
  union {
    std::int64_t integer;
    double real;
    std::size_t offset;
  };
  std::size_t size = 0;
};

struct Columns {
  std::vector<std::string> names;
  // The declared type of each column ("" for expressions), for converters.
  std::vector<std::string> decltypes;
};

// How much of a result one trip to the engine may buffer.
struct FetchLimits {
  std::size_t max_rows;
  std::size_t max_bytes;
};

// Rows of one result, in engine order.
class RowChunk {
 public:
  RowChunk() = default;
  explicit RowChunk(std::size_t column_count) : column_count_(column_count) {}

  std::size_t column_count() const noexcept { return column_count_; }
  std::size_t row_count() const noexcept { return column_count_ == 0 ? 0 : cells_.size() / column_count_; }
  std::size_t byte_size() const noexcept { return arena_.size() + cells_.size() * sizeof(Cell); }
  const Cell& cell(std::size_t row, std::size_t column) const noexcept { return cells_[row * column_count_ + column]; }
  std::string_view bytes(const Cell& cell) const noexcept { return {arena_.data() + cell.offset, cell.size}; }

  // Copies the current row of a statement that has just returned SQLITE_ROW.
  void append_current_row(sqlite3_stmt* statement);

  // Rows from values, one cell at a time in column order (remote results):
  // the caller appends exactly column_count() cells per row.
  void append_null() { cells_.push_back(Cell{ValueType::Null, {.integer = 0}, 0}); }
  void append_integer(std::int64_t value) { cells_.push_back(Cell{ValueType::Integer, {.integer = value}, 0}); }
  void append_real(double value) {
    Cell cell{ValueType::Real, {.integer = 0}, 0};
    cell.real = value;
    cells_.push_back(cell);
  }
  void append_text(std::string_view text) { append_bytes(ValueType::Text, text); }
  void append_blob(std::string_view bytes) { append_bytes(ValueType::Blob, bytes); }
  // Moves the rows of a chunk of the same width after these.
  void append_rows(RowChunk&& other);
  // Whether it holds as much as one trip may buffer.
  bool reaches(const FetchLimits& limits) const noexcept {
    return row_count() >= limits.max_rows || byte_size() >= limits.max_bytes;
  }

 private:
  void append_bytes(ValueType type, std::string_view bytes) {
    cells_.push_back(Cell{type, {.offset = arena_.size()}, bytes.size()});
    arena_.append(bytes);
  }

  std::size_t column_count_ = 0;
  std::vector<Cell> cells_;
  std::string arena_;
};

// For work that must finish its statement before returning (group commit, pragmas).
inline constexpr FetchLimits kWholeResult{SIZE_MAX, SIZE_MAX};

// The first trip returns a small chunk so short results cost one trip; later
// trips, asked for by a reader that wants more, return bigger ones. Remote
// results arrive in the same chunks, and no more than one waits unread.
inline constexpr FetchLimits kFirstChunk{256, 1 << 20};
inline constexpr FetchLimits kNextChunk{8192, 8 << 20};

// What an execution returns: the first rows, and what to fetch the rest with.
struct QueryResult {
  // Null when the statement returns no columns.
  std::shared_ptr<const Columns> columns;
  RowChunk rows;
  // Non-zero while rows remain in the engine; fetch them with this id.
  std::uint64_t cursor_id = 0;
  // Set by AsyncConnection while rows remain: the engine-side rest of the
  // result lives until the last holder of this lets go.
  std::shared_ptr<OpenCursor> open_cursor;
  // DB-API rowcount: rows changed by a DML statement once it has finished, else -1.
  std::int64_t rowcount = -1;
  std::int64_t lastrowid = 0;
};

}  // namespace aiolibsql
