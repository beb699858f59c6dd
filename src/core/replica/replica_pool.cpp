#include "replica_pool.hpp"

#include <utility>

#include "completion_queue.hpp"
#include "fork_generation.hpp"

namespace aiolibsql::replica {

namespace {

// Snapshots on the primary are told from local ones by this offset.
constexpr std::int64_t kPrimaryPin = std::int64_t{1} << 40;

void complete_into(const PoolBackend::Sink& sink, std::uintptr_t tag, Outcome outcome) {
  Operation::complete(std::make_shared<Operation>(nullptr, sink, tag), std::move(outcome));
}

}  // namespace

ReplicaPool::ReplicaPool(PoolOptions local, remote::RemoteOptions primary, SyncProtocol protocol, std::size_t streams,
                         std::optional<std::chrono::milliseconds> sync_interval)
    : sync_interval_(sync_interval), generation_(fork_generation()) {
  sync_ = make_replica_sync(ReplicaSyncOptions{local.database, primary.endpoint, primary.http, protocol, false,
                                               lock_timeout(local.timeout_seconds)});
  local.before_open = [sync = sync_, made = made_] { *made = sync->bootstrap(); };
  local.after_open = [sync = sync_](Connection& connection) { sync->prepare(connection); };
  local.checkpoint_on_close = false;
  local_ = std::make_shared<Pool>(std::move(local));
  // Every pull and push runs on the local writer.
  sync_->watch_cancellation(&local_->writer_cancellation());
  primary_ = std::make_shared<remote::RemotePool>(std::move(primary), streams);
}

void ReplicaPool::pull_then(Sink then, std::uintptr_t tag) {
  local_->run_on_writer(
      [sync = sync_, catch_up = catch_up_](Connection& connection) -> Outcome {
        catch_up->pulling([&] { return sync->pull(connection); });
        return {};
      },
      std::move(then), tag);
}

void ReplicaPool::open(Sink sink, std::uintptr_t tag) {
  auto self = shared_from_this();
  local_->open(
      std::make_shared<CallbackSink>([self, sink, tag](std::shared_ptr<Operation> local) {
        if (std::holds_alternative<Error>(local->outcome())) {
          return complete_into(sink, tag, std::move(local->outcome()));
        }
        auto reach_primary = std::make_shared<CallbackSink>([self, sink, tag](std::shared_ptr<Operation> step) {
          if (std::holds_alternative<Error>(step->outcome())) {
            return complete_into(sink, tag, std::move(step->outcome()));
          }
          self->primary_->open(std::make_shared<CallbackSink>([self, sink, tag](std::shared_ptr<Operation> opened) {
                                 if (!std::holds_alternative<Error>(opened->outcome())) {
                                   self->start_background_sync();
                                 }
                                 complete_into(sink, tag, std::move(opened->outcome()));
                               }),
                               tag);
        });
        // A new replica starts in step.
        if (*self->made_) return self->pull_then(reach_primary, tag);
        complete_into(reach_primary, tag, {});
      }),
      tag);
}

PoolBackend::Sink ReplicaPool::counting_write(Sink sink) {
  return std::make_shared<CallbackSink>([catch_up = catch_up_, sink](std::shared_ptr<Operation> done) {
    // A write that failed promised nothing (see ReplicaConnection::on_primary).
    if (!std::holds_alternative<Error>(done->outcome())) catch_up->wrote();
    complete_into(sink, done->tag(), std::move(done->outcome()));
  });
}

void ReplicaPool::execute(const Route& route, Params params, Sink sink, std::uintptr_t tag) {
  if (!route.is_plain_read()) {
    // Transaction control and per-connection settings are refused as in any pool.
    if (route.transaction_control || route.changes_connection) {
      return local_->execute(route, std::move(params), std::move(sink), tag);
    }
    return primary_->execute(route, std::move(params), counting_write(std::move(sink)), tag);
  }
  if (!catch_up_->behind()) return local_->execute(route, std::move(params), std::move(sink), tag);
  auto self = shared_from_this();
  pull_then(std::make_shared<CallbackSink>(
                [self, route, params = std::move(params), sink, tag](std::shared_ptr<Operation> pulled) mutable {
                  if (std::holds_alternative<Error>(pulled->outcome())) {
                    return complete_into(sink, tag, std::move(pulled->outcome()));
                  }
                  self->local_->execute(route, std::move(params), std::move(sink), tag);
                }),
            tag);
}

std::optional<QueryResult> ReplicaPool::try_execute_inline(const Route& route, Params& params) {
  if (catch_up_->behind()) return std::nullopt;
  return local_->try_execute_inline(route, params);
}

void ReplicaPool::execute_many(std::string sql, std::vector<Params> batch, Sink sink, std::uintptr_t tag) {
  primary_->execute_many(std::move(sql), std::move(batch), counting_write(std::move(sink)), tag);
}

void ReplicaPool::execute_batch(std::vector<std::pair<std::string, Params>> statements, Sink sink, std::uintptr_t tag) {
  primary_->execute_batch(std::move(statements), counting_write(std::move(sink)), tag);
}

std::int64_t ReplicaPool::pin(PinKind kind, Sink sink, std::uintptr_t tag) {
  if (kind == PinKind::Snapshot && !catch_up_->behind()) return local_->pin(kind, std::move(sink), tag);
  const std::int64_t stream = primary_->pin(kind, std::move(sink), tag);
  if (stream < 0 || kind == PinKind::Transaction) return stream;
  return kPrimaryPin + stream;
}

void ReplicaPool::pinned_execute(std::int64_t pin, PinKind kind, std::string sql, Params params, Sink sink,
                                 std::uintptr_t tag) {
  if (kind == PinKind::Snapshot && pin < kPrimaryPin) {
    return local_->pinned_execute(pin, kind, std::move(sql), std::move(params), std::move(sink), tag);
  }
  const std::int64_t stream = kind == PinKind::Snapshot ? pin - kPrimaryPin : pin;
  primary_->pinned_execute(stream, kind, std::move(sql), std::move(params), std::move(sink), tag);
}

void ReplicaPool::pinned_execute_many(std::int64_t pin, std::string sql, std::vector<Params> batch, Sink sink,
                                      std::uintptr_t tag) {
  primary_->pinned_execute_many(pin, std::move(sql), std::move(batch), std::move(sink), tag);
}

void ReplicaPool::unpin(std::int64_t pin, PinKind kind, bool commit, Sink sink, std::uintptr_t tag) {
  if (kind == PinKind::Snapshot && pin < kPrimaryPin) return local_->unpin(pin, kind, commit, std::move(sink), tag);
  if (kind == PinKind::Snapshot) return primary_->unpin(pin - kPrimaryPin, kind, false, std::move(sink), tag);
  primary_->unpin(pin, kind, commit, counting_write(std::move(sink)), tag);
}

void ReplicaPool::sync(Sink sink, std::uintptr_t tag) {
  // In a fork() child the parent's threads may have held this pool's locks.
  if (fork_generation() != generation_) return complete_into(sink, tag, inherited_error());
  std::optional<Error> missed;
  {
    std::lock_guard lock(mutex_);
    if (background_) missed = background_->take_failure();
  }
  if (missed) {
    missed->message = "the background sync failed (it is tried again): " + missed->message;
    return complete_into(sink, tag, std::move(*missed));
  }
  sync_on_writer(std::move(sink), tag);
}

void ReplicaPool::sync_on_writer(Sink sink, std::uintptr_t tag) {
  local_->run_on_writer(
      [sync = sync_, catch_up = catch_up_](Connection& connection) -> Outcome {
        return sync_result(catch_up->pulling([&] { return sync->sync(connection, false); }));
      },
      std::move(sink), tag);
}

void ReplicaPool::start_background_sync() {
  std::lock_guard lock(mutex_);
  if (!sync_interval_ || background_ || closed_) return;
  background_ = std::make_unique<BackgroundSync>(*sync_interval_, [self = weak_from_this()](BackgroundSync::Done done) {
    auto owner = self.lock();
    if (!owner) return done(std::nullopt);
    owner->sync_on_writer(std::make_shared<CallbackSink>([done](std::shared_ptr<Operation> finished) {
                            const auto* error = std::get_if<Error>(&finished->outcome());
                            done(error ? std::optional<Error>(*error) : std::nullopt);
                          }),
                          0);
  });
}

void ReplicaPool::close(Sink sink, std::uintptr_t tag) {
  if (fork_generation() != generation_) return complete_into(sink, tag, inherited_error());
  std::unique_ptr<BackgroundSync> background;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    background = std::move(background_);
  }
  // Stopped outside the lock: a sync it is starting needs the lock.
  if (background) background->stop();
  // A sync waiting on the network is stopped rather than waited for: a pull
  // or push sent again changes nothing. Writes never run on the local writer.
  if (catch_up_->pulling_now()) local_->interrupt_writer();
  auto both = all_of(2, std::make_shared<Operation>(nullptr, std::move(sink), tag));
  primary_->close(both, tag);
  local_->close(both, tag);
}

std::vector<PoolMemberStats> ReplicaPool::stats() const {
  auto all = local_->stats();
  for (auto& stream : primary_->stats()) {
    stream.role = "primary " + stream.role;
    all.push_back(std::move(stream));
  }
  return all;
}

}  // namespace aiolibsql::replica
