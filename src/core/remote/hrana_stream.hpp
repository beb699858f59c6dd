// One Hrana stream over HTTP. Pipelines go out one at a time, each with the
// baton of the previous answer; a base_url the server gives is where the
// stream's later requests go. The caller waits for one answer before sending
// the next pipeline (the protocol requires it).
#pragma once

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

namespace aiolibsql::remote {

// Why a pipeline has no answer. `nothing_ran` when the server refused the
// whole pipeline before running any of it (an expired or unknown baton, a
// refused token), so sending it again on a new stream is safe.
struct StreamFailure {
  Error error;
  bool nothing_ran = false;
  // The connection broke before the whole answer came (see HttpOutcome).
  bool connection_broke = false;
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
  // Aborts the pipeline in flight: its Done gets a Cancelled error. What it
  // did on the server is unknown, so the stream is dropped.
  void cancel();
  // Forgets the stream: the next pipeline opens a new one.
  void drop();
  bool holds_baton() const;
  // Hrana 2 servers lack get_autocommit and the is_autocommit condition.
  bool speaks_v3() const;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace aiolibsql::remote
