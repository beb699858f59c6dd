#include "hrana_stream.hpp"

#include "decode.hpp"
#include "encode.hpp"

namespace aiolibsql::remote {

namespace {

constexpr std::size_t kBodyExcerpt = 200;

hrana::ResponseDecoder& decoder_of_this_thread() {
  thread_local hrana::ResponseDecoder decoder;
  return decoder;
}

// What an HTTP error status means for a pipeline.
StreamFailure failure_for_status(const HttpResponse& response) {
  const auto server_error = decoder_of_this_thread().decode_error_body(response.body);
  const std::string status = "HTTP " + std::to_string(response.status);
  if (response.status == 401 || response.status == 403) {
    return {Error{ErrorKind::Operational, -1,
                  "authentication with the remote database failed (" + status + "): check the auth token"},
            true};
  }
  if (response.status == 400 && server_error) {
    // sqld refuses a stale or unknown baton, or an expired stream, before running anything.
    return {Error{ErrorKind::Operational, -1, "the remote database refused the request: " + server_error->message},
            true};
  }
  std::string detail = server_error ? server_error->message : response.body.substr(0, kBodyExcerpt);
  return {Error{ErrorKind::Operational, -1, "the remote database answered " + status + ": " + detail}, false};
}

}  // namespace

struct HranaStream::Shared {
  std::shared_ptr<HttpTransport> transport;
  RemoteEndpoint endpoint;
  HttpOptions options;
  mutable std::mutex mutex;
  std::optional<std::string> baton;
  std::optional<std::string> stream_url;  // the server's base_url for this stream
  bool v3 = true;
  // The transport's id of the pipeline in flight, once send() has it; the
  // answer may arrive first, which the generations tell.
  std::optional<std::uint64_t> in_flight;
  std::uint64_t pipelines_sent = 0;
  std::uint64_t pipelines_answered = 0;

  HttpRequest request(std::string_view path, std::string body, bool post) {
    HttpRequest request;
    request.post = post;
    std::lock_guard lock(mutex);
    request.url = stream_url.value_or(endpoint.base_url) + std::string(path);
    request.body = std::move(body);
    request.bearer_token = endpoint.auth_token;
    request.options = options;
    return request;
  }
};

HranaStream::HranaStream(std::shared_ptr<HttpTransport> transport, RemoteEndpoint endpoint, HttpOptions options)
    : shared_(std::make_shared<Shared>()) {
  shared_->transport = std::move(transport);
  shared_->endpoint = std::move(endpoint);
  shared_->options = options;
}

void HranaStream::negotiate(std::function<void(std::optional<StreamFailure>)> done) {
  auto shared = shared_;
  // The spec's check: a server with Hrana 3 over HTTP answers GET v3 with a
  // 2xx; one without it (404) is spoken to with v2 pipelines.
  shared->transport->send(shared->request("/v3", {}, false), [shared, done](HttpOutcome outcome) {
    if (!outcome.response) return done(StreamFailure{std::move(outcome.failure), true});
    const long status = outcome.response->status;
    if (status == 404) {
      std::lock_guard lock(shared->mutex);
      shared->v3 = false;
    } else if (status < 200 || status >= 300) {
      return done(failure_for_status(*outcome.response));
    }
    done(std::nullopt);
  });
}

void HranaStream::send(std::vector<hrana::StreamRequest> requests, Done done) {
  auto shared = shared_;
  hrana::PipelineRequest pipeline;
  std::string path;
  {
    std::lock_guard lock(shared->mutex);
    pipeline.baton = shared->baton;
    path = shared->v3 ? "/v3/pipeline" : "/v2/pipeline";
  }
  std::vector<hrana::RequestType> sent;
  sent.reserve(requests.size());
  for (const auto& request : requests) sent.push_back(hrana::type_of(request));
  pipeline.requests = std::move(requests);
  std::string body;
  try {
    body = hrana::encode_pipeline(pipeline);
  } catch (const DbError& error) {
    return done(StreamFailure{error.error(), true});
  }
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(shared->mutex);
    generation = ++shared->pipelines_sent;
  }
  // Not under the stream's lock: the transport may answer at once.
  const auto id = shared->transport->send(
      shared->request(path, std::move(body), true),
      [shared, generation, done = std::move(done), sent = std::move(sent)](HttpOutcome outcome) {
        Reply reply = [&]() -> Reply {
          if (!outcome.response) return StreamFailure{std::move(outcome.failure), false, outcome.connection_broke};
          if (outcome.response->status != 200) return failure_for_status(*outcome.response);
          try {
            auto response = decoder_of_this_thread().decode_pipeline(outcome.response->body, sent);
            if (response.base_url && !acceptable_stream_url(*response.base_url, shared->endpoint.base_url)) {
              // What the pipeline did stands, but the stream cannot go on
              // there: a transaction on it is lost, as on a broken connection.
              return StreamFailure{Error{ErrorKind::Operational, -1,
                                         "the remote database moved the stream to a URL that is not https:// like "
                                         "the one connected to (or not an http URL at all); refused, so that the "
                                         "token is never sent in the clear"},
                                   false};
            }
            return response;
          } catch (const DbError& error) {
            return StreamFailure{error.error(), false};
          }
        }();
        {
          std::lock_guard lock(shared->mutex);
          shared->in_flight.reset();
          shared->pipelines_answered = generation;
          if (const auto* response = std::get_if<hrana::PipelineResponse>(&reply)) {
            shared->baton = response->baton;
            if (!response->baton) {
              shared->stream_url.reset();
            } else if (response->base_url) {
              shared->stream_url = *response->base_url;
            }
          } else {
            shared->baton.reset();
            shared->stream_url.reset();
          }
        }
        done(std::move(reply));
      });
  std::lock_guard lock(shared->mutex);
  if (shared->pipelines_answered != generation) shared->in_flight = id;
}

void HranaStream::cancel() {
  std::optional<std::uint64_t> in_flight;
  {
    std::lock_guard lock(shared_->mutex);
    in_flight = shared_->in_flight;
  }
  if (in_flight) shared_->transport->cancel(*in_flight);
}

void HranaStream::drop() {
  std::lock_guard lock(shared_->mutex);
  shared_->baton.reset();
  shared_->stream_url.reset();
}

bool HranaStream::holds_baton() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->baton.has_value();
}

bool HranaStream::speaks_v3() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->v3;
}

}  // namespace aiolibsql::remote
