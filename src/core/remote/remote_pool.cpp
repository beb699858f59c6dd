#include "remote_pool.hpp"

#include <limits>
#include <optional>

#include "sql_text.hpp"

namespace aiolibsql::remote {

namespace {

Error refused(ErrorKind kind, std::string message) { return Error{kind, -1, std::move(message)}; }

void fail(std::shared_ptr<CompletionSink> sink, std::uintptr_t tag, Error error) {
  Operation::complete(std::make_shared<Operation>(nullptr, std::move(sink), tag), std::move(error));
}

// Completes one operation once each of its parts (one per stream) has,
// with the first part's failure if any failed.
class Countdown final : public CompletionSink {
 public:
  Countdown(std::size_t parts, std::shared_ptr<Operation> whole) : remaining_(parts), whole_(std::move(whole)) {}

  void complete(std::shared_ptr<Operation> part) override {
    std::optional<Error> failure;
    if (const auto* error = std::get_if<Error>(&part->outcome())) failure = *error;
    std::unique_lock lock(mutex_);
    if (failure && !first_failure_) first_failure_ = std::move(failure);
    if (--remaining_ != 0) return;
    auto whole = std::move(whole_);
    Outcome outcome = first_failure_ ? Outcome(*first_failure_) : Outcome{};
    lock.unlock();
    Operation::complete(std::move(whole), std::move(outcome));
  }

 private:
  std::mutex mutex_;
  std::size_t remaining_;
  std::shared_ptr<Operation> whole_;
  std::optional<Error> first_failure_;
};

}  // namespace

RemotePool::RemotePool(RemoteOptions options, std::size_t size) : pinned_(size, false) {
  options.transactions = TransactionRules{TransactionControl::Autocommit, std::nullopt};
  streams_.reserve(size);
  for (std::size_t i = 0; i < size; ++i) streams_.push_back(std::make_shared<RemoteConnection>(options));
}

template <typename Start>
void RemotePool::on_every_stream(Sink done, std::uintptr_t tag, Start start) {
  auto countdown =
      std::make_shared<Countdown>(streams_.size(), std::make_shared<Operation>(nullptr, std::move(done), tag));
  for (auto& stream : streams_) start(*stream, countdown);
}

void RemotePool::open(Sink sink, std::uintptr_t tag) {
  on_every_stream(std::move(sink), tag, [tag](RemoteConnection& stream, const Sink& part) { stream.open(part, tag); });
}

Route RemotePool::route(std::string_view sql) {
  Route route;
  route.transaction_control = statement_kind(sql).transaction_control;
  route.changes_connection = changes_connection_settings(sql);
  route.readonly = only_reads(sql) && !route.changes_connection;
  route.sql = std::make_shared<const std::string>(sql);
  return route;
}

RemoteConnection& RemotePool::least_loaded() {
  std::lock_guard lock(mutex_);
  RemoteConnection* chosen = nullptr;
  std::size_t lowest = std::numeric_limits<std::size_t>::max();
  for (std::size_t i = 0; i < streams_.size() && lowest != 0; ++i) {
    if (pinned_[i]) continue;
    const std::size_t load = streams_[i]->load();
    if (load < lowest) {
      lowest = load;
      chosen = streams_[i].get();
    }
  }
  // pin() leaves one stream unpinned, so there is always a choice.
  return *chosen;
}

void RemotePool::execute(const Route& route, Params params, Sink sink, std::uintptr_t tag) {
  if (route.transaction_control) {
    return fail(std::move(sink), tag, refused(ErrorKind::Programming, "use pool.transaction() for transactions"));
  }
  if (route.changes_connection) {
    return fail(std::move(sink), tag,
                refused(ErrorKind::Programming,
                        "this statement would change the settings of one server connection for one statement only "
                        "(a pragma assignment, ATTACH or DETACH): a remote pool runs each statement on its own"));
  }
  least_loaded().execute(*route.sql, std::move(params), std::move(sink), tag);
}

void RemotePool::execute_batch(std::vector<std::pair<std::string, Params>> statements, Sink sink, std::uintptr_t tag) {
  least_loaded().execute_atomically(std::move(statements), std::move(sink), tag);
}

void RemotePool::execute_many(std::string sql, std::vector<Params> batch, Sink sink, std::uintptr_t tag) {
  std::vector<std::pair<std::string, Params>> statements;
  statements.reserve(batch.size());
  for (auto& params : batch) statements.emplace_back(sql, std::move(params));
  least_loaded().execute_atomically(std::move(statements), std::move(sink), tag, true);
}

std::int64_t RemotePool::pin(PinKind kind, Sink sink, std::uintptr_t tag) {
  int chosen = -1;
  {
    std::lock_guard lock(mutex_);
    std::size_t pinned = 0;
    for (bool is_pinned : pinned_) pinned += is_pinned ? 1 : 0;
    std::size_t lowest = std::numeric_limits<std::size_t>::max();
    for (std::size_t i = 0; pinned < reader_count() && i < streams_.size(); ++i) {
      if (pinned_[i]) continue;
      const std::size_t load = streams_[i]->load();
      if (load < lowest) {
        lowest = load;
        chosen = static_cast<int>(i);
      }
    }
    if (chosen >= 0) pinned_[static_cast<std::size_t>(chosen)] = true;
  }
  if (chosen < 0) {
    fail(std::move(sink), tag,
         Error{ErrorKind::Operational, result_code_from_name("SQLITE_BUSY"),
               "every stream of the pool that may hold a transaction or snapshot holds one; end one or use a "
               "bigger pool"});
    return -1;
  }
  TransactionSteps steps;
  if (kind == PinKind::Transaction) {
    steps = {"BEGIN IMMEDIATE"};
  } else {
    // Reading the schema cookie starts the read transaction now.
    steps = {"BEGIN", "PRAGMA schema_version"};
  }
  streams_[static_cast<std::size_t>(chosen)]->begin(std::move(steps), std::move(sink), tag);
  return chosen;
}

void RemotePool::pinned_execute(std::int64_t stream, PinKind kind, std::string sql, Params params, Sink sink,
                                std::uintptr_t tag) {
  if (kind == PinKind::Snapshot && !only_reads(sql)) {
    return fail(std::move(sink), tag,
                refused(ErrorKind::Operational, "a snapshot only reads (SELECT, WITH, EXPLAIN or a PRAGMA query)"));
  }
  streams_.at(static_cast<std::size_t>(stream))->execute(std::move(sql), std::move(params), std::move(sink), tag);
}

void RemotePool::pinned_execute_many(std::int64_t stream, std::string sql, std::vector<Params> batch, Sink sink,
                                     std::uintptr_t tag) {
  streams_.at(static_cast<std::size_t>(stream))->execute_many(std::move(sql), std::move(batch), std::move(sink), tag);
}

void RemotePool::unpin(std::int64_t stream, PinKind kind, bool commit, Sink sink, std::uintptr_t tag) {
  const auto index = static_cast<std::size_t>(stream);
  // The stream runs its operations in order: whatever is sent to it after
  // this runs after the transaction ended.
  streams_.at(index)->end_transaction(commit && kind == PinKind::Transaction, std::move(sink), tag);
  std::lock_guard lock(mutex_);
  pinned_[index] = false;
}

void RemotePool::close(Sink sink, std::uintptr_t tag) {
  on_every_stream(std::move(sink), tag, [tag](RemoteConnection& stream, const Sink& part) { stream.close(part, tag); });
}

bool RemotePool::cancel(std::uintptr_t tag) {
  bool cancelled = false;
  for (auto& stream : streams_) cancelled = stream->cancel(tag) || cancelled;
  return cancelled;
}

bool RemotePool::is_closed() const { return streams_.front()->is_closed(); }

std::vector<PoolMemberStats> RemotePool::stats() const {
  std::vector<PoolMemberStats> all;
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < streams_.size(); ++i) {
    // The server commits each write; nothing is grouped here.
    all.push_back(
        PoolMemberStats{pinned_[i] ? "pinned stream" : "stream", streams_[i]->load(), streams_[i]->completed()});
  }
  return all;
}

}  // namespace aiolibsql::remote
