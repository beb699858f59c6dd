#include "sync_protocol.hpp"

#include <filesystem>

#include "http_sync.hpp"
#include "log_sync.hpp"
#include "primary_http.hpp"

namespace aiolibsql::replica {

namespace {

// `generation`: the primary's current one, when GET /info has just said it.
std::shared_ptr<ReplicaSync> make_chosen(const ReplicaSyncOptions& options, SyncProtocol protocol,
                                         std::optional<std::uint32_t> generation = std::nullopt) {
  if (protocol == SyncProtocol::ReplicationLog) {
    return std::make_shared<LogSync>(options.database, LogClient(options.primary, options.http), options.offline,
                                     options.lock_timeout);
  }
  return std::make_shared<HttpSync>(options.database, SyncClient(options.primary, options.http), options.lock_timeout,
                                    generation);
}

// The protocol a replica's metadata file says it was made with, if any.
std::optional<SyncProtocol> protocol_on_disk(const std::string& database) {
  if (std::filesystem::exists(metadata_path(database))) return SyncProtocol::HttpSync;
  if (std::filesystem::exists(log_metadata_path(database))) return SyncProtocol::ReplicationLog;
  return std::nullopt;
}

// What a primary serves, found by asking for GET /info, whose answer a new
// HTTP sync replica needs anyway.
std::shared_ptr<ReplicaSync> probe(const ReplicaSyncOptions& options, const std::atomic<bool>* cancelled) {
  PrimaryHttp http(options.primary, options.http);
  http.watch_cancellation(cancelled);
  const auto answer = http.send(http.request("/info", false), true);
  if (answer.status == 200) return make_chosen(options, SyncProtocol::HttpSync, decode_info_answer(answer.body));
  if (answer.status == 404) return make_chosen(options, SyncProtocol::ReplicationLog);
  fail_for_status(answer, "GET /info");
}

// Decides at bootstrap(), then passes everything on.
class AutoSync final : public ReplicaSync {
 public:
  explicit AutoSync(ReplicaSyncOptions options) : options_(std::move(options)) {}

  bool bootstrap() override {
    if (!chosen_) {
      const auto known = protocol_on_disk(options_.database);
      chosen_ = known ? make_chosen(options_, *known) : probe(options_, cancelled_);
      chosen_->watch_cancellation(cancelled_);
    }
    return chosen_->bootstrap();
  }
  void prepare(Connection& connection) override { chosen().prepare(connection); }
  std::uint64_t pull(Connection& connection) override { return chosen().pull(connection); }
  void watch_cancellation(const std::atomic<bool>* cancelled) noexcept override {
    cancelled_ = cancelled;
    if (chosen_) chosen_->watch_cancellation(cancelled);
  }

 protected:
  SyncReport exchange(Connection& connection, bool push) override { return chosen().sync(connection, push); }

 private:
  ReplicaSync& chosen() {
    if (!chosen_) fail_sync("the replica has not been opened");
    return *chosen_;
  }

  ReplicaSyncOptions options_;
  const std::atomic<bool>* cancelled_ = nullptr;
  std::shared_ptr<ReplicaSync> chosen_;
};

}  // namespace

std::optional<SyncProtocol> parse_sync_protocol(std::string_view name) {
  if (name == "auto") return SyncProtocol::Auto;
  if (name == "v1") return SyncProtocol::ReplicationLog;
  if (name == "v2") return SyncProtocol::HttpSync;
  return std::nullopt;
}

std::shared_ptr<ReplicaSync> make_replica_sync(ReplicaSyncOptions options) {
  if (options.protocol == SyncProtocol::Auto) return std::make_shared<AutoSync>(std::move(options));
  return make_chosen(options, options.protocol);
}

}  // namespace aiolibsql::replica
