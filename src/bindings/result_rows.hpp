// The rows of one execution as Python sees them: built into tuples only when
// fetched, on the thread that holds the GIL.
#pragma once

#include <nanobind/nanobind.h>

#include <cstddef>
#include <memory>

#include "async_connection.hpp"
#include "result.hpp"

namespace aiolibsql::py {

namespace nb = nanobind;

class ResultRows {
 public:
  explicit ResultRows(QueryResult result) : result_(std::move(result)) {}

  // The next buffered row, or None when this chunk is used up.
  nb::object fetchone();
  nb::list fetchmany(std::size_t size);
  // Every row left in this chunk.
  nb::list fetchall();
  std::size_t remaining() const noexcept { return result_.rows.row_count() - position_; }
  // True while more rows wait in the engine beyond this chunk.
  bool has_more() const noexcept { return result_.open_cursor != nullptr; }
  const std::shared_ptr<OpenCursor>& open_cursor() const noexcept { return result_.open_cursor; }
  std::int64_t rowcount() const noexcept { return result_.rowcount; }
  std::int64_t lastrowid() const noexcept { return result_.lastrowid; }
  // DB-API description: a 7-tuple per column, or None without columns.
  nb::object description() const;

 private:
  QueryResult result_;
  std::size_t position_ = 0;
};

}  // namespace aiolibsql::py
