// gRPC-web framing, as sqld serves its replication log on its HTTP port:
// each message goes in a frame of one flag byte (0: a message, 0x80: the
// trailers), a 32-bit big-endian length and the bytes; the call's status
// comes in the trailers frame ("grpc-status", "grpc-message"), or, when the
// call fails before any message, in the answer's headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aiolibsql::replica {

inline constexpr char kGrpcWebContentType[] = "application/grpc-web+proto";

// gRPC's status codes that a replica tells apart.
enum class GrpcStatus : std::uint32_t {
  Ok = 0,
  FailedPrecondition = 9,
  Unauthenticated = 16,
};

struct GrpcAnswer {
  std::vector<std::string> messages;
  // Nothing when neither the body nor the headers carry a status.
  std::optional<std::uint32_t> status;
  std::string message;
};

// One message, framed.
std::string grpc_web_frame(std::string_view message);

// The frames of an answer's body. `header_trailers`, the answer's
// grpc-status and grpc-message headers as trailer lines, count when the body
// has no trailers. Throws DbError (OperationalError) for a body that is not
// whole frames, or has frames after its trailers.
GrpcAnswer decode_grpc_web(std::string_view body, std::string_view header_trailers = {});

}  // namespace aiolibsql::replica
