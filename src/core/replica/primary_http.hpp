// Requests to a replica's primary, whichever sync protocol it speaks. Each
// call blocks the calling thread (a replica's worker, which holds the engine
// while it syncs) until the answer comes or the request times out, and stops
// waiting early once the watched cancellation flag is set.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "http_transport.hpp"
#include "remote_url.hpp"

namespace aiolibsql::replica {

class PrimaryHttp {
 public:
  PrimaryHttp(remote::RemoteEndpoint endpoint, remote::HttpOptions options);

  // Stops waiting for an answer once `*cancelled` is true (the replica's
  // executor sets it for a cancelled sync); null: never.
  void watch_cancellation(const std::atomic<bool>* cancelled) noexcept { cancelled_ = cancelled; }

  // A request for `path` on the primary, with its token and timeouts.
  remote::HttpRequest request(const std::string& path, bool post) const;
  // The answer to `request`, any status; OperationalError when there is none.
  // An idempotent request is sent again once if the connection broke.
  remote::HttpResponse send(remote::HttpRequest request, bool idempotent);

 private:
  std::shared_ptr<remote::HttpTransport> transport_;
  remote::RemoteEndpoint endpoint_;
  remote::HttpOptions options_;
  const std::atomic<bool>* cancelled_ = nullptr;
};

// OperationalError for an answer that is not the one `what` expects: a
// refused token says so, anything else quotes the start of the body.
[[noreturn]] void fail_for_status(const remote::HttpResponse& response, const std::string& what);

}  // namespace aiolibsql::replica
