#include "decode.hpp"

#include <simdjson.h>

#include <charconv>
#include <string>
#include <utility>

#include "base64.hpp"
#include "server_error.hpp"

namespace aiolibsql::hrana {

namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

[[noreturn]] void not_hrana(std::string_view what) {
  throw DbError(ErrorKind::Operational, "the server's answer is not valid Hrana: " + std::string(what));
}

object as_object(element value, std::string_view what) {
  object result;
  if (value.get_object().get(result) != simdjson::SUCCESS) not_hrana(std::string(what) + " is not an object");
  return result;
}

array as_array(element value, std::string_view what) {
  array result;
  if (value.get_array().get(result) != simdjson::SUCCESS) not_hrana(std::string(what) + " is not an array");
  return result;
}

std::string_view as_string(element value, std::string_view what) {
  std::string_view result;
  if (value.get_string().get(result) != simdjson::SUCCESS) not_hrana(std::string(what) + " is not a string");
  return result;
}

// A field that may be missing or null.
std::optional<element> optional_field(object container, std::string_view key) {
  element value;
  if (container.at_key(key).get(value) != simdjson::SUCCESS || value.is_null()) return std::nullopt;
  return value;
}

element required_field(object container, std::string_view key) {
  element value;
  if (container.at_key(key).get(value) != simdjson::SUCCESS) not_hrana("missing \"" + std::string(key) + "\"");
  return value;
}

std::optional<std::string> optional_string(object container, std::string_view key) {
  const auto value = optional_field(container, key);
  if (!value) return std::nullopt;
  return std::string(as_string(*value, key));
}

std::int64_t integer_from_text(std::string_view text, std::string_view what) {
  std::int64_t result = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), result);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    not_hrana(std::string(what) + " is not a 64-bit integer");
  }
  return result;
}

// Integers travel as strings; a number is accepted too when it is exact.
std::int64_t as_integer(element value, std::string_view what) {
  std::int64_t result = 0;
  if (value.get_int64().get(result) == simdjson::SUCCESS) return result;
  return integer_from_text(as_string(value, what), what);
}

std::uint64_t as_count(element value, std::string_view what) {
  std::uint64_t result = 0;
  if (value.get_uint64().get(result) != simdjson::SUCCESS) not_hrana(std::string(what) + " is not a count");
  return result;
}

bool as_bool(element value, std::string_view what) {
  bool result = false;
  if (value.get_bool().get(result) != simdjson::SUCCESS) not_hrana(std::string(what) + " is not a boolean");
  return result;
}

void append_value(RowChunk& rows, element value) {
  const object cell = as_object(value, "a value");
  const std::string_view type = as_string(required_field(cell, "type"), "a value's type");
  if (type == "null") {
    rows.append_null();
  } else if (type == "integer") {
    rows.append_integer(as_integer(required_field(cell, "value"), "an integer value"));
  } else if (type == "float") {
    double real = 0;
    if (required_field(cell, "value").get_double().get(real) != simdjson::SUCCESS) {
      // A server that cannot write an infinity in JSON sends null: the value is lost.
      not_hrana("a float value is not a finite number");
    }
    rows.append_real(real);
  } else if (type == "text") {
    rows.append_text(as_string(required_field(cell, "value"), "a text value"));
  } else if (type == "blob") {
    const auto bytes = decode_base64(as_string(required_field(cell, "base64"), "a blob value"));
    if (!bytes) not_hrana("a blob value is not base64");
    rows.append_blob(*bytes);
  } else {
    not_hrana("unknown value type \"" + std::string(type) + "\"");
  }
}

Error error_of(element value) {
  const object error = as_object(value, "an error");
  const std::string_view message = as_string(required_field(error, "message"), "an error's message");
  const auto code = optional_field(error, "code");
  return error_from_server(message, code ? std::optional(as_string(*code, "an error's code")) : std::nullopt);
}

Columns columns_of(array columns) {
  Columns result;
  for (const element column_value : columns) {
    const object column = as_object(column_value, "a column");
    const auto name = optional_field(column, "name");
    const auto decltype_ = optional_field(column, "decltype");
    result.names.emplace_back(name ? as_string(*name, "a column name") : std::string_view());
    result.decltypes.emplace_back(decltype_ ? as_string(*decltype_, "a column decltype") : std::string_view());
  }
  return result;
}

StatementResult statement_result_of(element value) {
  const object result = as_object(value, "a statement result");
  StatementResult decoded;
  Columns columns = columns_of(as_array(required_field(result, "cols"), "cols"));
  const std::size_t width = columns.names.size();
  if (width > 0) decoded.columns = std::make_shared<const Columns>(std::move(columns));
  decoded.rows = RowChunk(width);
  for (const element row_value : as_array(required_field(result, "rows"), "rows")) {
    const array row = as_array(row_value, "a row");
    if (row.size() != width) not_hrana("a row's width differs from its columns'");
    for (const element cell : row) append_value(decoded.rows, cell);
  }
  if (const auto affected = optional_field(result, "affected_row_count")) {
    decoded.affected_row_count = as_count(*affected, "affected_row_count");
  }
  if (const auto rowid = optional_field(result, "last_insert_rowid")) {
    decoded.last_insert_rowid = as_integer(*rowid, "last_insert_rowid");
  }
  return decoded;
}

BatchResult batch_result_of(element value) {
  const object result = as_object(value, "a batch result");
  BatchResult decoded;
  for (const element step : as_array(required_field(result, "step_results"), "step_results")) {
    if (step.is_null()) {
      decoded.step_results.emplace_back();
    } else {
      decoded.step_results.emplace_back(statement_result_of(step));
    }
  }
  for (const element step : as_array(required_field(result, "step_errors"), "step_errors")) {
    if (step.is_null()) {
      decoded.step_errors.emplace_back();
    } else {
      decoded.step_errors.emplace_back(error_of(step));
    }
  }
  if (decoded.step_results.size() != decoded.step_errors.size()) {
    not_hrana("a batch's step_results and step_errors differ in length");
  }
  return decoded;
}

DescribeResult describe_result_of(element value) {
  const object result = as_object(value, "a describe result");
  DescribeResult decoded;
  for (const element parameter_value : as_array(required_field(result, "params"), "params")) {
    const object parameter = as_object(parameter_value, "a parameter");
    const auto name = optional_field(parameter, "name");
    decoded.parameter_names.emplace_back(name ? std::optional<std::string>(as_string(*name, "a parameter name"))
                                              : std::nullopt);
  }
  decoded.columns = columns_of(as_array(required_field(result, "cols"), "cols"));
  decoded.is_explain = as_bool(required_field(result, "is_explain"), "is_explain");
  decoded.is_readonly = as_bool(required_field(result, "is_readonly"), "is_readonly");
  return decoded;
}

StreamResult stream_result_of(element value, RequestType sent) {
  const object result = as_object(value, "a result");
  const std::string_view type = as_string(required_field(result, "type"), "a result's type");
  if (type == "error") return error_of(required_field(result, "error"));
  if (type != "ok") not_hrana("unknown result type \"" + std::string(type) + "\"");
  const object response = as_object(required_field(result, "response"), "a response");
  const std::string_view response_type = as_string(required_field(response, "type"), "a response's type");
  if (response_type != request_type_name(sent)) {
    not_hrana("a \"" + std::string(response_type) + "\" response answers a \"" + request_type_name(sent) +
              "\" request");
  }
  switch (sent) {
    case RequestType::Execute:
      return statement_result_of(required_field(response, "result"));
    case RequestType::Batch:
      return batch_result_of(required_field(response, "result"));
    case RequestType::Describe:
      return describe_result_of(required_field(response, "result"));
    case RequestType::GetAutocommit:
      return AutocommitState{as_bool(required_field(response, "is_autocommit"), "is_autocommit")};
    default:
      return Acknowledged{sent};
  }
}

}  // namespace

// A simdjson parser, whose buffers are kept from one document to the next.
struct JsonParser {
  simdjson::dom::parser parser;

  element parse(std::string_view body) {
    element document;
    if (const auto error = parser.parse(body.data(), body.size()).get(document); error != simdjson::SUCCESS) {
      not_hrana(std::string("not JSON (") + simdjson::error_message(error) + ")");
    }
    return document;
  }
};

struct ResponseDecoder::Parser : JsonParser {};
struct CursorDecoder::Parser : JsonParser {};

CursorDecoder::CursorDecoder() : parser_(std::make_unique<Parser>()) {}
CursorDecoder::~CursorDecoder() = default;

void CursorDecoder::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto newline = bytes.find('\n');
    if (newline == std::string_view::npos) {
      pending_.append(bytes);
      return;
    }
    if (pending_.empty()) {
      decode_line(bytes.substr(0, newline));
    } else {
      pending_.append(bytes.substr(0, newline));
      const std::string line = std::move(pending_);
      pending_.clear();
      decode_line(line);
    }
    bytes.remove_prefix(newline + 1);
  }
}

RowChunk CursorDecoder::take_rows() {
  if (steps_.empty()) return RowChunk();
  RowChunk& rows = steps_.back().rows;
  return std::exchange(rows, RowChunk(rows.column_count()));
}

void CursorDecoder::finish() {
  if (!pending_.empty()) {
    const std::string line = std::move(pending_);
    pending_.clear();
    decode_line(line);
  }
  if (!has_header_) not_hrana("the cursor's answer is empty");
  if (!steps_.empty() && !steps_.back().ended && !batch_error_) not_hrana("the cursor ended inside a step");
}

void CursorDecoder::decode_line(std::string_view line) {
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
  if (batch_error_) not_hrana("an entry follows the cursor's error");
  const object entry = as_object(parser_->parse(line), "a cursor line");
  if (!has_header_) {
    baton_ = optional_string(entry, "baton");
    base_url_ = optional_string(entry, "base_url");
    has_header_ = true;
    return;
  }
  const std::string_view type = as_string(required_field(entry, "type"), "a cursor entry's type");
  CursorStep* current = steps_.empty() || steps_.back().ended ? nullptr : &steps_.back();
  auto step_index = [&]() -> std::uint32_t {
    const std::uint64_t index = as_count(required_field(entry, "step"), "a step index");
    if (index > UINT32_MAX) not_hrana("a step index is out of range");
    if (!steps_.empty() && index <= steps_.back().index && (current == nullptr || index != current->index)) {
      not_hrana("steps arrive out of order");
    }
    return static_cast<std::uint32_t>(index);
  };
  if (type == "step_begin") {
    if (current != nullptr) not_hrana("a step begins before the previous one ended");
    CursorStep step;
    step.index = step_index();
    Columns columns = columns_of(as_array(required_field(entry, "cols"), "cols"));
    step.rows = RowChunk(columns.names.size());
    if (!columns.names.empty()) step.columns = std::make_shared<const Columns>(std::move(columns));
    steps_.push_back(std::move(step));
  } else if (type == "row") {
    if (current == nullptr) not_hrana("a row arrives outside a step");
    const array row = as_array(required_field(entry, "row"), "a row");
    if (row.size() != current->rows.column_count()) not_hrana("a row's width differs from its columns'");
    for (const element cell : row) append_value(current->rows, cell);
  } else if (type == "step_end") {
    if (current == nullptr) not_hrana("a step ends that did not begin");
    if (const auto affected = optional_field(entry, "affected_row_count")) {
      current->affected_row_count = as_count(*affected, "affected_row_count");
    }
    if (const auto rowid = optional_field(entry, "last_insert_rowid")) {
      current->last_insert_rowid = as_integer(*rowid, "last_insert_rowid");
    }
    current->ended = true;
  } else if (type == "step_error") {
    const std::uint32_t index = step_index();
    if (current == nullptr) {
      // It failed before it began.
      steps_.push_back(CursorStep{});
      steps_.back().index = index;
      current = &steps_.back();
    } else if (current->index != index) {
      not_hrana("a step error names another step than the one running");
    }
    current->error = error_of(required_field(entry, "error"));
    current->ended = true;
  } else if (type == "error") {
    batch_error_ = error_of(required_field(entry, "error"));
  } else {
    not_hrana("unknown cursor entry \"" + std::string(type) + "\"");
  }
}

ResponseDecoder::ResponseDecoder() : parser_(std::make_unique<Parser>()) {}
ResponseDecoder::~ResponseDecoder() = default;

PipelineResponse ResponseDecoder::decode_pipeline(std::string_view body, std::span<const RequestType> sent) {
  const object response = as_object(parser_->parse(body), "the response");
  PipelineResponse decoded;
  decoded.baton = optional_string(response, "baton");
  decoded.base_url = optional_string(response, "base_url");
  const array results = as_array(required_field(response, "results"), "results");
  if (results.size() != sent.size()) not_hrana("it answers a different number of requests than were sent");
  std::size_t index = 0;
  for (const element result : results) decoded.results.push_back(stream_result_of(result, sent[index++]));
  return decoded;
}

std::optional<Error> ResponseDecoder::decode_error_body(std::string_view body) {
  try {
    const element body_value = parser_->parse(body);
    if (!optional_field(as_object(body_value, "the body"), "message")) return std::nullopt;
    return error_of(body_value);
  } catch (const DbError&) {
    return std::nullopt;
  }
}

}  // namespace aiolibsql::hrana
