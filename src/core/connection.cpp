#include "connection.hpp"

#include <sqlite3.h>
#include <sqlite3mc.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <new>
#include <thread>
#include <utility>

#include "error.hpp"

namespace aiolibsql {

namespace {

Value read_value(sqlite3_value* value) {
  switch (sqlite3_value_type(value)) {
    case SQLITE_INTEGER:
      return sqlite3_value_int64(value);
    case SQLITE_FLOAT:
      return sqlite3_value_double(value);
    case SQLITE_TEXT: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(value));
      return std::string(text, static_cast<std::size_t>(sqlite3_value_bytes(value)));
    }
    case SQLITE_BLOB: {
      const auto* blob = static_cast<const char*>(sqlite3_value_blob(value));
      const auto size = static_cast<std::size_t>(sqlite3_value_bytes(value));
      return Blob{size == 0 ? std::string() : std::string(blob, size)};
    }
    default:
      return Null{};
  }
}

void set_result(sqlite3_context* context, const Value& value) {
  struct Setter {
    sqlite3_context* context;
    void operator()(const Null&) const { sqlite3_result_null(context); }
    void operator()(std::int64_t integer) const { sqlite3_result_int64(context, integer); }
    void operator()(double real) const { sqlite3_result_double(context, real); }
    void operator()(const std::string& text) const {
      sqlite3_result_text64(context, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    }
    void operator()(const Blob& blob) const {
      sqlite3_result_blob64(context, blob.bytes.data(), blob.bytes.size(), SQLITE_TRANSIENT);
    }
  };
  std::visit(Setter{context}, value);
}

// The engine calls this through a C pointer: nothing may escape it.
void call_scalar_function(sqlite3_context* context, int argc, sqlite3_value** argv) noexcept {
  try {
    auto* function = static_cast<std::shared_ptr<ScalarFunction>*>(sqlite3_user_data(context));
    std::vector<Value> arguments;
    arguments.reserve(static_cast<std::size_t>(argc));
    for (int i = 0; i < argc; ++i) arguments.push_back(read_value(argv[i]));
    set_result(context, (*function)->call(arguments));
  } catch (const std::exception& error) {
    sqlite3_result_error(context, error.what(), -1);
  } catch (...) {
    sqlite3_result_error(context, "user-defined function raised exception", -1);
  }
}

void destroy_scalar_function(void* function) noexcept {
  std::unique_ptr<std::shared_ptr<ScalarFunction>>(static_cast<std::shared_ptr<ScalarFunction>*>(function));
}

}  // namespace

Connection::~Connection() { close(); }

void Connection::require_open() const {
  if (db_ == nullptr) throw DbError(ErrorKind::Programming, "Cannot operate on a closed database.");
}

namespace {

// Engine steps between progress callbacks: often enough to stop a statement
// within microseconds, rarely enough to cost nothing measurable.
constexpr int kProgressInterval = 1000;

}  // namespace

int Connection::on_progress(void* self) noexcept {
  auto* connection = static_cast<Connection*>(self);
  if (connection->stops_now()) return 1;
  if (connection->inline_ &&
      (--connection->inline_callbacks_left_ <= 0 || std::chrono::steady_clock::now() >= connection->inline_deadline_)) {
    connection->over_budget_ = true;
    return 1;
  }
  return 0;
}

int busy_wait_ms(int attempts, int timeout_ms) noexcept {
  static constexpr int kDelays[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
  static constexpr int kTotals[] = {0, 1, 3, 8, 18, 33, 53, 78, 103, 128, 178, 228};
  constexpr int kSteps = static_cast<int>(std::size(kDelays));
  // In 64 bits: the timeout may be as long as an int holds, and the time
  // already waited plus the next pause longer still.
  std::int64_t delay;
  std::int64_t waited;
  if (attempts < kSteps) {
    delay = kDelays[attempts];
    waited = kTotals[attempts];
  } else {
    delay = kDelays[kSteps - 1];
    waited = kTotals[kSteps - 1] + delay * (std::int64_t{attempts} - (kSteps - 1));
  }
  if (waited + delay > timeout_ms) delay = std::max<std::int64_t>(0, timeout_ms - waited);
  return static_cast<int>(delay);
}

// Inline statements never wait, and neither do cancelled or interrupted
// ones, nor one whose deadline for locks (a pool write's) has passed.
int Connection::on_busy(void* self, int attempts) noexcept {
  auto* connection = static_cast<Connection*>(self);
  if (connection->inline_ || connection->stops_now() || sqlite3_is_interrupted(connection->db_)) return 0;
  if (std::chrono::steady_clock::now() >= connection->lock_deadline_) return 0;
  const int delay = busy_wait_ms(attempts, connection->busy_timeout_ms_);
  if (delay == 0) return 0;
  sqlite3_sleep(delay);
  return 1;
}

namespace {

// Whether the database file of `db` has a rollback journal or a write-ahead
// log with content beside it.
bool journal_or_log_beside(sqlite3* db) {
  const char* file = sqlite3_db_filename(db, "main");
  if (file == nullptr || *file == '\0') return false;  // in memory, or temporary
  for (const char* beside : {sqlite3_filename_journal(file), sqlite3_filename_wal(file)}) {
    struct stat status {};
    if (beside != nullptr && ::stat(beside, &status) == 0 && status.st_size > 0) return true;
  }
  return false;
}

}  // namespace

void Connection::open(const OpenOptions& options) {
  if (db_ != nullptr) throw DbError(ErrorKind::Programming, "the connection is already open");
  if (options.database.find('\0') != std::string::npos) {
    throw DbError(ErrorKind::Programming, "the database path contains a null character");
  }
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  if (options.uri) flags |= SQLITE_OPEN_URI;
  // The engine reads every "file:" name as a URI (libSQL builds with
  // SQLITE_USE_URI); without uri=True such a name is a plain path.
  const std::string path =
      !options.uri && options.database.starts_with("file:") ? "./" + options.database : options.database;
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    auto error = engine_error(db, rc);
    sqlite3_close_v2(db);
    throw DbError(std::move(error));
  }
  sqlite3_extended_result_codes(db, 1);
  // Callers check the timeout; NaN must not reach the cast below all the same.
  const double timeout_ms =
      std::isnan(options.timeout_seconds)
          ? 0.0
          : std::clamp(options.timeout_seconds * 1000.0, 0.0, static_cast<double>(std::numeric_limits<int>::max()));
  busy_timeout_ms_ = static_cast<int>(timeout_ms);
  sqlite3_busy_handler(db, on_busy, this);
  sqlite3_progress_handler(db, kProgressInterval, on_progress, this);
  {
    std::lock_guard lock(interrupt_mutex_);
    db_ = db;
  }
  options_ = options;
  transaction_rules_ = TransactionRules{options.transaction_control, options.isolation_level};
  // The key is applied once; this connection keeps no copy of it.
  options_.encryption_key = Secret();
  cache_ = std::make_unique<StatementCache>(db_, options.cached_statements);
  try {
    if (!options.encryption_key.empty()) apply_key(options.encryption_key, options.cipher);
    if (options.query_only) run("PRAGMA query_only = 1");
    run_steps(transaction_rules_.on_open());
  } catch (...) {
    close();
    throw;
  }
  repair_may_be_pending_ = journal_or_log_beside(db_);
  publish_state();
}

void set_encryption_key(sqlite3* db, const Secret& key, const std::string& cipher) {
  const int scheme = sqlite3mc_cipher_index(cipher.c_str());
  if (scheme <= 0) throw DbError(ErrorKind::NotSupported, "unknown cipher '" + cipher + "'");
  // Either call answers -1 when the engine refuses the setting; keying on
  // regardless would encrypt with a cipher nobody asked for.
  if (sqlite3mc_config(db, "default:cipher", scheme) < 0) {
    throw DbError(ErrorKind::Operational, "could not select cipher '" + cipher + "'");
  }
  // SQLCipher files are version 4 unless the application configures otherwise.
  if (cipher == "sqlcipher" && sqlite3mc_config_cipher(db, "sqlcipher", "legacy", 4) < 0) {
    throw DbError(ErrorKind::Operational, "could not configure SQLCipher version 4");
  }
  const auto bytes = key.bytes();
  const int rc = sqlite3_key(db, bytes.data(), static_cast<int>(bytes.size()));
  if (rc != SQLITE_OK) throw DbError(engine_error(db, rc));
}

void Connection::apply_key(const Secret& key, const std::string& cipher) {
  set_encryption_key(db_, key, cipher);
  // Reading the schema proves the key: a wrong one fails here, before any
  // write could touch the file.
  try {
    run("SELECT count(*) FROM sqlite_schema");
  } catch (const DbError& error) {
    if ((error.error().sqlite_code & 0xff) != SQLITE_NOTADB) throw;
    throw DbError(Error{ErrorKind::Database, SQLITE_NOTADB,
                        "file is not a database, or not one encrypted with this key and cipher"});
  }
}

void Connection::rekey(const Secret& key) {
  require_open();
  // The cipher extension cannot change keys while the file is in WAL mode.
  Params none;
  auto mode = execute("PRAGMA journal_mode", none, kWholeResult);
  const std::string journal(mode.rows.row_count() == 1 ? mode.rows.bytes(mode.rows.cell(0, 0)) : "");
  const bool wal = journal == "wal";
  if (wal) run("PRAGMA journal_mode = DELETE");
  const auto bytes = key.bytes();
  const int rc = sqlite3_rekey(db_, bytes.empty() ? nullptr : bytes.data(), static_cast<int>(bytes.size()));
  Error failure;
  if (rc != SQLITE_OK) failure = engine_error(db_, rc);
  if (wal) run("PRAGMA journal_mode = WAL");
  if (rc != SQLITE_OK) throw DbError(std::move(failure));
}

void Connection::close() noexcept {
  if (db_ == nullptr) return;
  open_cursors_.clear();
  cache_.reset();
  sqlite3* db = nullptr;
  {
    std::lock_guard lock(interrupt_mutex_);
    db = std::exchange(db_, nullptr);
  }
  // An interrupt that came after the last statement ended stays pending
  // until a statement starts, and would stop the checkpoint of the last
  // close, leaving the log behind. Starting one clears it.
  if (sqlite3_is_interrupted(db)) sqlite3_exec(db, "SELECT 1", nullptr, nullptr, nullptr);
  // Uncommitted work is rolled back by the engine, as sqlite3 does on close.
  sqlite3_close_v2(db);
  in_transaction_ = false;
  open_results_ = 0;
}

bool Connection::closes_quickly() const noexcept {
  if (db_ == nullptr) return true;
  if (!sqlite3_get_autocommit(db_)) return false;
  // An attached database has a log of its own.
  if (sqlite3_db_name(db_, 2) != nullptr) return false;
  sqlite3_file* log = nullptr;
  if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_JOURNAL_POINTER, &log) != SQLITE_OK) return false;
  if (log == nullptr || log->pMethods == nullptr) return true;  // no log open: nothing to checkpoint
  sqlite3_int64 size = 0;
  return log->pMethods->xFileSize(log, &size) == SQLITE_OK && size == 0;
}

void Connection::abandon() noexcept {
  struct Abandoned {
    std::unique_ptr<StatementCache> cache;
    std::unordered_map<std::uint64_t, OpenStatement> open_cursors;
  };
  try {
    auto abandoned = std::make_unique<Abandoned>();
    abandoned->cache = std::move(cache_);
    abandoned->open_cursors.swap(open_cursors_);
    [[maybe_unused]] auto* leaked = abandoned.release();
  } catch (const std::bad_alloc&) {
    // Without memory for the holder, the open results are finalized after
    // all; the cache and the engine handle still go untouched.
    [[maybe_unused]] auto* leaked = cache_.release();
  }
  db_ = nullptr;
}

void Connection::interrupt() noexcept {
  std::lock_guard lock(interrupt_mutex_);
  if (db_ != nullptr) sqlite3_interrupt(db_);
}

void Connection::interrupt_permanently() noexcept {
  // Before the interrupt: a statement starting in between clears the
  // engine's flag, but sees this one.
  interrupted_permanently_.store(true, std::memory_order_relaxed);
  interrupt();
}

bool Connection::stops_now() const noexcept {
  return interrupted_permanently_.load(std::memory_order_relaxed) ||
         (cancel_ != nullptr && cancel_->load(std::memory_order_relaxed));
}

void Connection::publish_state() noexcept {
  in_transaction_.store(sqlite3_get_autocommit(db_) == 0, std::memory_order_relaxed);
  total_changes_.store(sqlite3_total_changes64(db_), std::memory_order_relaxed);
  open_results_.store(open_cursors_.size(), std::memory_order_relaxed);
}

void Connection::run(const char* sql) {
  auto lease = cache_->lease(sql);
  if (lease->is_empty()) return;
  int rc;
  while ((rc = sqlite3_step(lease->handle())) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE) throw DbError(engine_error(db_, rc));
}

void Connection::run_steps(const TransactionSteps& steps) {
  for (const auto& step : steps) run(step.c_str());
}

void Connection::begin_implicitly(const Statement& statement) {
  if (const auto begin = transaction_rules_.begin_before(statement.is_dml(), sqlite3_get_autocommit(db_) == 0)) {
    run(begin->c_str());
  }
}

bool Connection::step_rows(Statement& statement, QueryResult& result, const FetchLimits& limits) {
  sqlite3_stmt* handle = statement.handle();
  int rc = sqlite3_step(handle);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) throw DbError(engine_error(db_, rc));
  statement.refresh_columns();
  result.columns = statement.columns();
  RowChunk& rows = result.rows = RowChunk(result.columns ? result.columns->names.size() : 0);
  std::size_t count = 0;
  for (; rc == SQLITE_ROW; rc = sqlite3_step(handle)) {
    rows.append_current_row(handle);
    if (++count >= limits.max_rows || rows.byte_size() >= limits.max_bytes) return false;
  }
  if (rc != SQLITE_DONE) throw DbError(engine_error(db_, rc));
  return true;
}

QueryResult Connection::finish_first_chunk(StatementLease lease, Params& params, QueryResult result, bool done) {
  if (done) {
    if (lease->is_dml()) result.rowcount = sqlite3_changes64(db_);
  } else {
    result.cursor_id = ++next_cursor_id_;
    open_cursors_.emplace(result.cursor_id, OpenStatement{std::move(lease), std::move(params)});
  }
  result.lastrowid = sqlite3_last_insert_rowid(db_);
  publish_state();
  return result;
}

QueryResult Connection::execute(std::string_view sql, Params& params, const FetchLimits& limits) {
  require_open();
  repair_may_be_pending_ = false;
  auto lease = cache_->lease(sql);
  Statement& statement = *lease;
  QueryResult result;
  statement.bind(params);
  if (statement.is_empty()) return result;
  bool done = false;
  try {
    begin_implicitly(statement);
    done = step_rows(statement, result, limits);
  } catch (...) {
    publish_state();
    throw;
  }
  return finish_first_chunk(std::move(lease), params, std::move(result), done);
}

// The inline state of a connection for one statement, undone however it ends.
class InlineRun {
 public:
  InlineRun(Connection& connection, const InlineBudget& budget) noexcept
      : connection_(connection),
        largest_value_(sqlite3_limit(connection.db_, SQLITE_LIMIT_LENGTH, budget.largest_value)) {
    connection.inline_ = true;
    connection.inline_callbacks_left_ = std::max(1, budget.vm_steps / kProgressInterval);
    connection.inline_deadline_ = std::chrono::steady_clock::now() + budget.time;
    connection.over_budget_ = false;
  }
  ~InlineRun() {
    connection_.inline_ = false;
    sqlite3_limit(connection_.db_, SQLITE_LIMIT_LENGTH, largest_value_);
  }
  InlineRun(const InlineRun&) = delete;
  InlineRun& operator=(const InlineRun&) = delete;

 private:
  Connection& connection_;
  int largest_value_;
};

bool Connection::inline_declined(int sqlite_code) const noexcept {
  const int primary = sqlite_code & 0xff;
  return over_budget_ || primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_TOOBIG;
}

std::optional<QueryResult> Connection::execute_read_within(std::string_view sql, Params& params,
                                                           const FetchLimits& limits, const InlineBudget& budget) {
  require_open();
  if (repair_may_be_pending_) return std::nullopt;
  // Preparing may read the schema, which may wait for a lock: inline from here.
  InlineRun inline_run(*this, budget);
  try {
    auto lease = cache_->lease(sql);
    Statement& statement = *lease;
    if (!statement.is_plain_read() || statement.is_empty()) return std::nullopt;
    statement.bind(params);
    QueryResult result;
    const bool done = step_rows(statement, result, limits);
    return finish_first_chunk(std::move(lease), params, std::move(result), done);
  } catch (const DbError& error) {
    if (inline_declined(error.error().sqlite_code)) return std::nullopt;
    publish_state();
    throw;
  }
}

QueryResult Connection::fetch(std::uint64_t cursor_id, const FetchLimits& limits) {
  require_open();
  auto found = open_cursors_.find(cursor_id);
  QueryResult result;
  if (found == open_cursors_.end()) return result;
  Statement& statement = *found->second.lease;
  bool done = true;
  try {
    done = step_rows(statement, result, limits);
  } catch (...) {
    open_cursors_.erase(found);
    publish_state();
    throw;
  }
  if (done) {
    if (statement.is_dml()) result.rowcount = sqlite3_changes64(db_);
    open_cursors_.erase(found);
  } else {
    result.cursor_id = cursor_id;
  }
  result.lastrowid = sqlite3_last_insert_rowid(db_);
  publish_state();
  return result;
}

void Connection::release(std::uint64_t cursor_id) noexcept {
  open_cursors_.erase(cursor_id);
  if (db_ != nullptr) publish_state();
}

std::int64_t Connection::execute_many(std::string_view sql, const std::vector<Params>& batch) {
  require_open();
  auto lease = cache_->lease(sql);
  Statement& statement = *lease;
  if (statement.columns()) {
    throw DbError(ErrorKind::Programming, "executemany() can only execute DML statements.");
  }
  std::int64_t changes = 0;
  try {
    for (const auto& params : batch) {
      statement.bind(params);
      if (statement.is_empty()) continue;
      begin_implicitly(statement);
      const int rc = sqlite3_step(statement.handle());
      if (rc != SQLITE_DONE) throw DbError(engine_error(db_, rc));
      if (statement.is_dml()) changes += sqlite3_changes64(db_);
      statement.reset();
    }
  } catch (...) {
    publish_state();
    throw;
  }
  publish_state();
  return changes;
}

void Connection::execute_script(std::string_view script) {
  require_open();
  if (script.find('\0') != std::string_view::npos) {
    throw DbError(ErrorKind::Programming, "the script contains a null character");
  }
  if (script.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw DbError(Error{ErrorKind::Data, SQLITE_TOOBIG, "script is too large"});
  }
  try {
    run_steps(transaction_rules_.before_script(sqlite3_get_autocommit(db_) == 0));
    const char* rest = script.data();
    const char* end = script.data() + script.size();
    while (rest < end) {
      sqlite3_stmt* raw = nullptr;
      const char* tail = nullptr;
      int rc = sqlite3_prepare_v2(db_, rest, static_cast<int>(end - rest), &raw, &tail);
      std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> statement(raw, sqlite3_finalize);
      if (rc != SQLITE_OK) throw DbError(engine_error(db_, rc));
      rest = tail;
      if (!statement) continue;
      while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) {
      }
      if (rc != SQLITE_DONE) throw DbError(engine_error(db_, rc));
    }
  } catch (...) {
    publish_state();
    throw;
  }
  publish_state();
}

void Connection::commit() {
  require_open();
  run_steps(transaction_rules_.commit(sqlite3_get_autocommit(db_) == 0));
  publish_state();
}

void Connection::rollback() {
  require_open();
  run_steps(transaction_rules_.rollback(sqlite3_get_autocommit(db_) == 0));
  publish_state();
}

void Connection::set_transaction_control(TransactionControl control) {
  require_open();
  // The mode changes even if the COMMIT or BEGIN below fails, as in sqlite3.
  const TransactionSteps steps = transaction_rules_.switch_to(control, sqlite3_get_autocommit(db_) == 0);
  transaction_rules_.control = control;
  try {
    run_steps(steps);
  } catch (...) {
    publish_state();
    throw;
  }
  publish_state();
}

void Connection::backup_to(Connection& target, std::mutex& target_engine, const std::string& schema,
                           int pages_per_step) {
  require_open();
  if (&target == this) throw DbError(ErrorKind::Programming, "target cannot be the same connection instance");
  if (!target.is_open()) throw DbError(ErrorKind::Programming, "Cannot operate on a closed database.");
  if (sqlite3_txn_state(db_, schema.c_str()) == SQLITE_TXN_WRITE) {
    // The engine would report SQLITE_BUSY forever: our own write blocks the copy.
    throw DbError(Error{ErrorKind::Operational, SQLITE_BUSY,
                        "cannot back up while this connection has an uncommitted write; commit first"});
  }
  const int pages = pages_per_step == 0 ? -1 : pages_per_step;
  std::unique_lock target_lock(target_engine, std::defer_lock);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms_);
  auto cancelled = [this] { return cancel_ != nullptr && cancel_->load(std::memory_order_relaxed); };
  // Waits for the target's own worker without ever holding both engines
  // while blocked, so two crossing backups cannot deadlock.
  // The target may have been closed by its own worker, or inline by its
  // caller, while we waited: only its engine's lock makes the check hold.
  auto wait_for_target = [&] {
    while (!target_lock.try_lock()) {
      if (cancelled()) throw DbError(Error{ErrorKind::Operational, SQLITE_INTERRUPT, "interrupted"});
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return target.is_open();
  };
  const Error target_closed{ErrorKind::Programming, -1, "the backup's target connection was closed"};
  if (!wait_for_target()) throw DbError(target_closed);
  sqlite3_backup* backup = sqlite3_backup_init(target.db_, "main", db_, schema.c_str());
  if (backup == nullptr) throw DbError(engine_error(target.db_, sqlite3_errcode(target.db_)));
  int rc = SQLITE_OK;
  try {
    while (true) {
      rc = sqlite3_backup_step(backup, pages);
      if (rc == SQLITE_DONE || (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)) break;
      if (rc == SQLITE_OK) continue;
      if (cancelled()) {
        rc = SQLITE_INTERRUPT;
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) break;
      target_lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (!wait_for_target()) {
        // A closed target stays a zombie until its backup is finished.
        sqlite3_backup_finish(backup);
        throw DbError(target_closed);
      }
    }
  } catch (...) {
    sqlite3_backup_finish(backup);
    throw;
  }
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    if (rc == SQLITE_INTERRUPT) throw DbError(Error{ErrorKind::Operational, SQLITE_INTERRUPT, "interrupted"});
    throw DbError(Error{error_kind_for(rc), rc, sqlite3_errstr(rc)});
  }
  target.publish_state();
}

void Connection::create_function(const std::string& name, int arg_count, bool deterministic,
                                 std::shared_ptr<ScalarFunction> function) {
  require_open();
  auto holder = std::make_unique<std::shared_ptr<ScalarFunction>>(std::move(function));
  int flags = SQLITE_UTF8;
  if (deterministic) flags |= SQLITE_DETERMINISTIC;
  // On failure sqlite3_create_function_v2 calls the destructor itself.
  const int rc = sqlite3_create_function_v2(db_, name.c_str(), arg_count, flags, holder.release(), call_scalar_function,
                                            nullptr, nullptr, destroy_scalar_function);
  if (rc != SQLITE_OK) throw DbError(engine_error(db_, rc));
}

}  // namespace aiolibsql
