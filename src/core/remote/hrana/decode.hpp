// Hrana JSON responses read into the core's results. Anything that is not a
// valid answer to what was sent (bad JSON, a missing field, a value of the
// wrong type, a row of the wrong width) raises one error: the server's
// answer is not Hrana. Nothing in a response can crash or hang the reader.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "protocol.hpp"

namespace aiolibsql::hrana {

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
