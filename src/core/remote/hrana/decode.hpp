// Hrana JSON responses read into the core's results. Anything that is not a
// valid answer to what was sent (bad JSON, a missing field, a value of the
// wrong type, a row of the wrong width) raises one error: the server's
// answer is not Hrana. Nothing in a response can crash or hang the reader.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol.hpp"

namespace aiolibsql::hrana {

// One step of a batch read through a cursor, as its entries arrive.
struct CursorStep {
  std::uint32_t index = 0;
  std::shared_ptr<const Columns> columns;  // null when it has no columns
  // Rows decoded and not yet taken by the reader (take them to bound memory).
  RowChunk rows;
  bool ended = false;  // step_end or step_error arrived
  std::uint64_t affected_row_count = 0;
  std::optional<std::int64_t> last_insert_rowid;
  std::optional<Error> error;
};

// Reads the body of POST v3/cursor (one JSON value per line) as it arrives,
// in pieces of any size. Throws DbError (OperationalError) for anything that
// is not a valid cursor: bad JSON, entries out of order, rows of the wrong width.
class CursorDecoder {
 public:
  CursorDecoder();
  ~CursorDecoder();
  CursorDecoder(const CursorDecoder&) = delete;
  CursorDecoder& operator=(const CursorDecoder&) = delete;

  void feed(std::string_view bytes);
  // The body ended: throws unless it ended after a whole entry.
  void finish();

  // From the first line.
  bool has_header() const noexcept { return has_header_; }
  const std::optional<std::string>& baton() const noexcept { return baton_; }
  const std::optional<std::string>& base_url() const noexcept { return base_url_; }
  // Steps in the order the server ran them; skipped steps do not appear.
  const std::vector<CursorStep>& steps() const noexcept { return steps_; }
  // The rows of the latest step decoded so far, leaving it none: a reader
  // that takes them as they come holds one chunk at a time, however many
  // rows the step has.
  RowChunk take_rows();
  // An error entry: the whole batch failed; nothing follows it.
  const std::optional<Error>& batch_error() const noexcept { return batch_error_; }

 private:
  void decode_line(std::string_view line);

  struct Parser;
  std::unique_ptr<Parser> parser_;
  std::string pending_;  // the start of a line whose end has not arrived
  bool has_header_ = false;
  std::optional<std::string> baton_;
  std::optional<std::string> base_url_;
  std::vector<CursorStep> steps_;
  std::optional<Error> batch_error_;
};

// One per transport thread: it keeps its parser's buffers between responses.
class ResponseDecoder {
 public:
  ResponseDecoder();
  ~ResponseDecoder();
  ResponseDecoder(const ResponseDecoder&) = delete;
  ResponseDecoder& operator=(const ResponseDecoder&) = delete;

  // Throws DbError (OperationalError) unless `body` answers each of `sent`, in order.
  PipelineResponse decode_pipeline(std::string_view body, std::span<const RequestType> sent);

  // The Error of an HTTP error response's body, if it holds one.
  std::optional<Error> decode_error_body(std::string_view body);

 private:
  struct Parser;
  std::unique_ptr<Parser> parser_;
};

}  // namespace aiolibsql::hrana
