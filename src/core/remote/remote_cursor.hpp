// The rows of one statement read through a Hrana cursor (POST v3/cursor) as
// they arrive. The first chunk answers the statement; the rest wait for the
// reader's fetches. While a chunk's worth waits unread the answer is paused,
// so a result of any size holds a bounded amount of memory, as a local one
// does. Until the answer ends, the stream is the cursor's: an operation
// queued behind it makes it read the rest at once.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "cancellable.hpp"
#include "executor.hpp"
#include "hrana_stream.hpp"
#include "open_cursor.hpp"

namespace aiolibsql::remote {

class RemoteCursor final : public CursorReader, public Cancellable, public std::enable_shared_from_this<RemoteCursor> {
 public:
  using Sink = std::shared_ptr<CompletionSink>;

  // What the cursor asks of its connection; called without its lock held.
  struct Connection {
    // Lets the paused answer go on.
    std::function<void()> resume;
    // Aborts the answer (its stream is lost).
    std::function<void()> abort;
    // The statement is about to get its answer (its first chunk or its error).
    std::function<void(const std::shared_ptr<Operation>& statement)> answered;
    // The answer ended, whole (null) or not. A statement that had no answer
    // yet comes back with it: the connection answers it, or sends it again.
    std::function<void(const StreamFailure* failure, std::shared_ptr<Operation> unanswered)> ended;
  };

  // `in_transaction`: rows left unread are then read to the end rather than
  // aborted, which would lose the transaction. `lastrowid`: the connection's,
  // which a read leaves as it was.
  RemoteCursor(std::shared_ptr<Operation> statement, bool in_transaction, std::int64_t lastrowid,
               Connection connection);

  bool wants_more() override;
  void read(hrana::CursorDecoder& decoder) override;
  void ended(std::optional<StreamFailure> failure) override;

  // Another operation waits for the stream: read the rest now, unpaused.
  void drain();
  // The connection closes: fetches fail, and the answer is aborted.
  void close();
  // The next chunk for `rows`, the handle the first chunk carried.
  void fetch(std::shared_ptr<OpenCursor> rows, Sink sink, std::uintptr_t tag);
  // A waiting fetch; the rows it would have had stay for the next one.
  bool cancel(std::uintptr_t tag) override;
  // The last handle let go: nobody reads the rest.
  void abandon();

 private:
  struct Delivery {
    std::shared_ptr<Operation> operation;
    Outcome outcome;
    bool answers_statement = false;
    // The fetch's handle, let go after the lock is: the last one abandons.
    std::shared_ptr<OpenCursor> keep;
  };
  struct Fetch {
    std::shared_ptr<Operation> operation;
    std::shared_ptr<OpenCursor> rows;
  };

  // Answers the statement or the waiting fetches that can be answered now.
  std::vector<Delivery> deliveries_locked();
  // The next chunk, carrying `rows` while rows remain after it.
  QueryResult take_chunk_locked(std::shared_ptr<OpenCursor> rows);
  void deliver(std::vector<Delivery> deliveries);
  // Resumes the answer if it was paused and may go on.
  void resume_if_paused(std::unique_lock<std::mutex>& lock);

  const bool in_transaction_;
  const std::int64_t lastrowid_;
  const std::uint64_t generation_;
  Connection connection_;
  std::mutex mutex_;
  std::shared_ptr<Operation> statement_;  // until it is answered
  std::deque<Fetch> fetches_;
  std::shared_ptr<const Columns> columns_;
  RowChunk buffered_;
  // What ends the result once the rows before it are fetched.
  std::optional<Error> error_;
  bool step_ended_ = false;
  bool answer_ended_ = false;
  bool paused_ = false;
  bool draining_ = false;
  bool abandoned_ = false;
  bool closed_ = false;
};

// The handle a remote result's chunks carry: the last one let go abandons
// the rest of the answer.
class RemoteRows final : public OpenCursor {
 public:
  explicit RemoteRows(std::shared_ptr<RemoteCursor> cursor) : cursor_(std::move(cursor)) {}
  ~RemoteRows() override { cursor_->abandon(); }
  RemoteRows(const RemoteRows&) = delete;
  RemoteRows& operator=(const RemoteRows&) = delete;

  std::shared_ptr<Cancellable> fetcher() const override { return cursor_; }
  void fetch(std::shared_ptr<OpenCursor> self, std::shared_ptr<CompletionSink> sink, std::uintptr_t tag) override {
    cursor_->fetch(std::move(self), std::move(sink), tag);
  }

 private:
  std::shared_ptr<RemoteCursor> cursor_;
};

}  // namespace aiolibsql::remote
