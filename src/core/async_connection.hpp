// A connection driven through its executor: every call queues an operation
// that runs on the connection's worker thread and completes into a sink.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "connection.hpp"
#include "connection_backend.hpp"
#include "executor.hpp"
#include "open_cursor.hpp"

namespace aiolibsql {

// What a statement may do inline before it goes to the worker instead: tens
// of engine steps' microseconds, a time bound for steps that read the disk,
// and values small enough to build at once, so an inline read never stalls
// the caller.
inline constexpr InlineBudget kInlineBudget{20000, std::chrono::microseconds(200), 256 << 10};

class AsyncConnection;

// The rest of a result still in the engine, fetched on its connection's worker.
class EngineCursor final : public OpenCursor {
 public:
  // `check` runs on the worker before each fetch and throws to refuse it
  // (a pool transaction's rows, once the transaction has ended).
  EngineCursor(std::weak_ptr<AsyncConnection> owner, std::uint64_t id, std::function<void()> check = nullptr)
      : owner_(std::move(owner)), id_(id), check_(std::move(check)) {}
  ~EngineCursor() override;
  EngineCursor(const EngineCursor&) = delete;
  EngineCursor& operator=(const EngineCursor&) = delete;
  std::uint64_t id() const noexcept { return id_; }
  void check_fetch() const {
    if (check_) check_();
  }
  std::shared_ptr<Cancellable> fetcher() const override;
  void fetch(std::shared_ptr<OpenCursor> self, std::shared_ptr<CompletionSink> sink, std::uintptr_t tag) override;

 private:
  std::weak_ptr<AsyncConnection> owner_;
  std::uint64_t id_;
  std::function<void()> check_;
};

// The local engine's backend. Always held by std::shared_ptr: results refer
// back to it weakly.
class AsyncConnection final : public std::enable_shared_from_this<AsyncConnection>, public ConnectionBackend {
 public:
  // `options` are what open() opens with; a pool opens its connections
  // through run() instead.
  explicit AsyncConnection(OpenOptions options = {});
  ~AsyncConnection() override;
  AsyncConnection(const AsyncConnection&) = delete;
  AsyncConnection& operator=(const AsyncConnection&) = delete;

  std::shared_ptr<Operation> open(Sink sink, std::uintptr_t tag) override;
  // Opens on the calling thread instead, when that can neither wait on a
  // lock nor take long: sqlite3_open_v2 reads only the file's header, but a
  // key's derivation is slow, so not with a key. True when opened; throws
  // DbError when opening failed.
  bool try_open_inline();
  // Closes on the calling thread instead, when the connection is idle and
  // closing is sure to be short (Connection::closes_quickly); the worker
  // then stops. True when closed.
  bool try_close_inline();
  std::shared_ptr<Operation> execute(std::string sql, Params params, Sink sink, std::uintptr_t tag) override;
  // Declines when the connection is busy, the statement writes or it runs
  // over the engine-step budget (kInlineBudget).
  std::optional<QueryResult> try_execute_inline(std::string_view sql, Params& params) override;
  // Idle, and no user function that would need the caller's interpreter lock.
  bool can_hand_off(std::string_view) const override { return !has_user_functions() && executor_.is_idle(); }
  // A statement issued from inside a user function on this connection's
  // worker, which already holds the engine: it runs at once on that thread,
  // to the last row (the worker is busy, so no later fetch could be served).
  // Throws DbError for its errors.
  QueryResult execute_nested(std::string_view sql, Params& params);
  std::shared_ptr<Operation> execute_many(std::string sql, std::vector<Params> batch, Sink sink,
                                          std::uintptr_t tag) override;
  std::shared_ptr<Operation> execute_script(std::string script, Sink sink, std::uintptr_t tag) override;
  std::shared_ptr<Operation> commit(Sink sink, std::uintptr_t tag) override;
  std::shared_ptr<Operation> rollback(Sink sink, std::uintptr_t tag) override;
  std::shared_ptr<Operation> rekey(Secret key, Sink sink, std::uintptr_t tag);
  std::shared_ptr<Operation> set_transaction_control(TransactionControl control, Sink sink,
                                                     std::uintptr_t tag) override;
  std::shared_ptr<Operation> backup_to(std::shared_ptr<AsyncConnection> target, std::string schema, int pages_per_step,
                                       Sink sink, std::uintptr_t tag);
  std::shared_ptr<Operation> create_function(std::string name, int arg_count, bool deterministic,
                                             std::shared_ptr<ScalarFunction> function, Sink sink, std::uintptr_t tag);
  std::shared_ptr<Operation> close(Sink sink, std::uintptr_t tag) override;

  // Any work on the connection, queued in order with the rest. Pools build
  // their operations from this.
  using ConnectionWork = std::function<Outcome(Connection&)>;
  std::shared_ptr<Operation> run(ConnectionWork work, Sink sink, std::uintptr_t tag, bool groupable = false);
  // The same work as an operation not yet submitted, for callers that queue
  // it themselves (a pool holding writes back during a transaction). Takes
  // any callable, so the work is stored once rather than wrapped twice.
  template <typename Work>
  std::shared_ptr<Operation> make_operation(Work work, Sink sink, std::uintptr_t tag) {
    return std::make_shared<Operation>(
        [this, work = std::move(work)]() mutable -> Outcome { return work(connection_); }, std::move(sink), tag);
  }
  // Ties a result that has more rows to this connection, so they can be
  // fetched later through its OpenCursor.
  QueryResult keep_open(QueryResult result, std::function<void()> check_fetch = nullptr) {
    if (result.cursor_id == 0) return result;
    return with_open_cursor(std::move(result),
                            std::make_shared<EngineCursor>(weak_from_this(), result.cursor_id, std::move(check_fetch)));
  }
  Executor& executor() noexcept { return executor_; }
  // Runs groups of groupable operations with `runner` (see Executor::GroupRunner).
  using ConnectionGroupRunner = std::function<void(Connection&, const std::vector<std::shared_ptr<Operation>>& group)>;
  void set_group_runner(ConnectionGroupRunner runner, std::size_t largest_group, std::chrono::microseconds gather);

  bool cancel(std::uintptr_t tag) override { return executor_.cancel(tag); }
  // Connection.interrupt(): the operation running on the worker, if any.
  // In a fork() child the worker does not exist, and neither may its locks.
  void interrupt() {
    if (!executor_.inherited()) executor_.interrupt_running();
  }
  void interrupt_permanently() noexcept {
    if (!executor_.inherited()) connection_.interrupt_permanently();
  }
  // See Executor::inherited.
  bool is_inherited() const noexcept override { return executor_.inherited(); }
  bool is_closed() const override { return executor_.is_closed(); }
  std::optional<std::string> lacks(Capability) const override { return std::nullopt; }
  // Once a user function is registered, statements may run Python on the
  // worker, which then needs the caller's interpreter lock.
  bool has_user_functions() const noexcept { return has_user_functions_.load(std::memory_order_relaxed); }
  // A statement cancelled or interrupted is still running until the
  // executor's cancel flag clears.
  bool in_transaction() const noexcept override {
    return executor_.cancellation().load(std::memory_order_acquire) || connection_.in_transaction();
  }
  std::int64_t total_changes() const noexcept { return connection_.total_changes(); }
  std::size_t open_results() const noexcept { return connection_.open_results(); }

 private:
  friend class EngineCursor;
  std::shared_ptr<Operation> submit(Operation::Work work, Sink sink, std::uintptr_t tag);
  // Forgets the rest of a result; nobody waits for this.
  void release(std::uint64_t cursor_id);
  // Ties the engine-side rest of `result` to an OpenCursor.
  // The next chunk of a result that had more rows.
  std::shared_ptr<Operation> fetch(std::shared_ptr<EngineCursor> cursor, Sink sink, std::uintptr_t tag);
  QueryResult with_open_cursor(QueryResult result, std::shared_ptr<EngineCursor> cursor);

  // User functions run Python: never on the caller's thread, where a slow one
  // would stall the event loop beyond any step budget.
  std::atomic<bool> has_user_functions_{false};
  // Taken by open().
  OpenOptions options_;
  // Declared before the executor so the worker thread is joined before the
  // connection it drives is destroyed.
  Connection connection_;
  Executor executor_;
};

}  // namespace aiolibsql
