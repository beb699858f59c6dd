#include "statement.hpp"

#include <sqlite3.h>

#include <string>
#include <utility>

#include "error.hpp"
#include "sql_text.hpp"

namespace aiolibsql {

namespace {

std::shared_ptr<const Columns> describe_columns(sqlite3_stmt* statement) {
  const int count = sqlite3_column_count(statement);
  if (count == 0) return nullptr;
  auto columns = std::make_shared<Columns>();
  columns->names.reserve(static_cast<std::size_t>(count));
  columns->decltypes.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const char* name = sqlite3_column_name(statement, i);
    const char* decltype_ = sqlite3_column_decltype(statement, i);
    if (name == nullptr) throw DbError(ErrorKind::Memory, "out of memory while describing columns");
    columns->names.emplace_back(name);
    columns->decltypes.emplace_back(decltype_ != nullptr ? decltype_ : "");
  }
  return columns;
}

int bind_value(sqlite3_stmt* statement, int index, const Value& value) {
  struct Binder {
    sqlite3_stmt* statement;
    int index;
    int operator()(const Null&) const { return sqlite3_bind_null(statement, index); }
    int operator()(std::int64_t integer) const { return sqlite3_bind_int64(statement, index, integer); }
    int operator()(double real) const { return sqlite3_bind_double(statement, index, real); }
    int operator()(const std::string& text) const {
      return sqlite3_bind_text64(statement, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
    }
    int operator()(const Blob& blob) const {
      return sqlite3_bind_blob64(statement, index, blob.bytes.data(), blob.bytes.size(), SQLITE_STATIC);
    }
  };
  return std::visit(Binder{statement, index}, value);
}

}  // namespace

namespace {

// Whether the program of `statement` counts a whole table in one engine step
// (OP_Count: a `count(*)` of a table, written out or behind a view): the
// progress handler is not called inside it, so no step budget can stop it.
// The program is listed once, by the statement in EXPLAIN mode, which needs
// no second prepare; one that cannot be listed is taken to count.
bool counts_in_one_step(sqlite3* db, sqlite3_stmt* statement) {
  if (sqlite3_stmt_explain(statement, 1) != SQLITE_OK) return true;
  bool counts = false;
  int rc = SQLITE_ROW;
  while (!counts && (rc = sqlite3_step(statement)) == SQLITE_ROW) {
    const auto* opcode = reinterpret_cast<const char*>(sqlite3_column_text(statement, 1));
    counts = opcode != nullptr && std::string_view(opcode) == "Count";
  }
  const bool listed = counts || rc == SQLITE_DONE;
  sqlite3_reset(statement);
  if (sqlite3_stmt_explain(statement, 0) != SQLITE_OK) throw DbError(engine_error(db, sqlite3_errcode(db)));
  return counts || !listed;
}

}  // namespace

Statement::Statement(sqlite3* db, std::string_view sql) {
  if (sql.find('\0') != std::string_view::npos) {
    throw DbError(ErrorKind::Programming, "the query contains a null character");
  }
  if (sql.size() > static_cast<std::size_t>(INT32_MAX)) {
    throw DbError(Error{ErrorKind::Data, SQLITE_TOOBIG, "query string is too large"});
  }
  const char* tail = nullptr;
  const int rc =
      sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &handle_, &tail);
  if (rc != SQLITE_OK) {
    auto error = engine_error(db, rc);
    sqlite3_finalize(handle_);
    handle_ = nullptr;
    throw DbError(std::move(error));
  }
  const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
  if (!skip_blank(rest).empty()) {
    sqlite3_finalize(handle_);
    handle_ = nullptr;
    throw DbError(ErrorKind::Programming, "You can only execute one statement at a time.");
  }
  if (handle_ == nullptr) return;
  readonly_ = sqlite3_stmt_readonly(handle_) != 0;
  const auto text = skip_blank(sql);
  const StatementKind kind = statement_kind(text);
  dml_ = kind.dml || (kind.common_table_expression && !readonly_);
  transaction_control_ = kind.transaction_control;
  try {
    plain_read_ = readonly_ && !transaction_control_ && !starts_with_keyword(text, "ATTACH") &&
                  !starts_with_keyword(text, "DETACH") && !starts_with_keyword(text, "PRAGMA") &&
                  !counts_in_one_step(db, handle_);
    columns_ = describe_columns(handle_);
  } catch (...) {
    sqlite3_finalize(handle_);
    throw;
  }
}

Statement::~Statement() { sqlite3_finalize(handle_); }

void Statement::refresh_columns() {
  const int generation = sqlite3_stmt_status(handle_, SQLITE_STMTSTATUS_REPREPARE, 0);
  if (generation == columns_generation_) return;
  columns_ = describe_columns(handle_);
  columns_generation_ = generation;
}

void Statement::bind(const Params& params) {
  const int expected = handle_ == nullptr ? 0 : sqlite3_bind_parameter_count(handle_);
  if (!params.is_named) {
    const auto supplied = params.positional.size();
    if (supplied != static_cast<std::size_t>(expected)) {
      throw DbError(ErrorKind::Programming, "Incorrect number of bindings supplied. The current statement uses " +
                                                std::to_string(expected) + ", and there are " +
                                                std::to_string(supplied) + " supplied.");
    }
    for (int i = 0; i < expected; ++i) {
      const int rc = bind_value(handle_, i + 1, params.positional[static_cast<std::size_t>(i)]);
      if (rc != SQLITE_OK) throw DbError(engine_error(sqlite3_db_handle(handle_), rc));
    }
    return;
  }
  for (int i = 1; i <= expected; ++i) {
    const char* placeholder = sqlite3_bind_parameter_name(handle_, i);
    if (placeholder == nullptr) {
      throw DbError(ErrorKind::Programming, "Binding " + std::to_string(i) +
                                                " has no name, but you supplied a dictionary (which has only names).");
    }
    const std::string_view name(placeholder + 1);
    const Value* value = nullptr;
    for (const auto& [key, candidate] : params.named) {
      if (key == name) {
        value = &candidate;
        break;
      }
    }
    if (value == nullptr) {
      throw DbError(ErrorKind::Programming,
                    "You did not supply a value for binding parameter " + std::string(placeholder) + ".");
    }
    const int rc = bind_value(handle_, i, *value);
    if (rc != SQLITE_OK) throw DbError(engine_error(sqlite3_db_handle(handle_), rc));
  }
}

void Statement::reset() noexcept {
  if (handle_ == nullptr) return;
  sqlite3_reset(handle_);
  sqlite3_clear_bindings(handle_);
}

StatementLease::StatementLease(StatementLease&& other) noexcept
    : statement_(std::exchange(other.statement_, nullptr)),
      cached_(std::exchange(other.cached_, nullptr)),
      owned_(std::move(other.owned_)) {}

StatementLease& StatementLease::operator=(StatementLease&& other) noexcept {
  if (this != &other) {
    give_back();
    statement_ = std::exchange(other.statement_, nullptr);
    cached_ = std::exchange(other.cached_, nullptr);
    owned_ = std::move(other.owned_);
  }
  return *this;
}

void StatementLease::give_back() noexcept {
  if (statement_ == nullptr) return;
  statement_->reset();
  if (cached_ != nullptr) cached_->in_use = false;
  owned_.reset();
  statement_ = nullptr;
  cached_ = nullptr;
}

StatementLease StatementCache::lease(std::string_view sql) {
  if (capacity_ == 0) return StatementLease(std::make_unique<Statement>(db_, sql));
  if (auto found = entries_.find(sql); found != entries_.end()) {
    auto& cached = found->second;
    if (cached.in_use) return StatementLease(std::make_unique<Statement>(db_, sql));
    cached.in_use = true;
    cached.last_used = ++clock_;
    return StatementLease(cached);
  }
  auto statement = std::make_unique<Statement>(db_, sql);
  if (entries_.size() >= capacity_) evict_least_recently_used();
  if (entries_.size() >= capacity_) return StatementLease(std::move(statement));
  auto& cached = entries_[std::string(sql)];
  cached.statement = std::move(statement);
  cached.in_use = true;
  cached.last_used = ++clock_;
  return StatementLease(cached);
}

void StatementCache::evict_least_recently_used() {
  auto oldest = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (!it->second.in_use && (oldest == entries_.end() || it->second.last_used < oldest->second.last_used)) {
      oldest = it;
    }
  }
  if (oldest != entries_.end()) entries_.erase(oldest);
}

void StatementCache::clear() noexcept {
  std::erase_if(entries_, [](const auto& entry) { return !entry.second.in_use; });
}

}  // namespace aiolibsql
