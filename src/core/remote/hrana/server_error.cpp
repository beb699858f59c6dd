#include "server_error.hpp"

#include <cctype>
#include <charconv>
#include <string>
#include <utility>

namespace aiolibsql::hrana {

namespace {

constexpr int kSqliteError = 1;

// Phrases of SQLite's own messages that name their primary result code, for
// servers that send the message without a usable code.
constexpr std::pair<std::string_view, int> kMessagePhrases[] = {
    {"constraint failed", 19},                    // SQLITE_CONSTRAINT
    {"datatype mismatch", 20},                    // SQLITE_MISMATCH
    {"database is locked", 5},                    // SQLITE_BUSY
    {"database table is locked", 6},              // SQLITE_LOCKED
    {"attempt to write a readonly database", 8},  // SQLITE_READONLY
    {"string or blob too big", 18},               // SQLITE_TOOBIG
    {"database or disk is full", 13},             // SQLITE_FULL
    {"database disk image is malformed", 11},     // SQLITE_CORRUPT
    {"interrupted", 9},                           // SQLITE_INTERRUPT
};

// The longest SQLite result-code name that appears in `message`, as a code.
int code_named_in(std::string_view message) {
  int found = -1;
  std::size_t found_length = 0;
  for (std::size_t at = message.find("SQLITE_"); at != std::string_view::npos; at = message.find("SQLITE_", at + 1)) {
    std::size_t end = at;
    while (end < message.size() && (std::isupper(static_cast<unsigned char>(message[end])) || message[end] == '_')) {
      ++end;
    }
    const auto name = message.substr(at, end - at);
    if (const int code = result_code_from_name(name); code >= 0 && name.size() > found_length) {
      found = code;
      found_length = name.size();
    }
  }
  return found;
}

// The result code some servers append to the message, as in "... (19)".
int trailing_code(std::string_view message) {
  if (!message.ends_with(')')) return -1;
  const auto open = message.rfind('(');
  if (open == std::string_view::npos) return -1;
  const auto digits = message.substr(open + 1, message.size() - open - 2);
  int code = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), code);
  if (error != std::errc() || end != digits.data() + digits.size() || digits.empty()) return -1;
  return result_code_name(code) == std::string_view("SQLITE_UNKNOWN") ? -1 : code;
}

}  // namespace

Error error_from_server(std::string_view message, std::optional<std::string_view> code) {
  std::string text(message);
  if (code) {
    if (const int sqlite_code = result_code_from_name(*code); sqlite_code >= 0) {
      return Error{error_kind_for(sqlite_code), sqlite_code, std::move(text)};
    }
    if (code->starts_with("ARGS_") || *code == "SQL_NO_STATEMENT" || *code == "SQL_MANY_STATEMENTS") {
      return Error{ErrorKind::Programming, -1, std::move(text)};
    }
    // tursodb's code for an error while preparing (no such table, a syntax error).
    if (code->starts_with("SQL_PARSE") || *code == "PREPARE_ERROR") {
      return Error{ErrorKind::Operational, kSqliteError, std::move(text)};
    }
  }
  if (const int trailing = trailing_code(message); trailing >= 0) {
    return Error{error_kind_for(trailing), trailing, std::move(text)};
  }
  if (const int named = code_named_in(message); named >= 0) {
    return Error{error_kind_for(named), named, std::move(text)};
  }
  for (const auto& [phrase, primary_code] : kMessagePhrases) {
    if (message.find(phrase) != std::string_view::npos) {
      return Error{error_kind_for(primary_code), primary_code, std::move(text)};
    }
  }
  if (message.starts_with("SQLite error:")) return Error{ErrorKind::Operational, kSqliteError, std::move(text)};
  return Error{ErrorKind::Operational, -1, std::move(text)};
}

}  // namespace aiolibsql::hrana
