// The rest of a result that has more rows than its first chunk, wherever
// they wait: in the engine, or still on their way from a remote server.
// Shared by every chunk of that result; the last holder to let go releases
// what the rows still hold there.
#pragma once

#include <cstdint>
#include <memory>

#include "cancellable.hpp"
#include "executor.hpp"

namespace aiolibsql {

class OpenCursor {
 public:
  virtual ~OpenCursor() = default;
  // What cancels a fetch of these rows by its tag; null once the connection
  // they come from is gone.
  virtual std::shared_ptr<Cancellable> fetcher() const = 0;
  // Starts fetching the next chunk: `sink` gets a QueryResult whose
  // open_cursor is `self` while rows remain after it, or an Error.
  virtual void fetch(std::shared_ptr<OpenCursor> self, std::shared_ptr<CompletionSink> sink, std::uintptr_t tag) = 0;
};

}  // namespace aiolibsql
