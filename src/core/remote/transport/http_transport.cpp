#include "http_transport.hpp"

#include <curl/curl.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <new>
#include <optional>
#include <thread>
#include <unordered_map>

#include "fork_generation.hpp"

namespace aiolibsql::remote {

namespace {

struct EasyDeleter {
  void operator()(CURL* easy) const noexcept { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const noexcept { curl_multi_cleanup(multi); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using MultiHandle = std::unique_ptr<CURLM, MultiDeleter>;
using HeaderList = std::unique_ptr<curl_slist, HeaderListDeleter>;

void initialise_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::bad_alloc();
  });
}

std::optional<std::string> environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// The certificates that vouch for servers, where not the system's: the
// variables OpenSSL and Python's ssl module honour, so that a private CA is
// trusted here as it is there.
struct TrustStore {
  std::optional<std::string> file = environment("SSL_CERT_FILE");
  std::optional<std::string> directory = environment("SSL_CERT_DIR");
};

Error network_error(std::string message) { return Error{ErrorKind::Operational, -1, std::move(message)}; }

// A header list whose strings libcurl copies; the token's copy is wiped with
// the Secret, and libcurl's own is freed with the list.
HeaderList headers_for(const HttpRequest& request) {
  curl_slist* list = nullptr;
  auto append = [&list](const char* header) {
    curl_slist* grown = curl_slist_append(list, header);
    if (grown == nullptr) {
      curl_slist_free_all(list);
      throw std::bad_alloc();
    }
    list = grown;
  };
  if (request.post) append(("Content-Type: " + request.content_type).c_str());
  for (const std::string& header : request.headers) append(header.c_str());
  if (!request.bearer_token.empty()) {
    Secret header(request.authorization_header + ": Bearer " + std::string(request.bearer_token.bytes()));
    append(std::string(header.bytes()).c_str());
  }
  return HeaderList(list);
}

}  // namespace

// One request in flight: everything libcurl points into lives here until
// the transfer is removed from the multi handle.
struct Transfer {
  std::uint64_t id = 0;
  HttpRequest request;
  HttpTransport::Done done;
  // Before the easy handle, which may point into it until it is cleaned up.
  HeaderList headers;
  EasyHandle easy;
  HttpResponse response;
  char error_buffer[CURL_ERROR_SIZE] = {};
  bool out_of_memory = false;
  bool paused = false;
  bool stopped_by_reader = false;

  static size_t write_body(char* data, size_t size, size_t count, void* self) noexcept {
    auto& transfer = *static_cast<Transfer*>(self);
    const std::string_view piece(data, size * count);
    try {
      if (transfer.request.stream_body && transfer.status() == 200) {
        switch (transfer.request.stream_body(piece)) {
          case BodyVerdict::Take:
            return piece.size();
          case BodyVerdict::Pause:
            transfer.paused = true;
            return CURL_WRITEFUNC_PAUSE;
          case BodyVerdict::Stop:
            transfer.stopped_by_reader = true;
            return 0;  // aborts the transfer
        }
      }
      transfer.response.body.append(piece);
      return piece.size();
    } catch (...) {
      transfer.out_of_memory = true;
      return 0;
    }
  }

  long status() const noexcept {
    long code = 0;
    curl_easy_getinfo(easy.get(), CURLINFO_RESPONSE_CODE, &code);
    return code;
  }
};

struct HttpTransport::Engine {
  Engine() : generation(fork_generation()) {
    initialise_curl_once();
    multi.reset(curl_multi_init());
    if (!multi) throw std::bad_alloc();
    curl_multi_setopt(multi.get(), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    thread = std::thread([this] { run(); });
  }

  ~Engine() { stop(); }

  // Fails what is in flight and joins the thread; once only.
  void stop() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    curl_multi_wakeup(multi.get());
    if (thread.joinable()) thread.join();
  }

  bool inherited() const noexcept { return fork_generation() != generation; }

  std::uint64_t send(HttpRequest request, Done done) {
    auto transfer = std::make_unique<Transfer>();
    transfer->request = std::move(request);
    transfer->done = std::move(done);
    std::uint64_t id = 0;
    bool refused = false;
    {
      std::lock_guard lock(mutex);
      id = transfer->id = ++last_id;
      refused = stopping;
      if (!refused) submitted.push_back(std::move(transfer));
    }
    if (refused) {
      transfer->done(HttpOutcome{std::nullopt, network_error("the connection is closed")});
    } else {
      curl_multi_wakeup(multi.get());
    }
    return id;
  }

  void cancel(std::uint64_t id) {
    {
      std::lock_guard lock(mutex);
      cancelled.push_back(id);
    }
    curl_multi_wakeup(multi.get());
  }

  void resume(std::uint64_t id) {
    {
      std::lock_guard lock(mutex);
      resumed.push_back(id);
    }
    curl_multi_wakeup(multi.get());
  }

  void run() {
    while (true) {
      std::deque<std::unique_ptr<Transfer>> starting;
      std::vector<std::uint64_t> cancelling;
      std::vector<std::uint64_t> resuming;
      bool stop = false;
      {
        std::lock_guard lock(mutex);
        starting.swap(submitted);
        cancelling.swap(cancelled);
        resuming.swap(resumed);
        stop = stopping;
      }
      for (auto& transfer : starting) start(std::move(transfer));
      // Cancels first: a request both cancelled and resumed reads no more.
      for (const auto id : cancelling) {
        finish(id, HttpOutcome{std::nullopt, Error{ErrorKind::Cancelled, -1, "the request was cancelled"}});
      }
      for (const auto id : resuming) unpause(id);
      if (stop) break;
      int running = 0;
      curl_multi_perform(multi.get(), &running);
      collect_finished();
      curl_multi_poll(multi.get(), nullptr, 0, 1000, nullptr);
    }
    while (!in_flight.empty()) {
      finish(in_flight.begin()->first, HttpOutcome{std::nullopt, network_error("the connection is closed")});
    }
    std::deque<std::unique_ptr<Transfer>> never_started;
    {
      std::lock_guard lock(mutex);
      never_started.swap(submitted);
    }
    for (auto& transfer : never_started) {
      transfer->done(HttpOutcome{std::nullopt, network_error("the connection is closed")});
    }
  }

  void start(std::unique_ptr<Transfer> transfer) {
    try {
      transfer->easy.reset(curl_easy_init());
      if (!transfer->easy) throw std::bad_alloc();
      transfer->headers = headers_for(transfer->request);
    } catch (const std::bad_alloc&) {
      transfer->done(HttpOutcome{std::nullopt, Error{ErrorKind::Memory, -1, "out of memory"}});
      return;
    }
    CURL* easy = transfer->easy.get();
    curl_easy_setopt(easy, CURLOPT_URL, transfer->request.url.c_str());
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers.get());
    if (transfer->request.post) {
      curl_easy_setopt(easy, CURLOPT_POST, 1L);
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, transfer->request.body.data());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(transfer->request.body.size()));
    }
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Transfer::write_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error_buffer);
    const HttpOptions& options = transfer->request.options;
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
    if (!transfer->request.stream_body) {
      curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options.request_timeout.count()));
    } else if (options.request_timeout.count() > 0) {
      // libcurl leaves paused transfers out of this check.
      const auto seconds = std::chrono::ceil<std::chrono::seconds>(options.request_timeout).count();
      curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, static_cast<long>(seconds));
    }
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
    if (trust.file) curl_easy_setopt(easy, CURLOPT_CAINFO, trust.file->c_str());
    if (trust.directory) curl_easy_setopt(easy, CURLOPT_CAPATH, trust.directory->c_str());
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
    // HTTP/2 over TLS when the server offers it; requests then share one
    // connection instead of each waiting for a free one.
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
    if (curl_multi_add_handle(multi.get(), easy) != CURLM_OK) {
      transfer->done(HttpOutcome{std::nullopt, network_error("the request could not be started")});
      return;
    }
    const auto id = transfer->id;
    in_flight.emplace(id, std::move(transfer));
  }

  void collect_finished() {
    int remaining = 0;
    while (CURLMsg* message = curl_multi_info_read(multi.get(), &remaining)) {
      if (message->msg != CURLMSG_DONE) continue;
      void* pointer = nullptr;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &pointer);
      auto& transfer = *static_cast<Transfer*>(pointer);
      finish(transfer.id, outcome_of(transfer, message->data.result));
    }
  }

  void unpause(std::uint64_t id) {
    const auto found = in_flight.find(id);
    if (found == in_flight.end() || !found->second->paused) return;
    found->second->paused = false;
    // May hand the held piece to the reader at once, which may pause again.
    curl_easy_pause(found->second->easy.get(), CURLPAUSE_CONT);
  }

  HttpOutcome outcome_of(Transfer& transfer, CURLcode code) {
    if (transfer.out_of_memory) return HttpOutcome{std::nullopt, Error{ErrorKind::Memory, -1, "out of memory"}};
    if (transfer.stopped_by_reader) {
      return HttpOutcome{std::nullopt, Error{ErrorKind::Operational, -1, "the reader of the answer stopped it"}};
    }
    if (code != CURLE_OK) {
      const std::string detail = transfer.error_buffer[0] != '\0' ? transfer.error_buffer : curl_easy_strerror(code);
      const char* what = code == CURLE_OPERATION_TIMEDOUT ? "the remote database did not answer in time"
                                                          : "the request to the remote database failed";
      const bool broke = code == CURLE_RECV_ERROR || code == CURLE_SEND_ERROR || code == CURLE_GOT_NOTHING ||
                         code == CURLE_PARTIAL_FILE;
      return HttpOutcome{std::nullopt, network_error(std::string(what) + ": " + detail), broke};
    }
    curl_easy_getinfo(transfer.easy.get(), CURLINFO_RESPONSE_CODE, &transfer.response.status);
    for (const std::string& name : transfer.request.answer_headers) {
      curl_header* header = nullptr;
      if (curl_easy_header(transfer.easy.get(), name.c_str(), 0, CURLH_HEADER | CURLH_TRAILER, -1, &header) ==
          CURLHE_OK) {
        transfer.response.headers.emplace_back(name, header->value);
      }
    }
    return HttpOutcome{std::move(transfer.response), {}};
  }

  // Removes a request from the multi handle, if it is still there, and
  // reports `outcome` to its submitter.
  void finish(std::uint64_t id, HttpOutcome outcome) {
    const auto found = in_flight.find(id);
    if (found == in_flight.end()) return;
    const std::unique_ptr<Transfer> transfer = std::move(found->second);
    in_flight.erase(found);
    curl_multi_remove_handle(multi.get(), transfer->easy.get());
    transfer->done(std::move(outcome));
  }

  const std::uint64_t generation;
  const TrustStore trust;
  MultiHandle multi;
  std::thread thread;
  std::mutex mutex;
  bool stopping = false;
  std::uint64_t last_id = 0;
  std::deque<std::unique_ptr<Transfer>> submitted;
  std::vector<std::uint64_t> cancelled;
  std::vector<std::uint64_t> resumed;
  // Touched by the transport's thread only.
  std::unordered_map<std::uint64_t, std::unique_ptr<Transfer>> in_flight;
};

HttpTransport::HttpTransport() : engine_(std::make_unique<Engine>()) {}

HttpTransport::~HttpTransport() {
  // Its thread, its locks and its sockets belong to the parent process.
  if (engine_->inherited()) static_cast<void>(engine_.release());
}

namespace {

// At exit the shared transport's thread is stopped before the reference is
// let go: a callback still running there may hold another, and had it the
// last, the transport would be destroyed on the thread it must join.
struct SharedTransport {
  std::mutex mutex;
  std::shared_ptr<HttpTransport> transport;
  ~SharedTransport() {
    if (transport) transport->stop();
  }
};

}  // namespace

std::shared_ptr<HttpTransport> HttpTransport::shared() {
  static SharedTransport shared;
  std::lock_guard lock(shared.mutex);
  if (!shared.transport || shared.transport->engine_->inherited()) {
    shared.transport = std::make_shared<HttpTransport>();
  }
  return shared.transport;
}

void HttpTransport::stop() {
  if (!engine_->inherited()) engine_->stop();
}

std::uint64_t HttpTransport::send(HttpRequest request, Done done) {
  return engine_->send(std::move(request), std::move(done));
}

void HttpTransport::cancel(std::uint64_t id) { engine_->cancel(id); }

void HttpTransport::resume(std::uint64_t id) { engine_->resume(id); }

}  // namespace aiolibsql::remote
