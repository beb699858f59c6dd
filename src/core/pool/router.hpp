// Where a pool sends a statement, as the engine says (never guessed from the
// text): each SQL text is prepared once on a classifier connection that never
// steps it, and the answer is remembered for that text.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "connection.hpp"
#include "pool_backend.hpp"

namespace aiolibsql {

class StatementRouter {
 public:
  // Opens the classifier as the pool's members open the file, so it reads
  // the same file however the name is spelled. `still_wanted` runs under the
  // router's lock first and throws to open nothing (the pool closed meanwhile).
  void open(const OpenOptions& options, const std::function<void()>& still_wanted);
  void close();
  // Before open(), or for SQL the engine refuses (an unknown table, which an
  // earlier queued write may create), the route says only "not read-only".
  Route route(std::string_view sql);

 private:
  // The classifier's authorizer: notes actions that change a connection's settings.
  static int note_connection_change(void* self, int action, const char* first, const char* second, const char* schema,
                                    const char* trigger) noexcept;

  std::mutex mutex_;
  Connection classifier_;
  // Set by note_connection_change while route() prepares a statement.
  bool changes_connection_ = false;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
  };
  std::unordered_map<std::string, Route, Hash, std::equal_to<>> routes_;
};

}  // namespace aiolibsql
