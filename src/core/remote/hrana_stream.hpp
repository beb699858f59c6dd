// One Hrana stream over HTTP. Pipelines go out one at a time, each with the
// baton of the previous answer; a base_url the server gives is where the
// stream's later requests go. The caller waits for one answer before sending
// the next pipeline (the protocol requires it).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "http_transport.hpp"
#include "protocol.hpp"
#include "remote_url.hpp"

namespace aiolibsql::hrana {
class CursorDecoder;
}

namespace aiolibsql::remote {

// sqld lets a stream idle for 10 s expire. Outside a transaction, a stream
// idle for half that is left to expire rather than risk a round trip that
// the server refuses.
inline constexpr std::chrono::milliseconds kStreamReuseWindow{5'000};

// Why a pipeline has no answer. `nothing_ran` when the server refused the
// whole pipeline before running any of it (an expired or unknown baton, a
// refused token), so sending it again on a new stream is safe.
struct StreamFailure {
  Error error;
  bool nothing_ran = false;
  // The connection broke before the whole answer came (see HttpOutcome).
  bool connection_broke = false;
  // It never left the process (it could not be encoded): the stream is as it was.
  bool not_sent = false;
};

// Reads the answer of a cursor (HranaStream::send_cursor) as it arrives.
// Called on the transport's thread; must not block.
class CursorReader {
 public:
  virtual ~CursorReader() = default;
  // Whether to read more of the answer now; false pauses it until
  // HranaStream::resume().
  virtual bool wants_more() = 0;
  // The decoder has read another piece of the answer.
  virtual void read(hrana::CursorDecoder& decoder) = 0;
  // The answer ended: whole, or not (then the stream is gone).
  virtual void ended(std::optional<StreamFailure> failure) = 0;
};

class HranaStream {
 public:
  using Reply = std::variant<hrana::PipelineResponse, StreamFailure>;
  // Called on the transport's thread; must not block.
  using Done = std::function<void(Reply)>;

  HranaStream(std::shared_ptr<HttpTransport> transport, RemoteEndpoint endpoint, HttpOptions options);

  // Checks the server speaks Hrana 3 over HTTP (or 2, as a fallback) and
  // accepts the token, before any statement runs.
  void negotiate(std::function<void(std::optional<StreamFailure>)> done);
  void send(std::vector<hrana::StreamRequest> requests, Done done);
  // Runs `batch` through POST v3/cursor (Hrana 3 only), its answer read by
  // `reader` as it arrives; like a pipeline, the next request waits for its end.
  void send_cursor(hrana::Batch batch, std::shared_ptr<CursorReader> reader);
  // Lets the paused answer of the cursor in flight go on.
  void resume();
  // Aborts the pipeline in flight: its Done gets a Cancelled error. What it
  // did on the server is unknown, so the stream is dropped.
  void cancel();
  // Forgets the stream: the next pipeline opens a new one.
  void drop();
  // Forgets the stream if no answer came for longer than `idle`.
  void drop_if_idle_for(std::chrono::milliseconds idle);
  bool holds_baton() const;
  // Hrana 2 servers lack get_autocommit and the is_autocommit condition.
  bool speaks_v3() const;
  // False for a server that answers every request on a stream of its own
  // (no batons): nothing may stay open between two requests there.
  bool keeps_streams() const;

 private:
  struct Shared;
  static void probe_streams(std::shared_ptr<Shared> shared, std::function<void(std::optional<StreamFailure>)> done);
  std::shared_ptr<Shared> shared_;
};

}  // namespace aiolibsql::remote
