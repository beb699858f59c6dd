#include "pool/pool.hpp"

#include <sqlite3.h>

#include <algorithm>

#include "completion_queue.hpp"
#include "error.hpp"
#include "fork_generation.hpp"
#include "pool/group_commit.hpp"
#include "pool/lock_deadline.hpp"
#include "statement.hpp"

namespace aiolibsql {

namespace {

Error cursor_outlived_transaction_error() {
  return Error{ErrorKind::Programming, -1, "the transaction of this cursor has ended: fetch its rows inside the block"};
}

OpenOptions member_options(const PoolOptions& pool, bool query_only) {
  OpenOptions options;
  options.database = pool.database;
  options.uri = pool.uri;
  options.timeout_seconds = pool.timeout_seconds;
  options.isolation_level = std::nullopt;
  options.transaction_control = TransactionControl::Autocommit;
  options.cached_statements = pool.cached_statements;
  options.query_only = query_only;
  options.encryption_key = pool.encryption_key;
  options.cipher = pool.cipher;
  return options;
}

}  // namespace

Pool::Pool(PoolOptions options)
    : options_(std::move(options)),
      writer_(std::make_shared<AsyncConnection>()),
      gate_(
          [writer = writer_.get()](WriterGate::Operations operations) { writer->executor().submit_all(operations); }) {
  const std::size_t readers = options_.size > 1 ? options_.size - 1 : 0;
  for (std::size_t i = 0; i < readers; ++i) readers_.push_back(std::make_shared<AsyncConnection>());
  pinned_.assign(readers, false);
  writer_->set_group_runner(commit_as_group, options_.largest_group, options_.group_gather);
}

Pool::~Pool() {
  // Connections first: their queued work refers to this pool's gate.
  writer_.reset();
  readers_.clear();
}

void Pool::open(Sink sink, std::uintptr_t tag) {
  auto outer = std::make_shared<Operation>(nullptr, std::move(sink), tag);
  auto self = shared_from_this();
  auto open_member = [self](OpenOptions options, bool writer) {
    return [self, options = std::move(options), writer](Connection& connection) -> Outcome {
      if (writer && self->options_.before_open) self->options_.before_open();
      connection.open(options);
      for (const auto& statement : self->options_.setup_statements) run_sql(connection, statement);
      if (self->options_.after_open) self->options_.after_open(connection);
      return {};
    };
  };
  // Each connection's work holds its own copy of the key; the pool keeps none.
  auto reader_options = member_options(options_, true);
  auto writer_options = member_options(options_, false);
  options_.encryption_key = Secret();
  // The writer goes first: it switches the file to WAL before readers open it.
  auto then_readers =
      std::make_shared<CallbackSink>([self, outer, open_member, reader_options](std::shared_ptr<Operation> writer) {
        if (auto* error = std::get_if<Error>(&writer->outcome())) {
          Operation::complete(outer, *error);
          return;
        }
        try {
          self->router_.open(reader_options, [&self] {
            // Closed while the writer opened (a cancelled open): open nothing more.
            if (self->is_closed()) throw DbError(pool_closed_error());
          });
        } catch (const DbError& error) {
          Operation::complete(outer, error.error());
          return;
        }
        auto joined = all_of(self->readers_.size(), outer);
        for (auto& reader : self->readers_) reader->run(open_member(reader_options, false), joined, 0);
      });
  writer_->run(open_member(std::move(writer_options), true), then_readers, 0);
}

std::chrono::steady_clock::time_point Pool::lock_deadline_from_now() const {
  using Clock = std::chrono::steady_clock;
  const auto now = Clock::now();
  // A timeout beyond what the clock can add means no deadline at all.
  const std::chrono::duration<double> timeout(options_.timeout_seconds);
  if (timeout >= Clock::time_point::max() - now) return Clock::time_point::max();
  return now + std::chrono::duration_cast<Clock::duration>(timeout);
}

int Pool::choose_reader(std::size_t& load) const {
  int chosen = -1;
  load = SIZE_MAX;
  for (std::size_t i = 0; i < readers_.size(); ++i) {
    // A reader with an unfinished result still reads an older state of the
    // database: a read sent there could miss a write already committed.
    if (pinned_[i] || readers_[i]->open_results() > 0) continue;
    const std::size_t reader_load = readers_[i]->executor().load();
    if (reader_load < load) {
      load = reader_load;
      chosen = static_cast<int>(i);
      if (load == 0) break;
    }
  }
  return chosen;
}

AsyncConnection* Pool::pick_reader(bool& idle) {
  std::lock_guard lock(readers_mutex_);
  std::size_t load = 0;
  const int chosen = choose_reader(load);
  idle = load == 0;
  return chosen < 0 ? nullptr : readers_[static_cast<std::size_t>(chosen)].get();
}

std::optional<QueryResult> Pool::try_execute_inline(const Route& route, Params& params) {
  if (!route.is_plain_read()) return std::nullopt;
  bool idle = false;
  AsyncConnection* reader = pick_reader(idle);
  if (reader == nullptr || !idle) return std::nullopt;
  return reader->try_execute_inline(*route.sql, params);
}

void Pool::submit_to_writer(std::span<std::shared_ptr<Operation>> operations, std::uint64_t transaction, bool begins) {
  // Writes this thread holds were submitted first, so they go first.
  SubmissionBatch::flush();
  gate_.submit(operations, transaction, begins);
}

void Pool::execute(const Route& route, Params params, Sink sink, std::uintptr_t tag) {
  if (route.transaction_control) {
    Operation::complete(std::make_shared<Operation>(nullptr, std::move(sink), tag),
                        Error{ErrorKind::Programming, -1, "use pool.transaction() for transactions"});
    return;
  }
  if (route.changes_connection) {
    Operation::complete(std::make_shared<Operation>(nullptr, std::move(sink), tag),
                        Error{ErrorKind::Programming, -1,
                              "this statement would change the settings of one pooled connection only (a pragma "
                              "assignment, ATTACH or DETACH): set pragmas for every connection with "
                              "create_pool(pragmas=...)"});
    return;
  }
  if (route.readonly) {
    bool idle = false;
    if (auto* reader = pick_reader(idle)) {
      reader->execute(*route.sql, std::move(params), std::move(sink), tag);
      return;
    }
    // Every reader holds a snapshot: read on the writer, through its gate.
  }
  auto operation = writer_operation(
      [sql = route.sql, params = std::move(params)](Connection& connection) mutable -> Outcome {
        return connection.execute(*sql, params, kWholeResult);
      },
      std::move(sink), tag);
  // No waiting for the result here, even on an idle writer: while the
  // caller waits, the loop cannot submit the writes that group commit
  // would have gathered.
  operation->set_groupable(route.groupable && options_.largest_group > 1);
  if (operation->groupable() && SubmissionBatch::hold(shared_from_this(), operation)) return;
  submit_to_writer(std::move(operation), 0, false);
}

void Pool::submit_held(std::span<std::shared_ptr<Operation>> operations) {
  // Through the gate now, not when they were held: a transaction begun
  // meanwhile (from another thread) makes them wait their turn.
  submit_to_writer(operations, 0, false);
}

void Pool::execute_many(std::string sql, std::vector<Params> batch, Sink sink, std::uintptr_t tag) {
  submit_to_writer(writer_operation(
                       [sql = std::move(sql), batch = std::move(batch)](Connection& connection) -> Outcome {
                         run_sql(connection, "BEGIN IMMEDIATE");
                         try {
                           const auto changes = connection.execute_many(sql, batch);
                           run_sql(connection, "COMMIT");
                           return changes;
                         } catch (...) {
                           roll_back_quietly(connection);
                           throw;
                         }
                       },
                       std::move(sink), tag),
                   0, false);
}

void Pool::execute_batch(std::vector<std::pair<std::string, Params>> statements, Sink sink, std::uintptr_t tag) {
  submit_to_writer(writer_operation(
                       [statements = std::move(statements)](Connection& connection) mutable -> Outcome {
                         run_sql(connection, "BEGIN IMMEDIATE");
                         try {
                           for (auto& [sql, params] : statements) {
                             connection.execute(sql, params, kWholeResult);
                           }
                           run_sql(connection, "COMMIT");
                           return {};
                         } catch (...) {
                           roll_back_quietly(connection);
                           throw;
                         }
                       },
                       std::move(sink), tag),
                   0, false);
}

std::uint64_t Pool::begin_transaction(Sink sink, std::uintptr_t tag) {
  const std::uint64_t transaction = gate_.new_transaction();
  submit_to_writer(writer_operation(
                       [this, transaction](Connection& connection) -> Outcome {
                         try {
                           run_sql(connection, "BEGIN IMMEDIATE");
                         } catch (...) {
                           gate_.open(transaction);
                           throw;
                         }
                         return {};
                       },
                       std::move(sink), tag),
                   transaction, true);
  return transaction;
}

void Pool::transaction_execute(std::uint64_t transaction, std::string sql, Params params, Sink sink,
                               std::uintptr_t tag) {
  AsyncConnection* writer = writer_.get();
  submit_to_writer(writer_operation(
                       [this, transaction, writer, sql = std::move(sql),
                        params = std::move(params)](Connection& connection) mutable {
                         gate_.require_holder(transaction);
                         // Its later rows are read on the writer, which by then may
                         // hold another transaction: only this one may fetch them.
                         auto still_active = [pool = weak_from_this(), transaction] {
                           const auto self = pool.lock();
                           if (self == nullptr) throw DbError(pool_closed_error());
                           try {
                             self->gate_.require_holder(transaction);
                           } catch (const DbError&) {
                             throw DbError(cursor_outlived_transaction_error());
                           }
                         };
                         return Outcome(writer->keep_open(connection.execute(sql, params, kFirstChunk), still_active));
                       },
                       std::move(sink), tag),
                   transaction, false);
}

void Pool::transaction_execute_many(std::uint64_t transaction, std::string sql, std::vector<Params> batch, Sink sink,
                                    std::uintptr_t tag) {
  submit_to_writer(
      writer_operation(
          [this, transaction, sql = std::move(sql), batch = std::move(batch)](Connection& connection) -> Outcome {
            gate_.require_holder(transaction);
            return connection.execute_many(sql, batch);
          },
          std::move(sink), tag),
      transaction, false);
}

void Pool::end_transaction(std::uint64_t transaction, bool commit, Sink sink, std::uintptr_t tag) {
  auto end = writer_operation(
      [this, transaction, commit](Connection& connection) -> Outcome {
        gate_.require_holder(transaction);
        try {
          if (connection.in_transaction()) run_sql(connection, commit ? "COMMIT" : "ROLLBACK");
        } catch (...) {
          roll_back_quietly(connection);
          gate_.open(transaction);
          throw;
        }
        gate_.open(transaction);
        return {};
      },
      std::move(sink), tag);
  // Dropped, it would leave the writer gated for good.
  end->refuse_cancellation();
  submit_to_writer(std::move(end), transaction, false);
}

void Pool::run_on_writer(AsyncConnection::ConnectionWork work, Sink sink, std::uintptr_t tag) {
  submit_to_writer(writer_operation(std::move(work), std::move(sink), tag), 0, false);
}

std::int64_t Pool::pin(PinKind kind, Sink sink, std::uintptr_t tag) {
  if (kind == PinKind::Transaction) return static_cast<std::int64_t>(begin_transaction(std::move(sink), tag));
  return begin_snapshot(std::move(sink), tag);
}

void Pool::pinned_execute(std::int64_t pin, PinKind kind, std::string sql, Params params, Sink sink,
                          std::uintptr_t tag) {
  if (kind == PinKind::Transaction) {
    return transaction_execute(static_cast<std::uint64_t>(pin), std::move(sql), std::move(params), std::move(sink),
                               tag);
  }
  snapshot_execute(static_cast<int>(pin), std::move(sql), std::move(params), std::move(sink), tag);
}

void Pool::pinned_execute_many(std::int64_t pin, std::string sql, std::vector<Params> batch, Sink sink,
                               std::uintptr_t tag) {
  transaction_execute_many(static_cast<std::uint64_t>(pin), std::move(sql), std::move(batch), std::move(sink), tag);
}

void Pool::unpin(std::int64_t pin, PinKind kind, bool commit, Sink sink, std::uintptr_t tag) {
  if (kind == PinKind::Transaction)
    return end_transaction(static_cast<std::uint64_t>(pin), commit, std::move(sink), tag);
  end_snapshot(static_cast<int>(pin), std::move(sink), tag);
}

int Pool::begin_snapshot(Sink sink, std::uintptr_t tag) {
  int chosen = -1;
  {
    std::lock_guard lock(readers_mutex_);
    std::size_t load = 0;
    chosen = choose_reader(load);
    if (chosen >= 0) pinned_[static_cast<std::size_t>(chosen)] = true;
  }
  if (chosen < 0) {
    Operation::complete(std::make_shared<Operation>(nullptr, std::move(sink), tag),
                        Error{ErrorKind::Operational, SQLITE_BUSY,
                              "no reader of the pool is free for a snapshot (each holds one, or an unfinished result); "
                              "close one or use a bigger pool"});
    return -1;
  }
  readers_[static_cast<std::size_t>(chosen)]->run(
      [](Connection& connection) -> Outcome {
        run_sql(connection, "BEGIN");
        try {
          // Reading the schema cookie starts the read transaction now, so the
          // snapshot is the database as of this moment.
          run_sql(connection, "PRAGMA schema_version");
        } catch (...) {
          roll_back_quietly(connection);
          throw;
        }
        return {};
      },
      std::move(sink), tag);
  return chosen;
}

void Pool::snapshot_execute(int reader, std::string sql, Params params, Sink sink, std::uintptr_t tag) {
  readers_.at(static_cast<std::size_t>(reader))->execute(std::move(sql), std::move(params), std::move(sink), tag);
}

void Pool::end_snapshot(int reader, Sink sink, std::uintptr_t tag) {
  const auto index = static_cast<std::size_t>(reader);
  auto& owner = *readers_.at(index);
  auto end = owner.make_operation(
      [this, index](Connection& connection) -> Outcome {
        roll_back_quietly(connection);
        std::lock_guard lock(readers_mutex_);
        pinned_[index] = false;
        return {};
      },
      std::move(sink), tag);
  // Dropped, it would leave the reader pinned for good.
  end->refuse_cancellation();
  owner.executor().submit(std::move(end));
}

void Pool::close(Sink sink, std::uintptr_t tag) {
  if (writer_->is_inherited()) {
    Operation::complete(std::make_shared<Operation>(nullptr, std::move(sink), tag), inherited_error());
    return;
  }
  if (!gate_.close()) {
    Operation::complete(std::make_shared<Operation>(nullptr, std::move(sink), tag), {});
    return;
  }
  router_.close();
  auto outer = std::make_shared<Operation>(nullptr, std::move(sink), tag);
  auto joined = all_of(readers_.size() + 1, outer);
  for (auto& reader : readers_) reader->close(joined, 0);
  // The writer's last work: checkpoint (waiting for the readers to let go), then close.
  writer_->executor().close(writer_->make_operation(
      [checkpoint = options_.checkpoint_on_close](Connection& connection) -> Outcome {
        if (checkpoint && connection.is_open()) {
          try {
            run_sql(connection, "PRAGMA wal_checkpoint(TRUNCATE)");
          } catch (const DbError&) {
          }
        }
        connection.close();
        return {};
      },
      joined, 0));
}

void Pool::interrupt_permanently() noexcept {
  writer_->interrupt_permanently();
  for (auto& reader : readers_) reader->interrupt_permanently();
}

bool Pool::cancel(std::uintptr_t tag) {
  if (auto held = SubmissionBatch::take(this, tag)) {
    Operation::complete(std::move(held), cancelled_error());
    return true;
  }
  switch (gate_.cancel(tag)) {
    case OrderedQueue<>::Removal::Removed:
      return true;
    case OrderedQueue<>::Removal::Refused:
      return false;
    case OrderedQueue<>::Removal::NotQueued:
      break;
  }
  if (writer_->cancel(tag)) return true;
  return std::any_of(readers_.begin(), readers_.end(), [tag](const auto& reader) { return reader->cancel(tag); });
}

bool Pool::is_closed() const { return gate_.is_closed(); }

std::vector<PoolMemberStats> Pool::stats() const {
  const auto member = [](std::string role, AsyncConnection& connection) {
    const ExecutorStats executor = connection.executor().stats();
    return PoolMemberStats{
        std::move(role),       executor.queued, executor.completed, executor.groups, executor.grouped_operations,
        executor.largest_group};
  };
  std::vector<PoolMemberStats> stats;
  stats.push_back(member("writer", *writer_));
  for (const auto& reader : readers_) stats.push_back(member("reader", *reader));
  return stats;
}

}  // namespace aiolibsql
