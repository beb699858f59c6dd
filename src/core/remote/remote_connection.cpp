#include "remote_connection.hpp"

#include <utility>

#include "fork_generation.hpp"
#include "sql_text.hpp"
#include "stored_sql.hpp"

namespace aiolibsql::remote {

namespace {

using hrana::BatchCondition;
using hrana::BatchRequest;
using hrana::BatchResult;
using hrana::BatchStep;
using hrana::StatementResult;
using hrana::StreamResult;

hrana::Statement statement(std::string sql, Params params = {}) { return {std::move(sql), std::move(params), true}; }

// The first error among a batch's steps, if any.
std::optional<Error> first_error(const BatchResult& batch) {
  for (const auto& error : batch.step_errors) {
    if (error) return error;
  }
  return std::nullopt;
}

// A batch whose steps each run only if the one before succeeded.
BatchRequest chained(std::vector<hrana::Statement> statements) {
  BatchRequest request;
  for (std::uint32_t i = 0; i < statements.size(); ++i) {
    request.batch.push_back(BatchStep{i == 0 ? nullptr : BatchCondition::ok(i - 1), std::move(statements[i])});
  }
  return request;
}

Outcome error_or(const StreamResult& result, auto&& read) {
  if (const auto* error = std::get_if<Error>(&result)) return *error;
  return read(result);
}

constexpr const char* kOnlyDml = "executemany() can only execute DML statements.";

// Refused before it runs where the text tells, as the engine refuses
// locally; a statement only the server can tell about (WITH, PRAGMA) is
// refused by the columns it answers with.
void refuse_rows_by_text(std::string_view sql) {
  if (statement_kind(sql).select || mentions_returning(sql)) throw DbError(Error{ErrorKind::Programming, -1, kOnlyDml});
}

Error closed_error() { return Error{ErrorKind::Programming, -1, "Cannot operate on a closed database."}; }

// Whether a request that failed may go again on a new stream, outside a
// transaction and once only: an idle stream the server let expire (nothing
// ran), or a read whose connection broke (running it twice changes nothing).
bool worth_sending_again(const StreamFailure& failure, bool held_baton, bool idempotent_read,
                         bool in_transaction_before, bool retried) {
  if (failure.not_sent) return false;
  const bool expired_idle = failure.nothing_ran && held_baton;
  const bool broken_read = failure.connection_broke && idempotent_read;
  return (expired_idle || broken_read) && !in_transaction_before && !retried;
}

}  // namespace

RemoteConnection::RemoteConnection(RemoteOptions options)
    : generation_(fork_generation()),
      stream_(HttpTransport::shared(), std::move(options.endpoint), options.http),
      rules_(std::move(options.transactions)) {}

std::shared_ptr<Operation> RemoteConnection::submit(Sink sink, std::uintptr_t tag, Plan plan,
                                                    bool needs_live_transaction) {
  auto operation = std::make_shared<Operation>(nullptr, std::move(sink), tag);
  if (is_inherited()) {
    Operation::complete(operation, inherited_error());
    return operation;
  }
  bool busy = false;
  std::shared_ptr<RemoteCursor> streaming;
  {
    std::unique_lock lock(mutex_);
    if (closed_) {
      lock.unlock();
      Operation::complete(operation, closed_error());
      return operation;
    }
    queue_.push_back(Pending{operation, std::move(plan), needs_live_transaction});
    busy = running_ != nullptr || streaming_ != nullptr;
    streaming = streaming_;
  }
  // The operation needs the stream: the cursor holding it reads the rest now.
  if (streaming) streaming->drain();
  if (!busy) start_next();
  return operation;
}

void RemoteConnection::start_next() {
  {
    std::lock_guard lock(mutex_);
    // Already under way, further up this thread's stack (an operation that
    // failed before it was sent) or on another thread: that call goes round
    // again, so a long queue of such failures never nests one call per operation.
    if (starting_) {
      start_again_ = true;
      return;
    }
    starting_ = true;
  }
  while (true) {
    if (auto next = take_next()) send(std::move(next->first), std::move(next->second), false);
    std::lock_guard lock(mutex_);
    if (!start_again_) {
      starting_ = false;
      return;
    }
    start_again_ = false;
  }
}

std::optional<std::pair<std::shared_ptr<Operation>, RemoteConnection::Exchange>> RemoteConnection::take_next() {
  while (true) {
    std::unique_lock lock(mutex_);
    if (running_ || streaming_) return std::nullopt;
    if (queue_.empty()) {
      if (closing_) {
        auto close_operation = std::exchange(closing_, nullptr);
        lock.unlock();
        close_stream_then(std::move(close_operation));
      }
      return std::nullopt;
    }
    Pending next = queue_.take_front();
    if (next.needs_live_transaction && lost_transaction_) {
      const std::string why = *lost_transaction_;
      lock.unlock();
      Operation::complete(std::move(next.operation), Error{ErrorKind::Operational, -1,
                                                           "the open transaction on the remote database was lost (" +
                                                               why + "); call rollback() before going on"});
      continue;
    }
    Exchange exchange;
    try {
      exchange = next.plan();
    } catch (const DbError& error) {
      lock.unlock();
      Operation::complete(std::move(next.operation), error.error());
      continue;
    }
    if (exchange.requests.empty() && !exchange.streamed) {
      lock.unlock();
      Operation::complete(std::move(next.operation), exchange.read({}));
      continue;
    }
    running_ = next.operation;
    return std::pair{std::move(next.operation), std::move(exchange)};
  }
}

void RemoteConnection::send(std::shared_ptr<Operation> operation, Exchange exchange, bool retried) {
  if (!retried) forget_idle_stream();
  if (exchange.streamed) {
    return send_streamed(std::move(operation), std::move(*exchange.streamed), exchange.idempotent_read, retried);
  }
  const bool v3 = stream_.speaks_v3();
  const bool held_baton = stream_.holds_baton();
  bool in_transaction_before = false;
  bool stays_autocommit = false;
  {
    std::lock_guard lock(mutex_);
    in_transaction_before = in_transaction_;
    stays_autocommit =
        !exchange.may_change_transaction && !in_transaction_ && rules_.control != TransactionControl::Manual;
    request_abortable_ = stays_autocommit;
  }
  // A server that keeps no stream between requests would leave a transaction
  // begun here open where no later request can reach it (tursodb: on the
  // connection every client shares).
  if (!stays_autocommit && !exchange.ends_what_it_begins && !exchange.requests.empty() && !stream_.keeps_streams()) {
    return finish(std::move(operation),
                  Error{ErrorKind::NotSupported, -1,
                        "this server keeps no stream between requests (its answers carry no baton), so a transaction "
                        "cannot stay open across statements: connect with autocommit=True, and group writes that "
                        "must be atomic with a pool's executemany() or executebatch()"});
  }
  // Hrana 2 servers (tursodb) lack store_sql: they get every text in full.
  hrana::StoredSqlPipeline pipeline =
      v3 ? hrana::store_repeated_sql(exchange.requests) : hrana::StoredSqlPipeline{exchange.requests, 0};
  auto& requests = pipeline.requests;
  const std::size_t first_own = pipeline.first_given;
  const std::size_t own = exchange.requests.size();
  const std::size_t state_at = requests.size();
  // A statement that leaves no transaction open needs no stream after it;
  // otherwise the answer says whether a transaction is open now.
  if (v3) {
    if (stays_autocommit) {
      requests.emplace_back(hrana::CloseRequest{});
    } else {
      requests.emplace_back(hrana::GetAutocommitRequest{});
    }
  }
  auto self = shared_from_this();
  stream_.send(std::move(requests), [self, operation, exchange = std::move(exchange), first_own, own, state_at, retried,
                                     held_baton, in_transaction_before](HranaStream::Reply reply) mutable {
    if (auto* failure = std::get_if<StreamFailure>(&reply)) {
      if (failure->not_sent) return self->finish(std::move(operation), std::move(failure->error));
      if (worth_sending_again(*failure, held_baton, exchange.idempotent_read, in_transaction_before, retried)) {
        self->stream_.drop();
        self->send(std::move(operation), std::move(exchange), true);
        return;
      }
      {
        std::lock_guard lock(self->mutex_);
        if (self->in_transaction_) {
          self->lost_transaction_ = failure->error.message;
          self->in_transaction_ = false;
        }
      }
      self->stream_.drop();
      self->finish(std::move(operation), std::move(failure->error));
      return;
    }
    const auto& results = std::get<hrana::PipelineResponse>(reply).results;
    {
      std::lock_guard lock(self->mutex_);
      if (results.size() > state_at) {
        if (const auto* state = std::get_if<hrana::AutocommitState>(&results[state_at])) {
          self->in_transaction_ = !state->is_autocommit;
        } else if (std::holds_alternative<hrana::Acknowledged>(results[state_at])) {
          self->in_transaction_ = false;
        }
      }
    }
    Outcome outcome = exchange.read(std::span(results).subspan(first_own, own));
    if (auto* result = std::get_if<QueryResult>(&outcome)) {
      std::lock_guard lock(self->mutex_);
      if (result->lastrowid != 0) {
        self->last_insert_rowid_ = result->lastrowid;
      } else {
        result->lastrowid = self->last_insert_rowid_;
      }
    }
    self->finish(std::move(operation), std::move(outcome));
  });
}

void RemoteConnection::send_streamed(std::shared_ptr<Operation> operation, hrana::Statement statement,
                                     bool idempotent_read, bool retried) {
  const bool held_baton = stream_.holds_baton();
  bool in_transaction = false;
  std::int64_t lastrowid = 0;
  {
    std::lock_guard lock(mutex_);
    in_transaction = in_transaction_;
    lastrowid = last_insert_rowid_;
    request_abortable_ = !in_transaction;
  }
  // Weak: the cursor lives as long as its rows' handles, which may outlive this.
  const std::weak_ptr<RemoteConnection> weak = weak_from_this();
  RemoteCursor::Connection connection{[weak] {
                                        if (auto self = weak.lock(); self && !self->is_inherited())
                                          self->stream_.resume();
                                      },
                                      [weak] {
                                        if (auto self = weak.lock(); self && !self->is_inherited())
                                          self->stream_.cancel();
                                      },
                                      [weak](const std::shared_ptr<Operation>& answered) {
                                        if (auto self = weak.lock()) {
                                          std::lock_guard lock(self->mutex_);
                                          if (self->running_ == answered) self->running_ = nullptr;
                                          ++self->completed_;
                                        }
                                      },
                                      [weak, statement, held_baton, idempotent_read, in_transaction, retried](
                                          const StreamFailure* failure, std::shared_ptr<Operation> unanswered) {
                                        auto self = weak.lock();
                                        if (!self) return;
                                        const bool may_retry =
                                            failure && worth_sending_again(*failure, held_baton, idempotent_read,
                                                                           in_transaction, retried);
                                        self->cursor_ended(failure, std::move(unanswered), statement, may_retry);
                                      }};
  auto cursor = std::make_shared<RemoteCursor>(std::move(operation), in_transaction, lastrowid, std::move(connection));
  {
    std::lock_guard lock(mutex_);
    streaming_ = cursor;
  }
  hrana::Batch batch;
  batch.push_back(BatchStep{nullptr, std::move(statement)});
  stream_.send_cursor(std::move(batch), std::move(cursor));
}

void RemoteConnection::cursor_ended(const StreamFailure* failure, std::shared_ptr<Operation> unanswered,
                                    const hrana::Statement& statement, bool may_retry) {
  const bool stream_lost = failure && !failure->not_sent;
  {
    std::lock_guard lock(mutex_);
    streaming_ = nullptr;
    if (stream_lost && in_transaction_) {
      lost_transaction_ = failure->error.message;
      in_transaction_ = false;
    }
  }
  if (stream_lost) stream_.drop();
  if (!unanswered) return start_next();
  if (may_retry) return send_streamed(std::move(unanswered), statement, true, true);
  finish(std::move(unanswered),
         failure ? failure->error : Error{ErrorKind::Operational, -1, "the remote database's cursor ended early"});
}

void RemoteConnection::forget_idle_stream() {
  {
    std::lock_guard lock(mutex_);
    // Hrana 2 cannot say whether the stream holds a transaction.
    if (in_transaction_ || !stream_.speaks_v3()) return;
  }
  stream_.drop_if_idle_for(kStreamReuseWindow);
}

void RemoteConnection::finish(std::shared_ptr<Operation> operation, Outcome outcome) {
  {
    std::lock_guard lock(mutex_);
    if (running_ == operation) running_ = nullptr;
    ++completed_;
  }
  Operation::complete(std::move(operation), std::move(outcome));
  start_next();
}

std::shared_ptr<Operation> RemoteConnection::open(Sink sink, std::uintptr_t tag) {
  auto operation = std::make_shared<Operation>(nullptr, std::move(sink), tag);
  {
    std::lock_guard lock(mutex_);
    running_ = operation;
  }
  auto self = shared_from_this();
  stream_.negotiate([self, operation](std::optional<StreamFailure> failure) {
    if (failure) return self->finish(operation, std::move(failure->error));
    TransactionSteps steps;
    {
      std::lock_guard lock(self->mutex_);
      steps = self->rules_.on_open();
    }
    if (steps.empty()) return self->finish(operation, {});
    self->send(operation, self->run_steps(steps, {}), false);
  });
  return operation;
}

RemoteConnection::Exchange RemoteConnection::run_steps(const TransactionSteps& steps, Outcome done) {
  std::vector<hrana::Statement> statements;
  for (const auto& step : steps) statements.push_back(statement(step));
  Exchange exchange;
  exchange.may_change_transaction = true;
  if (!statements.empty()) exchange.requests.emplace_back(chained(std::move(statements)));
  exchange.read = [done = std::move(done)](std::span<const StreamResult> results) -> Outcome {
    if (results.empty()) return done;
    return error_or(results[0], [&](const StreamResult& result) -> Outcome {
      if (auto error = first_error(std::get<BatchResult>(result))) return *error;
      return done;
    });
  };
  return exchange;
}

std::shared_ptr<Operation> RemoteConnection::execute(std::string sql, Params params, Sink sink, std::uintptr_t tag) {
  return submit(std::move(sink), tag, [this, sql = std::move(sql), params = std::move(params)]() mutable {
    const StatementKind kind = statement_kind(sql);
    Exchange exchange;
    exchange.may_change_transaction = kind.transaction_control;
    auto to_query_result = [dml = kind.dml](const StatementResult& result) -> Outcome {
      QueryResult query;
      query.columns = result.columns;
      query.rows = result.rows;
      query.rowcount = dml ? static_cast<std::int64_t>(result.affected_row_count) : -1;
      query.lastrowid = dml ? result.last_insert_rowid.value_or(0) : 0;
      return query;
    };
    if (const auto begin = rules_.begin_before(kind.dml, in_transaction_)) {
      // The BEGIN travels with the statement, which runs only if it began.
      exchange.may_change_transaction = true;
      exchange.requests.emplace_back(chained({statement(*begin), statement(std::move(sql), std::move(params))}));
      exchange.read = [to_query_result](std::span<const StreamResult> results) -> Outcome {
        return error_or(results[0], [&](const StreamResult& result) -> Outcome {
          const auto& batch = std::get<BatchResult>(result);
          if (batch.step_errors.size() != 2) return Error{ErrorKind::Operational, -1, "malformed batch result"};
          if (auto error = first_error(batch)) return *error;
          return to_query_result(*batch.step_results[1]);
        });
      };
    } else {
      exchange.idempotent_read = kind.select && !in_transaction_;
      if (stream_.speaks_v3() && (kind.select || kind.common_table_expression)) {
        exchange.streamed = statement(std::move(sql), std::move(params));
        return exchange;
      }
      exchange.requests.emplace_back(hrana::ExecuteRequest{statement(std::move(sql), std::move(params))});
      exchange.read = [to_query_result](std::span<const StreamResult> results) -> Outcome {
        return error_or(results[0], [&](const StreamResult& result) -> Outcome {
          return to_query_result(std::get<StatementResult>(result));
        });
      };
    }
    return exchange;
  });
}

std::shared_ptr<Operation> RemoteConnection::execute_many(std::string sql, std::vector<Params> batch, Sink sink,
                                                          std::uintptr_t tag) {
  return submit(std::move(sink), tag, [this, sql = std::move(sql), batch = std::move(batch)]() mutable {
    const StatementKind kind = statement_kind(sql);
    refuse_rows_by_text(sql);
    std::vector<hrana::Statement> statements;
    const auto begin = rules_.begin_before(kind.dml, in_transaction_);
    if (begin) statements.push_back(statement(*begin));
    for (auto& params : batch) {
      statements.push_back(statement(sql, std::move(params)));
      // Only a statement that asks for rows is sure to hear its columns.
      statements.back().want_rows = !kind.dml;
    }
    Exchange exchange;
    exchange.may_change_transaction = begin.has_value() || kind.transaction_control;
    if (statements.empty()) {
      exchange.read = [](std::span<const StreamResult>) -> Outcome { return std::int64_t{0}; };
      return exchange;
    }
    exchange.requests.emplace_back(chained(std::move(statements)));
    exchange.read = [dml = kind.dml](std::span<const StreamResult> results) -> Outcome {
      return error_or(results[0], [&](const StreamResult& result) -> Outcome {
        const auto& steps = std::get<BatchResult>(result);
        if (auto error = first_error(steps)) return *error;
        std::int64_t changes = 0;
        for (const auto& step : steps.step_results) {
          if (step && step->columns && !step->columns->names.empty())
            return Error{ErrorKind::Programming, -1, kOnlyDml};
          if (step && dml) changes += static_cast<std::int64_t>(step->affected_row_count);
        }
        return changes;
      });
    };
    return exchange;
  });
}

std::shared_ptr<Operation> RemoteConnection::execute_script(std::string script, Sink sink, std::uintptr_t tag) {
  return submit(std::move(sink), tag, [this, script = std::move(script)]() mutable {
    Exchange exchange = run_steps(rules_.before_script(in_transaction_), {});
    exchange.requests.emplace_back(hrana::SequenceRequest{std::move(script)});
    exchange.read = [](std::span<const StreamResult> results) -> Outcome {
      for (const auto& result : results) {
        if (const auto* error = std::get_if<Error>(&result)) return *error;
        if (const auto* batch = std::get_if<BatchResult>(&result)) {
          if (auto error = first_error(*batch)) return *error;
        }
      }
      return {};
    };
    return exchange;
  });
}

std::shared_ptr<Operation> RemoteConnection::execute_atomically(std::vector<std::pair<std::string, Params>> statements,
                                                                Sink sink, std::uintptr_t tag, bool only_dml) {
  return submit(std::move(sink), tag, [this, statements = std::move(statements), only_dml]() mutable {
    if (only_dml && !statements.empty()) refuse_rows_by_text(statements.front().first);
    if (in_transaction_) {
      throw DbError(Error{ErrorKind::Programming, -1, "an atomic batch cannot run inside an open transaction"});
    }
    Exchange exchange;
    exchange.may_change_transaction = true;
    exchange.ends_what_it_begins = true;
    if (statements.empty()) {
      exchange.read = [](std::span<const StreamResult>) -> Outcome { return std::int64_t{0}; };
      return exchange;
    }
    BatchRequest request;
    request.batch.push_back(BatchStep{nullptr, statement("BEGIN")});
    std::vector<bool> dml;
    for (auto& [sql, params] : statements) {
      const StatementKind kind = statement_kind(sql);
      if (kind.transaction_control) {
        throw DbError(Error{ErrorKind::Programming, -1,
                            "these statements run in a transaction of their own: leave out BEGIN, COMMIT, ROLLBACK, "
                            "SAVEPOINT and RELEASE"});
      }
      dml.push_back(kind.dml);
      auto step = statement(std::move(sql), std::move(params));
      step.want_rows = false;
      const auto previous = static_cast<std::uint32_t>(request.batch.size() - 1);
      request.batch.push_back(BatchStep{BatchCondition::ok(previous), std::move(step)});
    }
    const auto commit_step = static_cast<std::uint32_t>(request.batch.size());
    request.batch.push_back(BatchStep{BatchCondition::ok(commit_step - 1), statement("COMMIT")});
    request.batch.push_back(
        BatchStep{BatchCondition::negation(BatchCondition::ok(commit_step)), statement("ROLLBACK")});
    exchange.requests.emplace_back(std::move(request));
    exchange.read = [dml = std::move(dml), commit_step](std::span<const StreamResult> results) -> Outcome {
      return error_or(results[0], [&](const StreamResult& result) -> Outcome {
        const auto& batch = std::get<BatchResult>(result);
        if (batch.step_errors.size() != commit_step + 2) {
          return Error{ErrorKind::Operational, -1, "malformed batch result"};
        }
        // The first failure is the answer, not the ROLLBACK that followed it.
        for (std::uint32_t i = 0; i <= commit_step; ++i) {
          if (batch.step_errors[i]) return *batch.step_errors[i];
        }
        if (!batch.step_results[commit_step]) {
          return Error{ErrorKind::Operational, -1, "the server skipped the COMMIT of an atomic batch"};
        }
        std::int64_t changes = 0;
        for (std::size_t i = 0; i < dml.size(); ++i) {
          if (dml[i] && batch.step_results[i + 1]) {
            changes += static_cast<std::int64_t>(batch.step_results[i + 1]->affected_row_count);
          }
        }
        return changes;
      });
    };
    return exchange;
  });
}

std::shared_ptr<Operation> RemoteConnection::begin(TransactionSteps steps, Sink sink, std::uintptr_t tag) {
  return submit(std::move(sink), tag, [this, steps = std::move(steps)] { return run_steps(steps, {}); });
}

std::shared_ptr<Operation> RemoteConnection::end_transaction(bool commit, Sink sink, std::uintptr_t tag) {
  auto operation = submit(
      std::move(sink), tag,
      [this, commit] {
        Exchange exchange;
        exchange.may_change_transaction = true;
        if (lost_transaction_) {
          // The server rolled it back already.
          std::string why = *std::exchange(lost_transaction_, std::nullopt);
          exchange.read = [commit, why = std::move(why)](std::span<const StreamResult>) -> Outcome {
            if (!commit) return {};
            return Error{ErrorKind::Operational, -1,
                         "the transaction on the remote database was lost (" + why + "); nothing was committed"};
          };
          return exchange;
        }
        // Hrana 2 cannot say whether a transaction is open; a stream it keeps may hold one.
        const bool open = stream_.speaks_v3() ? in_transaction_ : stream_.holds_baton();
        exchange.read = [](std::span<const StreamResult> results) -> Outcome {
          if (results.empty()) return {};
          return error_or(results[0], [&](const StreamResult& result) -> Outcome {
            const auto& batch = std::get<BatchResult>(result);
            if (!batch.step_errors.empty() && batch.step_errors[0]) return *batch.step_errors[0];
            return {};
          });
        };
        if (!open) return exchange;
        BatchRequest request;
        if (commit) {
          request.batch.push_back(BatchStep{nullptr, statement("COMMIT")});
          request.batch.push_back(BatchStep{BatchCondition::negation(BatchCondition::ok(0)), statement("ROLLBACK")});
        } else {
          request.batch.push_back(BatchStep{nullptr, statement("ROLLBACK")});
        }
        exchange.requests.emplace_back(std::move(request));
        return exchange;
      },
      false);
  // Dropped, it would leave the stream in a transaction for whoever runs on it next.
  operation->refuse_cancellation();
  return operation;
}

std::shared_ptr<Operation> RemoteConnection::commit(Sink sink, std::uintptr_t tag) {
  return submit(std::move(sink), tag, [this] { return run_steps(rules_.commit(in_transaction_), {}); });
}

std::shared_ptr<Operation> RemoteConnection::rollback(Sink sink, std::uintptr_t tag) {
  return submit(
      std::move(sink), tag,
      [this] {
        // The server already rolled a lost transaction back.
        const bool lost = lost_transaction_.has_value();
        lost_transaction_.reset();
        return run_steps(rules_.rollback(in_transaction_ && !lost), {});
      },
      false);
}

std::shared_ptr<Operation> RemoteConnection::set_transaction_control(TransactionControl control, Sink sink,
                                                                     std::uintptr_t tag) {
  return submit(std::move(sink), tag, [this, control] {
    const TransactionSteps steps = rules_.switch_to(control, in_transaction_);
    rules_.control = control;
    return run_steps(steps, {});
  });
}

std::shared_ptr<Operation> RemoteConnection::close(Sink sink, std::uintptr_t tag) {
  auto operation = std::make_shared<Operation>(nullptr, std::move(sink), tag);
  if (is_inherited()) {
    // The parent's stream stays the parent's: closing it here would end its transaction.
    Operation::complete(operation, inherited_error());
    return operation;
  }
  std::deque<Pending> failed;
  std::shared_ptr<RemoteCursor> streaming;
  bool idle = false;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      idle = true;
    } else {
      closed_ = true;
      failed = queue_.take_all();
      closing_ = operation;
      streaming = streaming_;
      idle = running_ == nullptr && streaming_ == nullptr;
      if (idle) closing_ = nullptr;
    }
  }
  OrderedQueue<Pending>::fail_all(std::move(failed), closed_error());
  // Its rows are no longer anyone's; the close goes out once its answer ended.
  if (streaming) streaming->close();
  if (idle) close_stream_then(operation);
  return operation;
}

void RemoteConnection::close_stream_then(std::shared_ptr<Operation> close_operation) {
  if (!stream_.holds_baton()) return Operation::complete(std::move(close_operation), {});
  // Closing the stream ends (rolls back) a transaction still open on it, as
  // closing a local connection does.
  stream_.send({hrana::CloseRequest{}},
               [close_operation](HranaStream::Reply) mutable { Operation::complete(std::move(close_operation), {}); });
}

bool RemoteConnection::is_inherited() const noexcept { return fork_generation() != generation_; }

bool RemoteConnection::cancel(std::uintptr_t tag) {
  if (is_inherited()) return false;
  std::shared_ptr<Operation> removed;
  bool abort = false;
  {
    std::lock_guard lock(mutex_);
    const auto removal = queue_.remove(tag, removed);
    if (removal == OrderedQueue<Pending>::Removal::Refused) return false;
    if (removal == OrderedQueue<Pending>::Removal::NotQueued) {
      if (!running_ || running_->tag() != tag || !running_->cancellable()) return false;
      cancelling_ = running_;
      abort = request_abortable_;
    }
  }
  if (removed) {
    Operation::complete(std::move(removed), cancelled_error());
  } else if (abort) {
    stream_.cancel();
  }
  return true;
}

bool RemoteConnection::in_transaction() const {
  std::lock_guard lock(mutex_);
  // Callers that roll back only when a transaction is open must not skip a
  // lost one, which still needs ending, nor one that a cancelled statement
  // still in flight may yet open.
  const bool cancelled_in_flight = running_ && cancelling_.lock() == running_;
  return in_transaction_ || lost_transaction_.has_value() || cancelled_in_flight;
}

std::size_t RemoteConnection::load() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + (running_ || streaming_ ? 1 : 0);
}

std::uint64_t RemoteConnection::completed() const {
  std::lock_guard lock(mutex_);
  return completed_;
}

bool RemoteConnection::is_closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

std::optional<std::string> RemoteConnection::lacks(Capability capability) const {
  const auto because = [](std::string_view why) { return "on a remote database: " + std::string(why); };
  switch (capability) {
    case Capability::Rekey:
      return because("the server holds the database and its encryption");
    case Capability::Backup:
      return because("Hrana has no page-level access to the database");
    case Capability::UserFunctions:
      return because("statements run on the server, which cannot call back into this process");
    case Capability::Interrupt:
      return because("Hrana cannot stop a statement the server is running; cancel the awaiting task instead");
    case Capability::TotalChanges:
      return because("each statement may run on a different server connection");
  }
  return because("not available");
}

}  // namespace aiolibsql::remote
