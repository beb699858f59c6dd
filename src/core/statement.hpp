// Prepared statements: preparing, binding parameters, and a cache that hands
// a statement to one user at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "result.hpp"
#include "value.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace aiolibsql {

// One prepared statement. Empty SQL (only whitespace or comments) prepares
// to a statement with no program, which executes as a no-op.
class Statement {
 public:
  // Throws DbError: engine errors as the engine classifies them, and
  // ProgrammingError when `sql` holds more than one statement.
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  sqlite3_stmt* handle() const noexcept { return handle_; }
  bool is_empty() const noexcept { return handle_ == nullptr; }
  // True when the statement cannot write the database (sqlite3_stmt_readonly).
  bool is_readonly() const noexcept { return readonly_; }
  // INSERT, UPDATE, DELETE or REPLACE, or a WITH clause leading to one: the
  // statements whose row changes count towards rowcount and which open an
  // implicit transaction under legacy transaction control.
  bool is_dml() const noexcept { return dml_; }
  bool is_transaction_control() const noexcept { return transaction_control_; }
  // A plain read, cheap to run on the caller's thread: read-only, and neither
  // transaction control (a COMMIT syncs the disk) nor ATTACH, DETACH or
  // PRAGMA, which the engine calls read-only but which open files or change
  // the connection, nor a count of a whole table, which the engine does in
  // one step that no step budget can stop.
  bool is_plain_read() const noexcept { return plain_read_; }
  // The columns as of the last refresh_columns(), or of preparing.
  const std::shared_ptr<const Columns>& columns() const noexcept { return columns_; }
  // Call after a step: the engine re-prepares a statement whose schema
  // changed (ALTER TABLE here or in another connection), and its columns with it.
  void refresh_columns();

  // Binds every parameter; throws ProgrammingError when they do not match
  // the statement's placeholders.
  void bind(const Params& params);
  // Returns the statement to its initial state and clears its bindings.
  void reset() noexcept;

 private:
  sqlite3_stmt* handle_ = nullptr;
  bool readonly_ = true;
  bool dml_ = false;
  bool transaction_control_ = false;
  bool plain_read_ = false;
  std::shared_ptr<const Columns> columns_;
  // The engine's re-prepare count when columns_ was read.
  int columns_generation_ = 0;
};

// A statement kept by a StatementCache between uses.
struct CachedStatement {
  std::unique_ptr<Statement> statement;
  bool in_use = false;
  std::uint64_t last_used = 0;
};

// Exclusive use of a statement; gives it back (reset) when destroyed.
class StatementLease {
 public:
  StatementLease() = default;
  explicit StatementLease(CachedStatement& cached) noexcept : statement_(cached.statement.get()), cached_(&cached) {}
  explicit StatementLease(std::unique_ptr<Statement> owned) noexcept
      : statement_(owned.get()), owned_(std::move(owned)) {}
  StatementLease(StatementLease&& other) noexcept;
  StatementLease& operator=(StatementLease&& other) noexcept;
  ~StatementLease() { give_back(); }

  Statement& operator*() const noexcept { return *statement_; }
  Statement* operator->() const noexcept { return statement_; }

 private:
  void give_back() noexcept;

  Statement* statement_ = nullptr;
  // Set when the statement is cached; otherwise the lease owns it alone.
  CachedStatement* cached_ = nullptr;
  std::unique_ptr<Statement> owned_;
};

// Prepared statements by SQL text, least recently used evicted first. A
// statement in use is never handed out twice: a second user of the same SQL
// gets a fresh, uncached statement.
class StatementCache {
 public:
  StatementCache(sqlite3* db, std::size_t capacity) : db_(db), capacity_(capacity) {}

  StatementLease lease(std::string_view sql);
  // Finalizes every idle statement; statements on lease stay until given back.
  void clear() noexcept;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
  };
  void evict_least_recently_used();

  sqlite3* db_;
  std::size_t capacity_;
  std::uint64_t clock_ = 0;
  std::unordered_map<std::string, CachedStatement, Hash, std::equal_to<>> entries_;
};

}  // namespace aiolibsql
