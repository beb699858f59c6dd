// A connection to a remote database over Hrana: the same operations as a
// local connection, completing into the same sinks. Operations run in
// submission order, one request at a time on one stream; a statement
// outside a transaction opens no server state (it travels with a close),
// while a transaction keeps its stream's baton until it ends. A read goes
// through a cursor instead (Hrana 3), its rows read as the reader fetches
// them, and its stream is closed by the next statement.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "connection_backend.hpp"
#include "hrana_stream.hpp"
#include "ordered_queue.hpp"
#include "remote_cursor.hpp"
#include "transaction_rules.hpp"

namespace aiolibsql::remote {

struct RemoteOptions {
  RemoteEndpoint endpoint;
  TransactionRules transactions;
  HttpOptions http;
};

class RemoteConnection final : public std::enable_shared_from_this<RemoteConnection>, public ConnectionBackend {
 public:
  explicit RemoteConnection(RemoteOptions options);
  RemoteConnection(const RemoteConnection&) = delete;
  RemoteConnection& operator=(const RemoteConnection&) = delete;

  std::shared_ptr<Operation> open(Sink sink, std::uintptr_t tag) override;
  std::shared_ptr<Operation> execute(std::string sql, Params params, Sink sink, std::uintptr_t tag) override;
  // One round trip for the whole batch, stopping at the first failure.
  std::shared_ptr<Operation> execute_many(std::string sql, std::vector<Params> batch, Sink sink,
                                          std::uintptr_t tag) override;
  std::shared_ptr<Operation> execute_script(std::string script, Sink sink, std::uintptr_t tag) override;
  // Statements that all take effect or none does, in one round trip: a
  // transaction of their own, committed, or rolled back at the first failure.
  // Completes with the rows they changed. Needs autocommit (no open transaction).
  // `only_dml`: one statement's parameter sets, as executemany() runs them.
  std::shared_ptr<Operation> execute_atomically(std::vector<std::pair<std::string, Params>> statements, Sink sink,
                                                std::uintptr_t tag, bool only_dml = false);
  // Runs `steps` (a BEGIN and what starts it) whatever the transaction control.
  std::shared_ptr<Operation> begin(TransactionSteps steps, Sink sink, std::uintptr_t tag);
  // Ends the open transaction whatever the transaction control: a COMMIT
  // that fails is rolled back, so the stream never stays in a transaction,
  // and a lost transaction is forgotten (reported as the failure of a commit).
  std::shared_ptr<Operation> end_transaction(bool commit, Sink sink, std::uintptr_t tag);
  std::shared_ptr<Operation> commit(Sink sink, std::uintptr_t tag) override;
  std::shared_ptr<Operation> rollback(Sink sink, std::uintptr_t tag) override;
  std::shared_ptr<Operation> set_transaction_control(TransactionControl control, Sink sink,
                                                     std::uintptr_t tag) override;
  // Waits for the request in flight, then closes the stream.
  std::shared_ptr<Operation> close(Sink sink, std::uintptr_t tag) override;

  // Every statement is the server's to run: none is answered on the caller's
  // thread, and none soon enough to be worth waiting for there.
  std::optional<QueryResult> try_execute_inline(std::string_view, Params&) override { return std::nullopt; }
  bool can_hand_off(std::string_view) const override { return false; }
  std::optional<std::string> lacks(Capability capability) const override;

  // Drops a queued operation; aborts the request of a running one, unless
  // the stream may hold a transaction after it (see request_abortable_).
  bool cancel(std::uintptr_t tag) override;
  bool in_transaction() const override;
  // Operations queued or in flight.
  std::size_t load() const;
  std::uint64_t completed() const;
  // Created before a fork() in a parent of this process: every operation
  // fails with InterfaceError, and nothing is sent on the parent's streams.
  bool is_inherited() const noexcept override;
  bool is_closed() const override;

 private:
  // What one operation sends, and how it reads its answers (the results of
  // its own requests only).
  struct Exchange {
    std::vector<hrana::StreamRequest> requests;
    std::function<Outcome(std::span<const hrana::StreamResult>)> read;
    // The statements sent may begin or end a transaction.
    bool may_change_transaction = false;
    // Every transaction the request begins, it also ends (an atomic batch).
    bool ends_what_it_begins = false;
    // A read outside any transaction: sending it again cannot write twice.
    bool idempotent_read = false;
    // A statement whose rows are read through a cursor (then `requests` is empty).
    std::optional<hrana::Statement> streamed;
  };
  // Builds the exchange once the operation's turn comes, from the state then.
  using Plan = std::function<Exchange()>;
  struct Pending {
    std::shared_ptr<Operation> operation;
    Plan plan;
    // Refuses to run while a lost transaction has not been rolled back.
    bool needs_live_transaction = true;
  };

  std::shared_ptr<Operation> submit(Sink sink, std::uintptr_t tag, Plan plan, bool needs_live_transaction = true);
  // Sends queued operations until one is in flight or none is left.
  void start_next();
  // The next operation to send and what it sends, once no other is in flight.
  std::optional<std::pair<std::shared_ptr<Operation>, Exchange>> take_next();
  void send(std::shared_ptr<Operation> operation, Exchange exchange, bool retried);
  void send_streamed(std::shared_ptr<Operation> operation, hrana::Statement statement, bool idempotent_read,
                     bool retried);
  // The cursor's answer ended (see RemoteCursor::Connection::ended).
  void cursor_ended(const StreamFailure* failure, std::shared_ptr<Operation> unanswered,
                    const hrana::Statement& statement, bool may_retry);
  // Outside a transaction, leaves a stream that may have expired to expire.
  void forget_idle_stream();
  void finish(std::shared_ptr<Operation> operation, Outcome outcome);
  void close_stream_then(std::shared_ptr<Operation> close_operation);
  Exchange run_steps(const TransactionSteps& steps, Outcome done);

  const std::uint64_t generation_;
  HranaStream stream_;
  mutable std::mutex mutex_;
  TransactionRules rules_;
  OrderedQueue<Pending> queue_;
  std::shared_ptr<Operation> running_;
  // The running operation cancel() is stopping; until it ends, whether it
  // left a transaction open is not known.
  std::weak_ptr<Operation> cancelling_;
  // Whether cancelling the request in flight may abort it. Not when the
  // stream may hold a transaction after it: an aborted request orphans the
  // stream, and the server keeps its locks until it expires the stream
  // (10 s on sqld), blocking every writer. Such a request is left to finish;
  // its caller stops waiting at once, and the transaction stays whole.
  bool request_abortable_ = true;
  // The cursor whose answer holds the stream, until it ends.
  std::shared_ptr<RemoteCursor> streaming_;
  std::shared_ptr<Operation> closing_;
  bool in_transaction_ = false;
  bool closed_ = false;
  // See start_next().
  bool starting_ = false;
  bool start_again_ = false;
  // Why the open transaction ended without a ROLLBACK from the caller.
  std::optional<std::string> lost_transaction_;
  std::int64_t last_insert_rowid_ = 0;
  std::uint64_t completed_ = 0;
};

}  // namespace aiolibsql::remote
