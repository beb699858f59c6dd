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
  std::chrono::steady_clock::time_point last_answer;
  bool v3 = true;
  // Whether the server keeps a stream between requests (batons); Hrana 3
  // over HTTP requires it, a Hrana 2 server is asked.
  bool keeps_streams = true;
  // The transport's id of the request in flight, once dispatch() has it;
  // the answer may arrive first, which the generations tell.
  std::optional<std::uint64_t> in_flight;
  std::uint64_t requests_sent = 0;
  std::uint64_t requests_answered = 0;

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

  // Sends one request of this stream; `answered` gets its outcome once the
  // stream has taken it off its books, and says where the stream goes on:
  // the baton and base_url of a whole answer, or nothing.
  using Answered = std::function<void(HttpOutcome)>;
  void dispatch(HttpRequest request, Answered answered, std::shared_ptr<Shared> self) {
    std::uint64_t generation = 0;
    {
      std::lock_guard lock(mutex);
      generation = ++requests_sent;
    }
    // Not under the lock: the transport may answer at once.
    const auto id =
        transport->send(std::move(request), [self, generation, answered = std::move(answered)](HttpOutcome outcome) {
          {
            std::lock_guard lock(self->mutex);
            self->in_flight.reset();
            self->requests_answered = generation;
            self->last_answer = std::chrono::steady_clock::now();
          }
          answered(std::move(outcome));
        });
    std::lock_guard lock(mutex);
    if (requests_answered != generation) in_flight = id;
  }

  // Where the stream goes on after an answer: nowhere (it ended or broke) or
  // the baton and URL the server gave.
  void go_on(const std::optional<std::string>& next_baton, const std::optional<std::string>& base_url) {
    std::lock_guard lock(mutex);
    baton = next_baton;
    if (!next_baton) {
      stream_url.reset();
    } else if (base_url) {
      stream_url = *base_url;
    }
  }
};

namespace {

// Why an answer that moved the stream cannot be followed, if it cannot.
std::optional<StreamFailure> refused_move(const std::optional<std::string>& base_url, const RemoteEndpoint& endpoint) {
  if (!base_url || acceptable_stream_url(*base_url, endpoint.base_url)) return std::nullopt;
  // What the request did stands, but the stream cannot go on there: a
  // transaction on it is lost, as on a broken connection.
  return StreamFailure{Error{ErrorKind::Operational, -1,
                             "the remote database moved the stream to a URL that is not https:// like the one "
                             "connected to (or not an http URL at all); refused, so that the token is never sent "
                             "in the clear"},
                       false};
}

}  // namespace

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
      {
        std::lock_guard lock(shared->mutex);
        shared->v3 = false;
      }
      return probe_streams(shared, std::move(done));
    }
    if (status < 200 || status >= 300) return done(failure_for_status(*outcome.response));
    done(std::nullopt);
  });
}

void HranaStream::probe_streams(std::shared_ptr<Shared> shared,
                                std::function<void(std::optional<StreamFailure>)> done) {
  // An empty pipeline opens a stream: a server that keeps streams answers
  // with its baton (kept for the first statement), one that keeps none
  // (tursodb) without.
  hrana::PipelineRequest empty;
  shared->transport->send(
      shared->request("/v2/pipeline", hrana::encode_pipeline(empty), true), [shared, done](HttpOutcome outcome) {
        if (!outcome.response) return done(StreamFailure{std::move(outcome.failure), true});
        if (outcome.response->status != 200) return done(failure_for_status(*outcome.response));
        try {
          const auto response = decoder_of_this_thread().decode_pipeline(outcome.response->body, {});
          if (auto refused = refused_move(response.base_url, shared->endpoint)) return done(std::move(*refused));
          {
            std::lock_guard lock(shared->mutex);
            shared->keeps_streams = response.baton.has_value();
          }
          shared->go_on(response.baton, response.base_url);
        } catch (const DbError& error) {
          return done(StreamFailure{error.error(), true});
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
    return done(StreamFailure{error.error(), true, false, true});
  }
  shared->dispatch(
      shared->request(path, std::move(body), true),
      [shared, done = std::move(done), sent = std::move(sent)](HttpOutcome outcome) {
        Reply reply = [&]() -> Reply {
          if (!outcome.response) return StreamFailure{std::move(outcome.failure), false, outcome.connection_broke};
          if (outcome.response->status != 200) return failure_for_status(*outcome.response);
          try {
            auto response = decoder_of_this_thread().decode_pipeline(outcome.response->body, sent);
            if (auto refused = refused_move(response.base_url, shared->endpoint)) return std::move(*refused);
            return response;
          } catch (const DbError& error) {
            return StreamFailure{error.error(), false};
          }
        }();
        if (const auto* response = std::get_if<hrana::PipelineResponse>(&reply)) {
          shared->go_on(response->baton, response->base_url);
        } else {
          shared->go_on(std::nullopt, std::nullopt);
        }
        done(std::move(reply));
      },
      shared);
}

void HranaStream::send_cursor(hrana::Batch batch, std::shared_ptr<CursorReader> reader) {
  auto shared = shared_;
  hrana::CursorRequest cursor;
  {
    std::lock_guard lock(shared->mutex);
    cursor.baton = shared->baton;
  }
  cursor.batch = std::move(batch);
  std::string body;
  try {
    body = hrana::encode_cursor(cursor);
  } catch (const DbError& error) {
    return reader->ended(StreamFailure{error.error(), true, false, true});
  }
  // Both touched on the transport's thread only.
  auto decoder = std::make_shared<hrana::CursorDecoder>();
  auto not_a_cursor = std::make_shared<std::optional<Error>>();
  HttpRequest request = shared->request("/v3/cursor", std::move(body), true);
  request.stream_body = [decoder, not_a_cursor, reader](std::string_view piece) {
    if (!reader->wants_more()) return BodyVerdict::Pause;
    try {
      decoder->feed(piece);
    } catch (const DbError& error) {
      *not_a_cursor = error.error();
      return BodyVerdict::Stop;
    }
    reader->read(*decoder);
    return BodyVerdict::Take;
  };
  shared->dispatch(
      std::move(request),
      [shared, decoder, not_a_cursor, reader](HttpOutcome outcome) {
        std::optional<StreamFailure> failure = [&]() -> std::optional<StreamFailure> {
          if (*not_a_cursor) return StreamFailure{**not_a_cursor, false};
          if (!outcome.response) return StreamFailure{std::move(outcome.failure), false, outcome.connection_broke};
          if (outcome.response->status != 200) return failure_for_status(*outcome.response);
          try {
            decoder->finish();
          } catch (const DbError& error) {
            return StreamFailure{error.error(), false};
          }
          reader->read(*decoder);
          return refused_move(decoder->base_url(), shared->endpoint);
        }();
        if (failure) {
          shared->go_on(std::nullopt, std::nullopt);
        } else {
          shared->go_on(decoder->baton(), decoder->base_url());
        }
        reader->ended(std::move(failure));
      },
      shared);
}

void HranaStream::resume() {
  std::optional<std::uint64_t> in_flight;
  {
    std::lock_guard lock(shared_->mutex);
    in_flight = shared_->in_flight;
  }
  if (in_flight) shared_->transport->resume(*in_flight);
}

void HranaStream::drop_if_idle_for(std::chrono::milliseconds idle) {
  std::lock_guard lock(shared_->mutex);
  if (shared_->baton && std::chrono::steady_clock::now() - shared_->last_answer > idle) {
    shared_->baton.reset();
    shared_->stream_url.reset();
  }
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

bool HranaStream::keeps_streams() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->keeps_streams;
}

bool HranaStream::speaks_v3() const {
  std::lock_guard lock(shared_->mutex);
  return shared_->v3;
}

}  // namespace aiolibsql::remote
