// HTTP requests for remote databases, all driven by one native thread with
// libcurl's multi interface: many requests in flight at once over reused
// keep-alive connections (HTTP/2 multiplexing where the server offers it),
// none of them on the caller's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "error.hpp"
#include "secret.hpp"

namespace aiolibsql::remote {

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{10'000};
  // The whole request, from sending to the last byte of the answer; zero:
  // none. A streamed answer (HttpRequest::stream_body) may take as long as
  // its reader does: there it bounds how long the server may send nothing
  // while the reader waits.
  std::chrono::milliseconds request_timeout{0};
  bool verify_tls = true;
};

// What a reader of a streamed answer does with the piece it is offered.
enum class BodyVerdict : std::uint8_t {
  Take,   // consumed it
  Pause,  // did not consume it: it comes again after HttpTransport::resume()
  Stop,   // wants no more: the request fails
};

struct HttpRequest {
  bool post = true;  // POST with `body`, or GET
  std::string url;
  std::string body;
  // The Content-Type of a POST.
  std::string content_type = "application/json";
  // More request headers, each "Name: value".
  std::vector<std::string> headers;
  // Sent as "<authorization_header>: Bearer <token>" when not empty.
  Secret bearer_token;
  std::string authorization_header = "Authorization";
  // The answer's headers to keep in HttpResponse::headers, by name.
  std::vector<std::string> answer_headers;
  HttpOptions options;
  // When set, the body of a 200 answer goes here piece by piece as it
  // arrives, on the transport's thread (it must not block), and not into
  // HttpResponse::body: memory stays bounded by what the reader keeps.
  std::function<BodyVerdict(std::string_view piece)> stream_body;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  // Those of HttpRequest::answer_headers the server sent, name and value.
  std::vector<std::pair<std::string, std::string>> headers;

  std::optional<std::string> header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
};

// What a request came to: the server's answer (any status), or why there is none.
struct HttpOutcome {
  std::optional<HttpResponse> response;
  Error failure;  // set when there is no response
  // The connection broke (reset, closed early, nothing or part of an
  // answer), as opposed to a timeout, a refusal to connect or a cancel.
  bool connection_broke = false;
};

class HttpTransport {
 public:
  // Called once per request on the transport's thread; must not block.
  using Done = std::function<void(HttpOutcome)>;

  // The transport every remote connection of this process shares, so they
  // share its kept-alive connections too. It lives until the process exits,
  // so the last owner of a remote connection, which may be the transport's
  // own thread, never destroys it. A fork() child gets one of its own.
  static std::shared_ptr<HttpTransport> shared();

  HttpTransport();
  // Fails requests still in flight (their Done is called) and joins the
  // thread; in a fork() child, where that thread does not exist, lets all of
  // it go untouched instead.
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // Thread-safe. Returns an id for cancel().
  std::uint64_t send(HttpRequest request, Done done);
  // Aborts the request if it is still in flight: its Done gets a Cancelled error.
  void cancel(std::uint64_t id);
  // Lets a paused streamed answer go on (see BodyVerdict::Pause).
  void resume(std::uint64_t id);
  // Fails requests in flight and joins the thread, as destruction does; later
  // requests fail at once. Not from a Done.
  void stop();

 private:
  struct Engine;
  std::unique_ptr<Engine> engine_;
};

}  // namespace aiolibsql::remote
