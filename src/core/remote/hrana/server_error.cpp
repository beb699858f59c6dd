#include "server_error.hpp"

#include <cctype>
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
    if (code->starts_with("SQL_PARSE")) return Error{ErrorKind::Operational, kSqliteError, std::move(text)};
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
