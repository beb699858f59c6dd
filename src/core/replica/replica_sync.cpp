#include "replica_sync.hpp"

#include <sqlite3.h>

#include <filesystem>

#include "error.hpp"

namespace aiolibsql::replica {

void fail_sync(const std::string& message) { throw DbError(Error{ErrorKind::Operational, -1, message}); }

void run_sql(Connection& connection, std::string_view sql) {
  Params none;
  connection.execute(sql, none, kWholeResult);
}

bool replica_exists(const std::string& database, const std::string& metadata_path, bool metadata_exists,
                    const std::string& other_protocols_metadata, const char* other_protocol) {
  const bool database_exists = std::filesystem::exists(database);
  if (metadata_exists && database_exists) return true;
  if (database_exists && std::filesystem::exists(other_protocols_metadata)) {
    fail_sync("'" + database + "' is a replica made over " + other_protocol + " ('" + other_protocols_metadata +
              "'): open it with that sync_protocol, or 'auto'");
  }
  if (database_exists) {
    fail_sync("'" + database + "' exists but its metadata file '" + metadata_path +
              "' does not: it is not a replica (move it away to make a new replica here)");
  }
  if (metadata_exists) {
    fail_sync("the replica's metadata file '" + metadata_path + "' exists but its database '" + database +
              "' does not (remove the metadata file to make a new replica)");
  }
  return false;
}

void prepare_replica_wal(Connection& connection) {
  run_sql(connection, "PRAGMA journal_mode = WAL");
  run_sql(connection, "PRAGMA synchronous = FULL");
}

QueryResult sync_result(const SyncReport& report) {
  QueryResult result;
  auto columns = std::make_shared<Columns>();
  columns->names = {"frames_pulled", "frames_pushed", "generation", "frame"};
  columns->decltypes.assign(columns->names.size(), "");
  result.columns = std::move(columns);
  result.rows = RowChunk(4);
  result.rows.append_integer(static_cast<std::int64_t>(report.frames_pulled));
  result.rows.append_integer(static_cast<std::int64_t>(report.frames_pushed));
  if (report.generation) {
    result.rows.append_integer(*report.generation);
  } else {
    result.rows.append_null();
  }
  result.rows.append_integer(static_cast<std::int64_t>(report.frame));
  return result;
}

SyncReport ReplicaSync::sync(Connection& connection, bool push) {
  // Frames go into the WAL outside any transaction of this connection. One
  // that has written must end first; one that has not (autocommit=False
  // keeps one open at all times) is ended and begun again around the sync.
  const bool reopen = connection.in_transaction();
  if (reopen) {
    if (sqlite3_txn_state(connection.handle(), nullptr) == SQLITE_TXN_WRITE) {
      throw DbError(Error{ErrorKind::Programming, -1,
                          "sync() cannot run inside a transaction that has written: commit or roll back first"});
    }
    run_sql(connection, "COMMIT");
  }
  SyncReport report;
  try {
    report = exchange(connection, push);
  } catch (...) {
    if (reopen) run_sql(connection, "BEGIN");
    throw;
  }
  if (reopen) run_sql(connection, "BEGIN");
  return report;
}

}  // namespace aiolibsql::replica
