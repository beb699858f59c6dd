#include "remote_cursor.hpp"

#include <utility>

#include "decode.hpp"
#include "fork_generation.hpp"

namespace aiolibsql::remote {

namespace {

Error closed_error() { return Error{ErrorKind::Programming, -1, "Cannot operate on a closed database."}; }

}  // namespace

RemoteCursor::RemoteCursor(std::shared_ptr<Operation> statement, bool in_transaction, std::int64_t lastrowid,
                           Connection connection)
    : in_transaction_(in_transaction),
      lastrowid_(lastrowid),
      generation_(fork_generation()),
      connection_(std::move(connection)),
      statement_(std::move(statement)) {}

bool RemoteCursor::wants_more() {
  std::lock_guard lock(mutex_);
  if (draining_ || abandoned_ || !buffered_.reaches(kNextChunk)) return true;
  paused_ = true;
  return false;
}

void RemoteCursor::read(hrana::CursorDecoder& decoder) {
  std::vector<Delivery> deliveries;
  {
    std::lock_guard lock(mutex_);
    if (decoder.batch_error() && !error_) error_ = *decoder.batch_error();
    if (!decoder.steps().empty()) {
      const hrana::CursorStep& step = decoder.steps().back();
      if (!columns_) columns_ = step.columns;
      RowChunk rows = decoder.take_rows();
      if (!abandoned_ && !closed_) buffered_.append_rows(std::move(rows));
      if (step.error && !error_) error_ = *step.error;
      step_ended_ = step.ended;
    }
    deliveries = deliveries_locked();
  }
  deliver(std::move(deliveries));
}

void RemoteCursor::ended(std::optional<StreamFailure> failure) {
  std::vector<Delivery> deliveries;
  std::shared_ptr<Operation> unanswered;
  {
    std::lock_guard lock(mutex_);
    answer_ended_ = true;
    if (failure && statement_) {
      unanswered = std::move(statement_);
    } else {
      if (!step_ended_ && !error_) {
        error_ =
            failure ? failure->error : Error{ErrorKind::Operational, -1, "the remote database's cursor held no result"};
      }
      deliveries = deliveries_locked();
    }
  }
  deliver(std::move(deliveries));
  connection_.ended(failure ? &*failure : nullptr, std::move(unanswered));
}

std::vector<RemoteCursor::Delivery> RemoteCursor::deliveries_locked() {
  std::vector<Delivery> deliveries;
  const bool all_in = step_ended_ || answer_ended_ || error_ || closed_;
  if (statement_) {
    if (!all_in && !buffered_.reaches(kFirstChunk)) return deliveries;
    if (closed_ || error_) {
      // As locally, an error before the first chunk fails the statement.
      deliveries.push_back(
          Delivery{std::exchange(statement_, nullptr), closed_ ? closed_error() : *error_, true, nullptr});
      abandoned_ = true;
      buffered_ = RowChunk();
    } else {
      deliveries.push_back(Delivery{std::exchange(statement_, nullptr), take_chunk_locked(nullptr), true, nullptr});
    }
  }
  while (!fetches_.empty() && (all_in || buffered_.reaches(kNextChunk))) {
    Fetch fetch = std::move(fetches_.front());
    fetches_.pop_front();
    if (closed_) {
      deliveries.push_back(Delivery{std::move(fetch.operation), closed_error(), false, std::move(fetch.rows)});
    } else if (buffered_.row_count() == 0 && error_) {
      // The rows before the error were fetched: the result ends with it.
      deliveries.push_back(
          Delivery{std::move(fetch.operation), *std::exchange(error_, std::nullopt), false, std::move(fetch.rows)});
      step_ended_ = true;
    } else {
      auto chunk = take_chunk_locked(fetch.rows);
      deliveries.push_back(Delivery{std::move(fetch.operation), std::move(chunk), false, std::move(fetch.rows)});
    }
  }
  return deliveries;
}

QueryResult RemoteCursor::take_chunk_locked(std::shared_ptr<OpenCursor> rows) {
  QueryResult result;
  result.columns = columns_;
  result.rows = std::exchange(buffered_, RowChunk(buffered_.column_count()));
  result.rowcount = -1;
  result.lastrowid = lastrowid_;
  if (!step_ended_ || error_) {
    result.open_cursor = rows ? std::move(rows) : std::make_shared<RemoteRows>(shared_from_this());
  }
  return result;
}

void RemoteCursor::deliver(std::vector<Delivery> deliveries) {
  for (auto& delivery : deliveries) {
    if (delivery.answers_statement) connection_.answered(delivery.operation);
    Operation::complete(std::move(delivery.operation), std::move(delivery.outcome));
  }
}

void RemoteCursor::resume_if_paused(std::unique_lock<std::mutex>& lock) {
  if (!paused_ || (buffered_.reaches(kNextChunk) && !draining_ && !abandoned_)) return;
  paused_ = false;
  lock.unlock();
  connection_.resume();
}

void RemoteCursor::fetch(std::shared_ptr<OpenCursor> rows, Sink sink, std::uintptr_t tag) {
  auto operation = std::make_shared<Operation>(nullptr, std::move(sink), tag);
  if (fork_generation() != generation_) return Operation::complete(std::move(operation), inherited_error());
  std::vector<Delivery> deliveries;
  {
    std::unique_lock lock(mutex_);
    fetches_.push_back(Fetch{std::move(operation), std::move(rows)});
    deliveries = deliveries_locked();
    resume_if_paused(lock);
  }
  deliver(std::move(deliveries));
}

bool RemoteCursor::cancel(std::uintptr_t tag) {
  std::shared_ptr<Operation> cancelled;
  std::shared_ptr<OpenCursor> rows;
  {
    std::lock_guard lock(mutex_);
    for (auto it = fetches_.begin(); it != fetches_.end(); ++it) {
      if (it->operation->tag() == tag && it->operation->cancellable()) {
        cancelled = std::move(it->operation);
        rows = std::move(it->rows);
        fetches_.erase(it);
        break;
      }
    }
  }
  if (!cancelled) return false;
  Operation::complete(std::move(cancelled), cancelled_error());
  return true;
}

void RemoteCursor::drain() {
  std::unique_lock lock(mutex_);
  draining_ = true;
  resume_if_paused(lock);
}

void RemoteCursor::close() {
  std::vector<Delivery> deliveries;
  bool abort = false;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    buffered_ = RowChunk();
    deliveries = deliveries_locked();
    abort = !answer_ended_;
  }
  deliver(std::move(deliveries));
  if (abort) connection_.abort();
}

void RemoteCursor::abandon() {
  std::unique_lock lock(mutex_);
  abandoned_ = true;
  buffered_ = RowChunk();
  if (answer_ended_ || step_ended_) return;
  if (in_transaction_) {
    // Aborting would lose the transaction: the rest is read and dropped.
    resume_if_paused(lock);
    return;
  }
  lock.unlock();
  connection_.abort();
}

}  // namespace aiolibsql::remote
