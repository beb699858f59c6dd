#include "primary_http.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

#include "error.hpp"

namespace aiolibsql::replica {

namespace {

constexpr std::size_t kBodyExcerpt = 200;
// How often a waiting sync looks whether it was cancelled.
constexpr auto kCancellationCheck = std::chrono::milliseconds(20);

}  // namespace

void fail_for_status(const remote::HttpResponse& response, const std::string& what) {
  const std::string status = "HTTP " + std::to_string(response.status);
  if (response.status == 401 || response.status == 403) {
    throw DbError(Error{ErrorKind::Operational, -1,
                        "authentication with the primary failed (" + status + "): check the auth token"});
  }
  throw DbError(
      Error{ErrorKind::Operational, -1,
            "the primary answered " + what + " with " + status + ": " + response.body.substr(0, kBodyExcerpt)});
}

PrimaryHttp::PrimaryHttp(remote::RemoteEndpoint endpoint, remote::HttpOptions options)
    : transport_(remote::HttpTransport::shared()), endpoint_(std::move(endpoint)), options_(options) {}

remote::HttpRequest PrimaryHttp::request(const std::string& path, bool post) const {
  remote::HttpRequest request;
  request.post = post;
  request.url = endpoint_.base_url + path;
  request.bearer_token = endpoint_.auth_token;
  request.options = options_;
  return request;
}

remote::HttpResponse PrimaryHttp::send(remote::HttpRequest request, bool idempotent) {
  for (int attempt = 0;; ++attempt) {
    struct Waiter {
      std::mutex mutex;
      std::condition_variable done;
      std::optional<remote::HttpOutcome> outcome;
    };
    auto waiter = std::make_shared<Waiter>();
    const auto id = transport_->send(idempotent ? request : std::move(request), [waiter](remote::HttpOutcome outcome) {
      std::lock_guard lock(waiter->mutex);
      waiter->outcome = std::move(outcome);
      waiter->done.notify_all();
    });
    std::unique_lock lock(waiter->mutex);
    while (!waiter->done.wait_for(lock, kCancellationCheck, [&] { return waiter->outcome.has_value(); })) {
      if (cancelled_ != nullptr && cancelled_->load(std::memory_order_relaxed)) {
        lock.unlock();
        transport_->cancel(id);
        lock.lock();
        waiter->done.wait(lock, [&] { return waiter->outcome.has_value(); });
        throw DbError(Error{ErrorKind::Operational, -1, "interrupted"});
      }
    }
    remote::HttpOutcome outcome = std::move(*waiter->outcome);
    if (outcome.response) return std::move(*outcome.response);
    if (idempotent && outcome.connection_broke && attempt == 0) continue;
    throw DbError(outcome.failure);
  }
}

}  // namespace aiolibsql::replica
