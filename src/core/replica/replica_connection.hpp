// An embedded replica: a local libSQL file kept in step with a remote
// primary over one of libSQL's sync protocols (see sync_protocol.hpp). Reads run on the local file, at
// local speed (the inline read path included). Online (the default), writes
// and everything inside a transaction go to the primary over Hrana, and the
// next local read first pulls what they changed, so a connection reads its
// own writes. Offline, writes go to the local file and sync() pushes them.
// Operations run one at a time in submission order, whichever side runs them.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include "async_connection.hpp"
#include "background_sync.hpp"
#include "catch_up.hpp"
#include "connection_backend.hpp"
#include "ordered_queue.hpp"
#include "remote_connection.hpp"
#include "replica_sync.hpp"
#include "sync_protocol.hpp"

namespace aiolibsql::replica {

struct ReplicaOptions {
  // The local file (its path: a replica is never :memory: or a URI).
  OpenOptions local;
  // The primary: where to sync from and, online, where writes go.
  remote::RemoteOptions primary;
  bool offline = false;
  SyncProtocol protocol = SyncProtocol::Auto;
  // Syncs in the background this often, once open (see BackgroundSync).
  std::optional<std::chrono::milliseconds> sync_interval;
};

class ReplicaConnection final : public std::enable_shared_from_this<ReplicaConnection>, public ConnectionBackend {
 public:
  explicit ReplicaConnection(ReplicaOptions options);
  ReplicaConnection(const ReplicaConnection&) = delete;
  ReplicaConnection& operator=(const ReplicaConnection&) = delete;

  // A new replica is made from the primary's export and pulls; an existing
  // one opens from its files. Online, the primary is reached too, if it can be.
  std::shared_ptr<Operation> open(Sink sink, std::uintptr_t tag) override;
  std::shared_ptr<Operation> execute(std::string sql, Params params, Sink sink, std::uintptr_t tag) override;
  std::shared_ptr<Operation> execute_many(std::string sql, std::vector<Params> batch, Sink sink,
                                          std::uintptr_t tag) override;
  std::shared_ptr<Operation> execute_script(std::string script, Sink sink, std::uintptr_t tag) override;
  std::shared_ptr<Operation> commit(Sink sink, std::uintptr_t tag) override;
  std::shared_ptr<Operation> rollback(Sink sink, std::uintptr_t tag) override;
  std::shared_ptr<Operation> set_transaction_control(TransactionControl control, Sink sink,
                                                     std::uintptr_t tag) override;
  std::shared_ptr<Operation> close(Sink sink, std::uintptr_t tag) override;
  // Offline, pushes the local frames, then pulls; online, pulls. Completes
  // with one row: frames_pulled, frames_pushed, generation, frame. With
  // sync_interval, fails instead with the failure of the last background
  // sync if nobody has been told of it yet.
  std::shared_ptr<Operation> sync(Sink sink, std::uintptr_t tag);

  // When nothing is queued, nothing is left to pull and no transaction is
  // open on the primary.
  std::optional<QueryResult> try_execute_inline(std::string_view sql, Params& params) override;
  // Only what runs on the local file at once: a read, online.
  bool can_hand_off(std::string_view statement) const override;
  bool in_transaction() const override;
  bool is_closed() const override { return local_->is_closed(); }
  bool is_inherited() const noexcept override { return local_->is_inherited(); }
  std::optional<std::string> lacks(Capability capability) const override;
  bool cancel(std::uintptr_t tag) override;

  // The local file's connection, for what only it offers (backup).
  const std::shared_ptr<AsyncConnection>& local() const noexcept { return local_; }

 private:
  // Starts an operation's work on one side, completing into the given sink.
  using Start = std::function<void(Sink inner)>;
  struct Step {
    std::shared_ptr<Operation> operation;
    Start start;
    // A sync: safe to interrupt (a pull or push sent again changes nothing),
    // so close() stops one waiting on the network instead of waiting for it.
    bool is_sync = false;
  };
  class StepSink;

  std::shared_ptr<Operation> submit(Sink sink, std::uintptr_t tag, Start start, bool is_sync = false);
  std::shared_ptr<Operation> submit_sync(Sink sink, std::uintptr_t tag);
  // Once open, with sync_interval: the background syncs begin.
  void start_background_sync();
  void run(Step step);
  // The running step finished with `outcome`: delivers it, starts the next.
  void finish(std::shared_ptr<Operation> operation, Outcome outcome);
  // Online: runs on the primary and marks the replica behind it.
  void on_primary(const std::function<void(remote::RemoteConnection&, Sink)>& start, Sink inner);
  // Runs `work` on the local file, after pulling what the primary changed
  // since the last pull.
  void on_local(AsyncConnection::ConnectionWork work, Sink inner, std::uintptr_t tag);
  bool online() const noexcept { return primary_ != nullptr; }

  // Whether `sql` would run on the local file with nothing before it: no
  // operation queued, nothing left to pull, no transaction on the primary.
  bool runs_locally_now(std::string_view sql) const;

  std::shared_ptr<ReplicaSync> sync_;
  OpenOptions local_options_;
  std::shared_ptr<AsyncConnection> local_;
  std::shared_ptr<remote::RemoteConnection> primary_;
  // Whether the primary has been reached (see on_primary).
  std::shared_ptr<std::atomic<bool>> primary_open_ = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<CatchUp> catch_up_ = std::make_shared<CatchUp>();

  mutable std::mutex mutex_;
  std::optional<std::chrono::milliseconds> sync_interval_;
  std::unique_ptr<BackgroundSync> background_;
  OrderedQueue<Step> queue_;
  std::shared_ptr<Operation> running_;
  bool running_sync_ = false;

  bool closed_ = false;
};

}  // namespace aiolibsql::replica
