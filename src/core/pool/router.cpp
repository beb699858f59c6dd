#include "pool/router.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <iterator>

#include "error.hpp"
#include "statement.hpp"

namespace aiolibsql {

namespace {

// Routing decisions remembered per SQL text; dynamic SQL must not grow it forever.
constexpr std::size_t kMaxRoutes = 4096;

// Pragmas that, given an argument, change the database file itself or only
// report on it: every connection sees the outcome. Any other pragma given a
// value configures the one connection that runs it.
bool is_database_pragma(const char* name) {
  static constexpr std::string_view kDatabasePragmas[] = {
      "application_id", "auto_vacuum", "foreign_key_check", "foreign_key_list", "incremental_vacuum", "index_info",
      "index_list",     "index_xinfo", "integrity_check",   "optimize",         "quick_check",        "table_info",
      "table_list",     "table_xinfo", "user_version",      "wal_checkpoint",
  };
  std::string lowered(name == nullptr ? "" : name);
  std::transform(lowered.begin(), lowered.end(), lowered.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(std::begin(kDatabasePragmas), std::end(kDatabasePragmas), lowered) != std::end(kDatabasePragmas);
}

}  // namespace

void StatementRouter::open(const OpenOptions& options, const std::function<void()>& still_wanted) {
  std::lock_guard lock(mutex_);
  still_wanted();
  classifier_.open(options);
  sqlite3_set_authorizer(classifier_.handle(), note_connection_change, this);
}

void StatementRouter::close() {
  std::lock_guard lock(mutex_);
  classifier_.close();
}

Route StatementRouter::route(std::string_view sql) {
  std::lock_guard lock(mutex_);
  if (auto found = routes_.find(sql); found != routes_.end()) return found->second;
  Route route;
  route.sql = std::make_shared<const std::string>(sql);
  if (!classifier_.is_open()) return route;
  try {
    changes_connection_ = false;
    const Statement statement(classifier_.handle(), sql);
    route.changes_connection = changes_connection_;
    route.readonly = statement.is_readonly();
    route.groupable = statement.is_dml();
    route.transaction_control = statement.is_transaction_control();
    if (routes_.size() >= kMaxRoutes) routes_.clear();
    routes_.emplace(std::string(sql), route);
  } catch (const DbError&) {
    // Unknown tables and the like: the writer runs it and reports the real error,
    // or succeeds because an earlier queued write creates what it needs.
  }
  return route;
}

int StatementRouter::note_connection_change(void* self, int action, const char* first, const char* second, const char*,
                                            const char*) noexcept {
  const bool changes = action == SQLITE_ATTACH || action == SQLITE_DETACH ||
                       (action == SQLITE_PRAGMA && second != nullptr && !is_database_pragma(first));
  if (changes) static_cast<StatementRouter*>(self)->changes_connection_ = true;
  return SQLITE_OK;
}

}  // namespace aiolibsql
