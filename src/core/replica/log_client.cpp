#include "log_client.hpp"

#include "base64.hpp"
#include "error.hpp"
#include "proto/replication_log.pb.h"

namespace aiolibsql::replica {

namespace {

// What sqld says, with FAILED_PRECONDITION, for the two states a replica
// recovers from.
constexpr char kNeedSnapshot[] = "NEED_SNAPSHOT";
constexpr char kNoHello[] = "NO_HELLO";
constexpr char kSessionTokenHeader[] = "x-session-token";
// sqld reads a gRPC call's token from here, as libSQL's client sends it.
constexpr char kAuthorizationHeader[] = "x-authorization";

// The namespace libSQL's client names: the first label of the host name
// ("db" for db.example.com), or "default" for a name without a dot. A
// single-database sqld ignores it.
std::string namespace_header(const std::string& base_url) {
  std::string_view host = base_url;
  if (const auto scheme = host.find("://"); scheme != std::string_view::npos) host.remove_prefix(scheme + 3);
  host = host.substr(0, host.find_first_of("/:"));
  const auto dot = host.find('.');
  std::string header = "x-namespace-bin: ";
  hrana::append_base64(header, dot == std::string_view::npos || dot == 0 ? "default" : host.substr(0, dot));
  return header;
}

[[noreturn]] void fail(const std::string& message) { throw DbError(Error{ErrorKind::Operational, -1, message}); }

[[noreturn]] void garbage(const std::string& what) {
  fail("the primary's answer to " + what + " is not sqld's replication log");
}

// Throws for any status but OK.
void check_status(const GrpcAnswer& answer, const std::string& what) {
  if (!answer.status) garbage(what + " (no gRPC status)");
  if (*answer.status == static_cast<std::uint32_t>(GrpcStatus::Ok)) return;
  if (*answer.status == static_cast<std::uint32_t>(GrpcStatus::Unauthenticated)) {
    fail("authentication with the primary failed (gRPC status 16: " + answer.message + "): check the auth token");
  }
  fail("the primary's replication log refused " + what + " (gRPC status " + std::to_string(*answer.status) +
       (answer.message.empty() ? "" : ": " + answer.message) + ")");
}

}  // namespace

LogHello decode_hello(const GrpcAnswer& answer) {
  const std::string what = "Hello";
  check_status(answer, what);
  wal_log::HelloResponse hello;
  if (answer.messages.size() != 1 || !hello.ParseFromString(answer.messages.front())) garbage(what);
  if (hello.log_id().empty() || hello.session_token().empty()) garbage(what);
  // The token goes back as a header: nothing but visible ASCII may reach it.
  for (const char c : hello.session_token()) {
    if (c < 0x21 || c > 0x7e) garbage(what + " (its session token has characters a header cannot carry)");
  }
  LogHello decoded{hello.log_id(), hello.session_token(), std::nullopt};
  if (hello.has_current_replication_index()) decoded.replication_index = hello.current_replication_index();
  return decoded;
}

LogFrames decode_log_frames(const GrpcAnswer& answer, bool streamed) {
  const std::string what = "a request for frames";
  if (answer.status == static_cast<std::uint32_t>(GrpcStatus::FailedPrecondition)) {
    if (answer.message == kNeedSnapshot) return LogFrames{LogFrames::Kind::NeedSnapshot, {}};
    if (answer.message == kNoHello) return LogFrames{LogFrames::Kind::NeedHello, {}};
  }
  check_status(answer, what);
  LogFrames decoded;
  for (const std::string& message : answer.messages) {
    if (streamed) {
      wal_log::Frame frame;
      if (!frame.ParseFromString(message)) garbage(what);
      decoded.frames.push_back(frame.data());
      continue;
    }
    wal_log::Frames batch;
    if (!batch.ParseFromString(message)) garbage(what);
    for (const auto& frame : batch.frames()) decoded.frames.push_back(frame.data());
  }
  return decoded;
}

LogClient::LogClient(remote::RemoteEndpoint endpoint, remote::HttpOptions options)
    : namespace_(namespace_header(endpoint.base_url)), http_(std::move(endpoint), options) {}

GrpcAnswer LogClient::call(const std::string& method, const std::string& request, const std::string& session_token) {
  auto sent = http_.request("/wal_log.ReplicationLog/" + method, true);
  sent.content_type = kGrpcWebContentType;
  sent.authorization_header = kAuthorizationHeader;
  sent.headers.push_back(namespace_);
  if (!session_token.empty()) sent.headers.push_back(std::string(kSessionTokenHeader) + ": " + session_token);
  sent.answer_headers = {"grpc-status", "grpc-message"};
  sent.body = grpc_web_frame(request);
  // Every call only reads the log: sending one again changes nothing.
  const auto response = http_.send(std::move(sent), true);
  if (response.status != 200) fail_for_status(response, method);
  // A call that fails before any message may say so in the headers alone.
  std::string header_trailers;
  for (const auto& [name, value] : response.headers) header_trailers += name + ": " + value + "\r\n";
  return decode_grpc_web(response.body, header_trailers);
}

LogHello LogClient::hello() { return decode_hello(call("Hello", wal_log::HelloRequest().SerializeAsString(), {})); }

namespace {

std::string log_offset(std::uint64_t next_frame) {
  wal_log::LogOffset offset;
  offset.set_next_offset(next_frame);
  return offset.SerializeAsString();
}

}  // namespace

LogFrames LogClient::frames_from(std::uint64_t next_frame, const std::string& session_token) {
  return decode_log_frames(call("BatchLogEntries", log_offset(next_frame), session_token), false);
}

LogFrames LogClient::snapshot_from(std::uint64_t next_frame, const std::string& session_token) {
  return decode_log_frames(call("Snapshot", log_offset(next_frame), session_token), true);
}

}  // namespace aiolibsql::replica
