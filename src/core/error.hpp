// Errors raised by the core, classified the way DB-API 2.0 classifies them.
#pragma once

#include <exception>
#include <string>
#include <string_view>

struct sqlite3;

namespace aiolibsql {

// One entry per DB-API exception class the core can raise. The binding maps
// each kind to the matching Python class.
enum class ErrorKind {
  Interface,
  Database,
  Data,
  Operational,
  Integrity,
  Internal,
  Programming,
  NotSupported,
  Memory,
  // The operation was cancelled by its submitter before or while it ran.
  Cancelled,
};

struct Error {
  ErrorKind kind = ErrorKind::Database;
  // The extended SQLite result code, or -1 when the error did not come from
  // the engine (bad parameters, closed connection, ...).
  int sqlite_code = -1;
  std::string message;
};

class DbError : public std::exception {
 public:
  explicit DbError(Error error) : error_(std::move(error)) {}
  DbError(ErrorKind kind, std::string message) : error_{kind, -1, std::move(message)} {}
  const char* what() const noexcept override { return error_.message.c_str(); }
  const Error& error() const noexcept { return error_; }

 private:
  Error error_;
};

// The DB-API class for an (extended) SQLite result code, chosen from its
// primary code as CPython's sqlite3 module does.
ErrorKind error_kind_for(int sqlite_code) noexcept;

// "SQLITE_CONSTRAINT_UNIQUE" for 2067; "SQLITE_UNKNOWN" for codes SQLite does not define.
const char* result_code_name(int sqlite_code) noexcept;

// The code for a name result_code_name() gives ("SQLITE_CONSTRAINT_UNIQUE" ->
// 2067); -1 for a name SQLite does not define.
int result_code_from_name(std::string_view name) noexcept;

// An Error for the connection's most recent failure, with code and message.
Error engine_error(::sqlite3* db, int code);

}  // namespace aiolibsql
