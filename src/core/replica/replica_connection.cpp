#include "replica_connection.hpp"

#include <sqlite3.h>

#include <utility>

#include "completion_queue.hpp"
#include "fork_generation.hpp"
#include "sql_text.hpp"

namespace aiolibsql::replica {

namespace {

Error closed_error() { return Error{ErrorKind::Programming, -1, "Cannot operate on a closed database."}; }

void fail_into(const ConnectionBackend::Sink& sink, std::uintptr_t tag, Error error) {
  Operation::complete(std::make_shared<Operation>(nullptr, sink, tag), std::move(error));
}

}  // namespace

// Where a step's work completes: hands its outcome to the step's operation.
class ReplicaConnection::StepSink final : public CompletionSink {
 public:
  StepSink(std::weak_ptr<ReplicaConnection> owner, std::shared_ptr<Operation> operation)
      : owner_(std::move(owner)), operation_(std::move(operation)) {}
  void complete(std::shared_ptr<Operation> inner) override {
    Outcome outcome = std::move(inner->outcome());
    if (auto owner = owner_.lock()) {
      owner->finish(std::move(operation_), std::move(outcome));
    } else {
      Operation::complete(std::move(operation_), std::move(outcome));
    }
  }

 private:
  std::weak_ptr<ReplicaConnection> owner_;
  std::shared_ptr<Operation> operation_;
};

ReplicaConnection::ReplicaConnection(ReplicaOptions options)
    : local_(std::make_shared<AsyncConnection>()), sync_interval_(options.sync_interval) {
  sync_ = make_replica_sync(ReplicaSyncOptions{options.local.database, options.primary.endpoint, options.primary.http,
                                               options.protocol, options.offline,
                                               lock_timeout(options.local.timeout_seconds)});
  sync_->watch_cancellation(&local_->executor().cancellation());
  if (!options.offline) {
    // Writes go to the primary; the local file only reads (a write the text
    // mistook for a read is refused there, then sent to the primary).
    options.local.query_only = true;
    options.local.transaction_control = TransactionControl::Autocommit;
    options.local.isolation_level = std::nullopt;
    primary_ = std::make_shared<remote::RemoteConnection>(std::move(options.primary));
  }
  local_options_ = std::move(options.local);
}

std::shared_ptr<Operation> ReplicaConnection::submit(Sink sink, std::uintptr_t tag, Start start, bool is_sync) {
  auto operation = std::make_shared<Operation>(nullptr, std::move(sink), tag);
  // In a fork() child the parent's threads may have held this lock.
  if (is_inherited()) {
    Operation::complete(operation, inherited_error());
    return operation;
  }
  std::unique_lock lock(mutex_);
  if (closed_) {
    lock.unlock();
    Operation::complete(operation, closed_error());
    return operation;
  }
  Step step{operation, std::move(start), is_sync};
  if (running_) {
    queue_.push_back(std::move(step));
    return operation;
  }
  running_ = operation;
  running_sync_ = is_sync;
  lock.unlock();
  run(std::move(step));
  return operation;
}

void ReplicaConnection::run(Step step) {
  auto inner = std::make_shared<StepSink>(weak_from_this(), step.operation);
  step.start(std::move(inner));
}

void ReplicaConnection::finish(std::shared_ptr<Operation> operation, Outcome outcome) {
  Operation::complete(std::move(operation), std::move(outcome));
  std::unique_lock lock(mutex_);
  if (queue_.empty()) {
    running_ = nullptr;
    return;
  }
  Step next = queue_.take_front();
  running_ = next.operation;
  running_sync_ = next.is_sync;
  lock.unlock();
  run(std::move(next));
}

void ReplicaConnection::on_primary(const std::function<void(remote::RemoteConnection&, Sink)>& start, Sink inner) {
  // What it changes reaches the local file with the next pull, which the
  // next local read makes first. A write that failed promised nothing: reads
  // then go on from the local file even while the primary is down.
  inner = std::make_shared<CallbackSink>([catch_up = catch_up_, inner](std::shared_ptr<Operation> done) {
    if (!std::holds_alternative<Error>(done->outcome())) catch_up->wrote();
    Outcome outcome = std::move(done->outcome());
    Operation::complete(std::make_shared<Operation>(nullptr, inner, done->tag()), std::move(outcome));
  });
  if (primary_open_->load()) return start(*primary_, std::move(inner));
  // The primary was unreachable when the replica opened: reach it now.
  primary_->open(std::make_shared<CallbackSink>(
                     [primary = primary_, opened = primary_open_, start, inner](std::shared_ptr<Operation> attempt) {
                       if (const auto* error = std::get_if<Error>(&attempt->outcome())) {
                         return fail_into(inner, attempt->tag(), *error);
                       }
                       opened->store(true);
                       start(*primary, inner);
                     }),
                 0);
}

void ReplicaConnection::on_local(AsyncConnection::ConnectionWork work, Sink inner, std::uintptr_t tag) {
  local_->run(
      [sync = sync_, catch_up = catch_up_, work = std::move(work)](Connection& connection) -> Outcome {
        catch_up->before_read(connection, *sync);
        return work(connection);
      },
      std::move(inner), tag);
}

std::shared_ptr<Operation> ReplicaConnection::open(Sink sink, std::uintptr_t tag) {
  return submit(std::move(sink), tag, [this, tag](Sink opened) {
    Sink inner = std::make_shared<CallbackSink>([self = weak_from_this(), opened](std::shared_ptr<Operation> done) {
      const bool succeeded = !std::holds_alternative<Error>(done->outcome());
      if (auto owner = self.lock(); owner && succeeded) owner->start_background_sync();
      Outcome outcome = std::move(done->outcome());
      Operation::complete(std::make_shared<Operation>(nullptr, opened, done->tag()), std::move(outcome));
    });
    auto then = inner;
    if (online()) {
      // Local reads need only the local file: a primary that cannot be
      // reached now is tried again by the first write.
      then = std::make_shared<CallbackSink>(
          [primary = primary_, opened = primary_open_, inner, tag](std::shared_ptr<Operation> local) {
            if (const auto* error = std::get_if<Error>(&local->outcome())) return fail_into(inner, tag, *error);
            primary->open(std::make_shared<CallbackSink>([opened, inner, tag](std::shared_ptr<Operation> attempt) {
                            opened->store(!std::holds_alternative<Error>(attempt->outcome()));
                            Operation::complete(std::make_shared<Operation>(nullptr, inner, tag), {});
                          }),
                          tag);
          });
    }
    local_->run(
        [sync = sync_, catch_up = catch_up_, options = local_options_](Connection& connection) -> Outcome {
          const bool made = sync->bootstrap();
          // Set up outside any transaction; the caller's transaction control
          // (which may open one at once) comes last.
          OpenOptions opening = options;
          opening.transaction_control = TransactionControl::Autocommit;
          connection.open(opening);
          sync->prepare(connection);
          // A new replica starts in step: the primary has just answered. An
          // existing one opens from its files alone, primary or not.
          if (made) catch_up->pulling([&] { return sync->pull(connection); });
          connection.set_transaction_control(options.transaction_control);
          return {};
        },
        std::move(then), tag);
  });
}

std::shared_ptr<Operation> ReplicaConnection::execute(std::string sql, Params params, Sink sink, std::uintptr_t tag) {
  auto statement = std::make_shared<std::pair<std::string, Params>>(std::move(sql), std::move(params));
  return submit(std::move(sink), tag, [this, statement, tag](Sink inner) {
    auto on_primary_side = [statement, tag](remote::RemoteConnection& primary, Sink done) {
      primary.execute(statement->first, statement->second, std::move(done), tag);
    };
    if (online() && (primary_->in_transaction() || !only_reads(statement->first))) {
      return on_primary(on_primary_side, std::move(inner));
    }
    auto done = inner;
    if (online()) {
      // The text looked like a read, but the statement writes: the primary runs it.
      done = std::make_shared<CallbackSink>([this, inner, on_primary_side](std::shared_ptr<Operation> local) {
        const auto* error = std::get_if<Error>(&local->outcome());
        if (error == nullptr || (error->sqlite_code & 0xff) != SQLITE_READONLY) {
          Outcome outcome = std::move(local->outcome());
          return Operation::complete(std::make_shared<Operation>(nullptr, inner, local->tag()), std::move(outcome));
        }
        on_primary(on_primary_side, inner);
      });
    }
    on_local(
        [local = local_.get(), statement](Connection& connection) -> Outcome {
          // Moved from only when rows stay open, so a statement the local
          // file refuses still has its values for the primary.
          return local->keep_open(connection.execute(statement->first, statement->second, kFirstChunk));
        },
        std::move(done), tag);
  });
}

std::shared_ptr<Operation> ReplicaConnection::execute_many(std::string sql, std::vector<Params> batch, Sink sink,
                                                           std::uintptr_t tag) {
  auto work = std::make_shared<std::pair<std::string, std::vector<Params>>>(std::move(sql), std::move(batch));
  return submit(std::move(sink), tag, [this, work, tag](Sink inner) {
    if (online()) {
      return on_primary(
          [work, tag](remote::RemoteConnection& primary, Sink done) {
            primary.execute_many(std::move(work->first), std::move(work->second), std::move(done), tag);
          },
          std::move(inner));
    }
    local_->execute_many(std::move(work->first), std::move(work->second), std::move(inner), tag);
  });
}

std::shared_ptr<Operation> ReplicaConnection::execute_script(std::string script, Sink sink, std::uintptr_t tag) {
  auto text = std::make_shared<std::string>(std::move(script));
  return submit(std::move(sink), tag, [this, text, tag](Sink inner) {
    if (online()) {
      return on_primary([text, tag](remote::RemoteConnection& primary,
                                    Sink done) { primary.execute_script(std::move(*text), std::move(done), tag); },
                        std::move(inner));
    }
    local_->execute_script(std::move(*text), std::move(inner), tag);
  });
}

std::shared_ptr<Operation> ReplicaConnection::commit(Sink sink, std::uintptr_t tag) {
  return submit(std::move(sink), tag, [this, tag](Sink inner) {
    if (online() && primary_->in_transaction()) {
      on_primary([tag](remote::RemoteConnection& primary, Sink done) { primary.commit(std::move(done), tag); },
                 std::move(inner));
    } else if (online()) {
      // Nothing is open on the primary, and the local file never writes.
      Operation::complete(std::make_shared<Operation>(nullptr, std::move(inner), tag), {});
    } else {
      local_->commit(std::move(inner), tag);
    }
  });
}

std::shared_ptr<Operation> ReplicaConnection::rollback(Sink sink, std::uintptr_t tag) {
  return submit(std::move(sink), tag, [this, tag](Sink inner) {
    if (online() && primary_->in_transaction()) {
      primary_->rollback(std::move(inner), tag);
    } else if (online()) {
      Operation::complete(std::make_shared<Operation>(nullptr, std::move(inner), tag), {});
    } else {
      local_->rollback(std::move(inner), tag);
    }
  });
}

std::shared_ptr<Operation> ReplicaConnection::set_transaction_control(TransactionControl control, Sink sink,
                                                                      std::uintptr_t tag) {
  return submit(std::move(sink), tag, [this, control, tag](Sink inner) {
    if (online()) {
      primary_->set_transaction_control(control, std::move(inner), tag);
    } else {
      local_->set_transaction_control(control, std::move(inner), tag);
    }
  });
}

void ReplicaConnection::start_background_sync() {
  std::lock_guard lock(mutex_);
  if (!sync_interval_ || background_ || closed_) return;
  background_ = std::make_unique<BackgroundSync>(*sync_interval_, [self = weak_from_this()](BackgroundSync::Done done) {
    auto owner = self.lock();
    if (!owner) return done(std::nullopt);
    owner->submit_sync(std::make_shared<CallbackSink>([done](std::shared_ptr<Operation> finished) {
                         const auto* error = std::get_if<Error>(&finished->outcome());
                         done(error ? std::optional<Error>(*error) : std::nullopt);
                       }),
                       0);
  });
}

std::shared_ptr<Operation> ReplicaConnection::sync(Sink sink, std::uintptr_t tag) {
  if (is_inherited()) return submit(std::move(sink), tag, nullptr);
  std::optional<Error> missed;
  {
    std::lock_guard lock(mutex_);
    if (background_) missed = background_->take_failure();
  }
  if (missed) {
    auto operation = std::make_shared<Operation>(nullptr, std::move(sink), tag);
    missed->message = "the background sync failed (it is tried again): " + missed->message;
    Operation::complete(operation, std::move(*missed));
    return operation;
  }
  return submit_sync(std::move(sink), tag);
}

std::shared_ptr<Operation> ReplicaConnection::submit_sync(Sink sink, std::uintptr_t tag) {
  return submit(
      std::move(sink), tag,
      [this, tag](Sink inner) {
        local_->run(
            [sync = sync_, catch_up = catch_up_, push = !online()](Connection& connection) -> Outcome {
              if (connection.open_results() != 0) {
                throw DbError(Error{ErrorKind::Programming, -1,
                                    "sync() cannot run while a result of this connection is still open: fetch it or "
                                    "close its cursor first"});
              }
              return sync_result(catch_up->pulling([&] { return sync->sync(connection, push); }));
            },
            std::move(inner), tag);
      },
      true);
}

std::shared_ptr<Operation> ReplicaConnection::close(Sink sink, std::uintptr_t tag) {
  if (is_inherited()) return submit(std::move(sink), tag, nullptr);
  auto operation = std::make_shared<Operation>(nullptr, std::move(sink), tag);
  Step closing{operation, [this, tag](Sink inner) {
                 auto both = all_of(online() ? 2 : 1, std::make_shared<Operation>(nullptr, std::move(inner), tag));
                 if (online()) primary_->close(both, tag);
                 local_->close(both, tag);
               }};
  std::deque<Step> abandoned;
  bool run_now = false;
  bool interrupt_sync = false;
  std::unique_ptr<BackgroundSync> background;
  {
    std::lock_guard lock(mutex_);
    background = std::move(background_);
  }
  // Stopped outside the lock: a sync it is starting needs the lock.
  if (background) background->stop();
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      Operation::complete(operation, {});
      return operation;
    }
    closed_ = true;
    abandoned = queue_.take_all();
    // After the running step, if there is one.
    if (running_) {
      queue_.push_back(std::move(closing));
      interrupt_sync = running_sync_;
    } else {
      running_ = operation;
      run_now = true;
    }
  }
  OrderedQueue<Step>::fail_all(std::move(abandoned), closed_error());
  if (interrupt_sync) local_->interrupt();
  if (run_now) run(std::move(closing));
  return operation;
}

bool ReplicaConnection::runs_locally_now(std::string_view sql) const {
  if (sql.empty() || is_inherited() || catch_up_->behind() ||
      (online() && (!only_reads(sql) || primary_->in_transaction()))) {
    return false;
  }
  std::lock_guard lock(mutex_);
  return !running_ && !closed_;
}

std::optional<QueryResult> ReplicaConnection::try_execute_inline(std::string_view sql, Params& params) {
  if (!runs_locally_now(sql)) return std::nullopt;
  return local_->try_execute_inline(sql, params);
}

bool ReplicaConnection::can_hand_off(std::string_view statement) const {
  return runs_locally_now(statement) && local_->can_hand_off(statement);
}

bool ReplicaConnection::in_transaction() const {
  return local_->in_transaction() || (online() && primary_->in_transaction());
}

std::optional<std::string> ReplicaConnection::lacks(Capability capability) const {
  switch (capability) {
    case Capability::Rekey:
      return "on an embedded replica: its pages travel to and from the primary as they are, so its file cannot be "
             "encrypted";
    case Capability::TotalChanges:
      if (online()) return "on an embedded replica that writes through its primary: the primary runs the writes";
      return std::nullopt;
    // Functions serve the statements the local file runs (reads, or
    // everything offline); the primary cannot call them.
    case Capability::UserFunctions:
    case Capability::Backup:
    case Capability::Interrupt:
      return std::nullopt;
  }
  return std::nullopt;
}

bool ReplicaConnection::cancel(std::uintptr_t tag) {
  if (is_inherited()) return false;
  std::shared_ptr<Operation> removed;
  {
    std::lock_guard lock(mutex_);
    switch (queue_.remove(tag, removed)) {
      case OrderedQueue<Step>::Removal::Refused:
        return false;
      case OrderedQueue<Step>::Removal::Removed:
        break;
      case OrderedQueue<Step>::Removal::NotQueued:
        if (!running_ || running_->tag() != tag) return false;
        break;
    }
  }
  if (removed) {
    Operation::complete(std::move(removed), cancelled_error());
    return true;
  }
  return local_->cancel(tag) || (online() && primary_->cancel(tag));
}

}  // namespace aiolibsql::replica
