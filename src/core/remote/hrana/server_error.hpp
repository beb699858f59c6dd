// A Hrana Error (a message and an optional code) as a DB-API error.
#pragma once

#include <optional>
#include <string_view>

#include "error.hpp"

namespace aiolibsql::hrana {

// The server's code decides: an SQLite result-code name ("SQLITE_CONSTRAINT_UNIQUE")
// maps as a local error with that code would. sqld sends "SQLITE_UNKNOWN" for
// many engine errors, so then an SQLite code named in the message, or the
// "SQLite error:" prefix (SQLITE_ERROR), decides. Hrana's own codes map by
// meaning: bad arguments or SQL text are the caller's mistake.
Error error_from_server(std::string_view message, std::optional<std::string_view> code);

}  // namespace aiolibsql::hrana
