#include "result.hpp"

#include <sqlite3.h>

namespace aiolibsql {

void RowChunk::append_current_row(sqlite3_stmt* statement) {
  for (std::size_t column = 0; column < column_count_; ++column) {
    const int index = static_cast<int>(column);
    Cell cell;
    switch (sqlite3_column_type(statement, index)) {
      case SQLITE_INTEGER:
        cell.type = ValueType::Integer;
        cell.integer = sqlite3_column_int64(statement, index);
        break;
      case SQLITE_FLOAT:
        cell.type = ValueType::Real;
        cell.real = sqlite3_column_double(statement, index);
        break;
      case SQLITE_TEXT: {
        cell.type = ValueType::Text;
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, index));
        cell.size = static_cast<std::size_t>(sqlite3_column_bytes(statement, index));
        cell.offset = arena_.size();
        arena_.append(text, cell.size);
        break;
      }
      case SQLITE_BLOB: {
        cell.type = ValueType::Blob;
        const auto* blob = static_cast<const char*>(sqlite3_column_blob(statement, index));
        cell.size = static_cast<std::size_t>(sqlite3_column_bytes(statement, index));
        cell.offset = arena_.size();
        if (cell.size > 0) arena_.append(blob, cell.size);
        break;
      }
      default:
        cell.type = ValueType::Null;
        cell.integer = 0;
        break;
    }
    cells_.push_back(cell);
  }
}

void RowChunk::append_rows(RowChunk&& other) {
  if (cells_.empty()) {
    *this = std::move(other);
    return;
  }
  const std::size_t shift = arena_.size();
  cells_.reserve(cells_.size() + other.cells_.size());
  for (Cell cell : other.cells_) {
    if (cell.type == ValueType::Text || cell.type == ValueType::Blob) cell.offset += shift;
    cells_.push_back(cell);
  }
  arena_.append(other.arena_);
}

}  // namespace aiolibsql
