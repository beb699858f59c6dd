// SQL values as the core passes them between the binding and the engine.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace aiolibsql {

struct Null {
  bool operator==(const Null&) const = default;
};

// Bytes that are a BLOB rather than UTF-8 TEXT.
struct Blob {
  std::string bytes;
  bool operator==(const Blob&) const = default;
};

// TEXT is held as UTF-8 in a std::string.
using Value = std::variant<Null, std::int64_t, double, std::string, Blob>;

// The parameters of one execution: positional (`?`, `?NNN`) or named
// (`:name`, `@name`, `$name`, looked up without their prefix).
struct Params {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> named;
  bool is_named = false;
};

}  // namespace aiolibsql
