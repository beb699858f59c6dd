// One libSQL connection and the statement-level work done on it. Not
// thread-safe: one thread drives it at a time (the executor sees to that),
// except where a method says otherwise.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "result.hpp"
#include "secret.hpp"
#include "statement.hpp"
#include "transaction_rules.hpp"
#include "value.hpp"

struct sqlite3;

namespace aiolibsql {

struct OpenOptions {
  std::string database;
  bool uri = false;
  double timeout_seconds = 5.0;
  // The BEGIN flavour of implicit transactions; nullopt means none (autocommit).
  std::optional<std::string> isolation_level = std::string("DEFERRED");
  TransactionControl transaction_control = TransactionControl::Legacy;
  std::size_t cached_statements = 128;
  // Refuses writes with PRAGMA query_only (pool readers).
  bool query_only = false;
  // Opens or creates an encrypted database with this key (empty: plain).
  Secret encryption_key;
  // The SQLite3 Multiple Ciphers scheme; libSQL's own default is aes256cbc.
  std::string cipher = "aes256cbc";
};

// A scalar SQL function implemented by the embedding application. `call` may
// throw; the message becomes the SQL error.
class ScalarFunction {
 public:
  virtual ~ScalarFunction() = default;
  virtual Value call(const std::vector<Value>& arguments) = 0;
};

// The engine's waiting schedule for a lock (as sqliteDefaultBusyCallback):
// how many milliseconds to wait before attempt `attempts` + 1, or 0 to give
// up once `timeout_ms` would be exceeded.
int busy_wait_ms(int attempts, int timeout_ms) noexcept;

// Configures SQLite3 Multiple Ciphers on a freshly opened handle the way
// libSQL does (the scheme as the connection's default, then sqlite3_key).
void set_encryption_key(sqlite3* db, const Secret& key, const std::string& cipher);

// How much a statement run on the caller's thread may do before it is
// handed to the worker instead.
struct InlineBudget {
  int vm_steps;
  std::chrono::microseconds time;
  // The largest string or blob it may build or read: one engine step makes a
  // whole value, and neither budget above can stop a step.
  int largest_value;
};

class Connection {
 public:
  Connection() = default;
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void open(const OpenOptions& options);
  // Rolls back an open transaction, finalizes every statement, closes the file.
  void close() noexcept;
  // Whether close() is sure to be short: no transaction to roll back and no
  // write-ahead log with frames, which the last connection to close would
  // checkpoint into the database file first.
  bool closes_quickly() const noexcept;
  // For a connection inherited through fork(): forgets the engine without
  // closing it. Closing would roll back, in the child, a transaction the
  // parent still has open, and could wait for locks held by a thread that
  // does not exist here, so its memory is leaked instead.
  void abandon() noexcept;
  bool is_open() const noexcept { return db_ != nullptr; }

  // Runs one statement and buffers its first rows. When rows remain, the
  // statement stays open, and so must its bound values: `params` is then
  // moved from and kept with it.
  QueryResult execute(std::string_view sql, Params& params, const FetchLimits& limits);
  // For callers that keep their parameters: works on a copy.
  QueryResult execute(std::string_view sql, const Params& params, const FetchLimits& limits) {
    Params copy = params;
    return execute(sql, copy, limits);
  }
  // Runs `sql` only if it is a plain read (Statement::is_plain_read) and
  // finishes its first chunk within `budget` without waiting for a lock;
  // otherwise resets it and returns nothing, so the caller can queue it.
  // Until execute() has run once, it declines when a journal or log was
  // beside the file at open (see repair_may_be_pending_).
  // Real errors (syntax, bad parameters) throw as from execute.
  std::optional<QueryResult> execute_read_within(std::string_view sql, Params& params, const FetchLimits& limits,
                                                 const InlineBudget& budget);
  // While `*cancel` is set, the running statement stops with SQLITE_INTERRUPT
  // (and only that statement: later ones are unaffected once it is cleared).
  void watch_cancellation(const std::atomic<bool>* cancel) noexcept { cancel_ = cancel; }
  // The busy handler stops waiting for a lock at `deadline`, even within its
  // timeout (a pool's write that queued before it ran).
  void set_lock_deadline(std::chrono::steady_clock::time_point deadline) noexcept { lock_deadline_ = deadline; }
  std::chrono::steady_clock::time_point lock_deadline() const noexcept { return lock_deadline_; }
  // The next rows of a result whose cursor_id was returned by execute or fetch.
  QueryResult fetch(std::uint64_t cursor_id, const FetchLimits& limits);
  void release(std::uint64_t cursor_id) noexcept;
  // Runs a DML statement once per parameter set; returns the rows changed.
  std::int64_t execute_many(std::string_view sql, const std::vector<Params>& batch);
  void execute_script(std::string_view script);

  void commit();
  void rollback();
  // Changes the encryption key; an empty key removes encryption.
  void rekey(const Secret& key);
  void set_transaction_control(TransactionControl control);

  // Copies this database into `target`, `pages_per_step` pages at a time
  // (-1: all at once), holding `target_engine` while each step runs.
  void backup_to(Connection& target, std::mutex& target_engine, const std::string& schema, int pages_per_step);
  void create_function(const std::string& name, int arg_count, bool deterministic,
                       std::shared_ptr<ScalarFunction> function);

  // Safe from any thread: make the running statement fail with SQLITE_INTERRUPT.
  void interrupt() noexcept;
  // Safe from any thread, for process exit: the running statement and every
  // later one stop with SQLITE_INTERRUPT, and no statement waits for a lock.
  void interrupt_permanently() noexcept;
  // Safe from any thread; reflect the state after the last finished call.
  bool in_transaction() const noexcept { return in_transaction_.load(std::memory_order_relaxed); }
  std::int64_t total_changes() const noexcept { return total_changes_.load(std::memory_order_relaxed); }
  // Results with rows left in the engine. While one is open, the connection
  // keeps reading the database as it was when that result started.
  std::size_t open_results() const noexcept { return open_results_.load(std::memory_order_relaxed); }

  sqlite3* handle() const noexcept { return db_; }

 private:
  // Throws ProgrammingError unless open.
  void require_open() const;
  void apply_key(const Secret& key, const std::string& cipher);
  void run(const char* sql);
  void run_steps(const TransactionSteps& steps);
  void begin_implicitly(const Statement& statement);
  // Steps into `result` until done or a limit is hit; true when done. Takes
  // the columns from the statement as its first step left them.
  bool step_rows(Statement& statement, QueryResult& result, const FetchLimits& limits);
  void publish_state() noexcept;
  // The result of a statement whose first rows are in `rows`.
  QueryResult finish_first_chunk(StatementLease lease, Params& params, QueryResult result, bool done);
  // Cancelled, or interrupted for good: stop running and stop waiting.
  bool stops_now() const noexcept;
  static int on_progress(void* self) noexcept;
  static int on_busy(void* self, int attempts) noexcept;
  // Whether an engine error while inline means "run it on the worker instead".
  bool inline_declined(int sqlite_code) const noexcept;
  friend class InlineRun;

  sqlite3* db_ = nullptr;
  std::mutex interrupt_mutex_;  // guards db_ against close() for interrupt()
  OpenOptions options_;
  TransactionRules transaction_rules_;
  int busy_timeout_ms_ = 0;
  std::chrono::steady_clock::time_point lock_deadline_ = std::chrono::steady_clock::time_point::max();
  std::unique_ptr<StatementCache> cache_;
  // A statement with rows left, and the values bound to it.
  struct OpenStatement {
    StatementLease lease;
    Params params;
  };
  std::unordered_map<std::uint64_t, OpenStatement> open_cursors_;
  const std::atomic<bool>* cancel_ = nullptr;
  std::atomic<bool> interrupted_permanently_{false};
  // Set while a statement runs on the caller's thread: it never waits for a
  // lock, and stops when its callbacks run out or its deadline passes.
  bool inline_ = false;
  int inline_callbacks_left_ = 0;
  std::chrono::steady_clock::time_point inline_deadline_;
  bool over_budget_ = false;
  // A journal or a log with content was beside the file at open. A writer
  // that crashed leaves one, and the first transaction repairs the database
  // from it (rolls the journal back, or rebuilds the log's index from every
  // frame) before anything else, for as long as it is big: no step budget
  // bounds that, so it must not happen in a read run on the caller's thread.
  bool repair_may_be_pending_ = false;
  std::uint64_t next_cursor_id_ = 0;
  std::atomic<bool> in_transaction_{false};
  std::atomic<std::int64_t> total_changes_{0};
  std::atomic<std::size_t> open_results_{0};
};

}  // namespace aiolibsql
