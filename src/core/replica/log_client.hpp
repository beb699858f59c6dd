// The client side of sqld's replication log ("v1", what a self-hosted sqld
// serves): the ReplicationLog service over gRPC-web on the primary's HTTP
// port. A handshake (Hello) names the log and opens a session whose token
// every later call carries; frames are then asked for from a frame number
// on (BatchLogEntries), or, once the primary has compacted the frames a
// replica needs, as a snapshot of the whole database (Snapshot). Each call
// blocks as PrimaryHttp's do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "grpc_web.hpp"
#include "primary_http.hpp"

namespace aiolibsql::replica {

struct LogHello {
  // The log's UUID, as text.
  std::string log_id;
  std::string session_token;
  // The primary's last frame number, when it says.
  std::optional<std::uint64_t> replication_index;
};

struct LogFrames {
  enum class Kind : std::uint8_t {
    Frames,        // `frames` (none: the replica has every frame)
    NeedSnapshot,  // the frames asked for are compacted away: ask for a snapshot
    NeedHello,     // the session ended (the primary restarted): shake hands again
  };
  Kind kind = Kind::Frames;
  // Each a frame as LogFrame describes it.
  std::vector<std::string> frames;
};

// The answers decoded; DbError (OperationalError) for one that is not the
// service's or that reports another failure.
LogHello decode_hello(const GrpcAnswer& answer);
// `streamed`: the answer of a streaming call (one Frame per message), not
// BatchLogEntries' (one Frames message).
LogFrames decode_log_frames(const GrpcAnswer& answer, bool streamed);

class LogClient {
 public:
  LogClient(remote::RemoteEndpoint endpoint, remote::HttpOptions options);

  void watch_cancellation(const std::atomic<bool>* cancelled) noexcept { http_.watch_cancellation(cancelled); }

  LogHello hello();
  // Frames from `next_frame` on, in order (the primary may send few, or none).
  LogFrames frames_from(std::uint64_t next_frame, const std::string& session_token);
  // The whole database as frames, for a replica that has applied the frames
  // before `next_frame`.
  LogFrames snapshot_from(std::uint64_t next_frame, const std::string& session_token);

 private:
  GrpcAnswer call(const std::string& method, const std::string& request, const std::string& session_token);

  // The x-namespace-bin header every call carries.
  std::string namespace_;
  PrimaryHttp http_;
};

}  // namespace aiolibsql::replica
