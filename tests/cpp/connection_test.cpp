// Connection: opening, executing with chunked results, values, rowcount and
// lastrowid, the three transaction-control modes, scripts, batches, backup,
// user functions, interruption, and libSQL's vector SQL.
#include "connection.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "async_connection.hpp"
#include "error.hpp"
#include "test_support.hpp"

namespace aiolibsql {
namespace {

using namespace std::chrono_literals;
using test::count_rows;
using test::error_of;
using test::kEverything;
using test::named;
using test::open_connection;
using test::open_memory;
using test::positional;
using test::run;
using test::scalar;
using test::value_at;

constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

Value integer(std::int64_t value) { return value; }
Value text(std::string value) { return value; }

// 1..count in table t(x), committed.
std::unique_ptr<Connection> open_with_numbers(std::int64_t count) {
  auto connection = open_memory();
  connection->execute_script(
      "CREATE TABLE t(x INTEGER);"
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " +
      std::to_string(count) + ") INSERT INTO t SELECT x FROM c;");
  return connection;
}

int busy_statements(sqlite3* db) {
  int busy = 0;
  for (sqlite3_stmt* statement = sqlite3_next_stmt(db, nullptr); statement != nullptr;
       statement = sqlite3_next_stmt(db, statement)) {
    busy += sqlite3_stmt_busy(statement) != 0 ? 1 : 0;
  }
  return busy;
}

// ---------------------------------------------------------------------------
// Opening and closing

TEST(ConnectionOpen, CreatesAFileDatabaseThatOutlivesTheConnection) {
  test::TempDir dir;
  OpenOptions options;
  options.database = dir.file("kept.db");
  {
    auto connection = open_connection(options);
    connection->execute_script("CREATE TABLE t(x); INSERT INTO t VALUES (42);");
  }
  auto reopened = open_connection(options);
  EXPECT_EQ(scalar(*reopened, "SELECT x FROM t"), integer(42));
}

TEST(ConnectionOpen, NulInThePathIsProgramming) {
  OpenOptions options;
  options.database = std::string("a\0b.db", 6);
  Connection connection;
  EXPECT_EQ(error_of([&] { connection.open(options); }).kind, ErrorKind::Programming);
  EXPECT_FALSE(connection.is_open());
}

TEST(ConnectionOpen, UnopenablePathIsOperationalCantOpen) {
  test::TempDir dir;
  OpenOptions options;
  options.database = dir.file("no/such/directory/x.db");
  Connection connection;
  const Error error = error_of([&] { connection.open(options); });
  EXPECT_EQ(error.kind, ErrorKind::Operational);
  EXPECT_EQ(error.sqlite_code & 0xff, SQLITE_CANTOPEN);
  EXPECT_FALSE(connection.is_open());
}

TEST(ConnectionOpen, UriOptionHonoursUriParameters) {
  test::TempDir dir;
  const auto path = dir.file("ro.db");
  {
    OpenOptions options;
    options.database = path;
    open_connection(options)->execute_script("CREATE TABLE t(x);");
  }
  OpenOptions options;
  options.database = "file:" + path + "?mode=ro";
  options.uri = true;
  auto connection = open_connection(options);
  const Error error = error_of([&] { run(*connection, "INSERT INTO t VALUES (1)"); });
  EXPECT_EQ(error.kind, ErrorKind::Operational);
  EXPECT_EQ(error.sqlite_code & 0xff, SQLITE_READONLY);
}

TEST(ConnectionOpen, QueryOnlyRefusesWritesButAllowsReads) {
  OpenOptions options = test::memory_options();
  options.query_only = true;
  auto connection = open_connection(options);
  EXPECT_EQ(scalar(*connection, "SELECT 1"), integer(1));
  const Error error = error_of([&] { run(*connection, "CREATE TABLE t(x)"); });
  EXPECT_EQ(error.kind, ErrorKind::Operational);
  EXPECT_EQ(error.sqlite_code & 0xff, SQLITE_READONLY);
}

// Opening an open connection must not leave the old handle open, locked and
// unreachable (the core refuses; closing first would also do).
TEST(ConnectionOpen, ReopeningLetsGoOfThePreviousDatabase) {
  test::TempDir dir;
  OpenOptions first;
  first.database = dir.file("first.db");
  first.isolation_level = "EXCLUSIVE";
  Connection connection;
  connection.open(first);
  run(connection, "CREATE TABLE t(x)");
  run(connection, "INSERT INTO t VALUES (1)");  // BEGIN EXCLUSIVE: locks first.db
  ASSERT_TRUE(connection.in_transaction());

  OpenOptions second = test::memory_options();
  try {
    connection.open(second);
  } catch (const DbError& error) {
    EXPECT_EQ(error.error().kind, ErrorKind::Programming);
    return;
  }
  OpenOptions other = first;
  other.timeout_seconds = 0;
  auto reader = open_connection(other);
  EXPECT_NO_THROW(run(*reader, "SELECT count(*) FROM t"))
      << "first.db is still locked: open() replaced the engine handle without closing it";
}

TEST(ConnectionClose, EveryOperationOnAClosedConnectionIsProgramming) {
  auto connection = open_memory();
  auto target = open_memory();
  connection->close();
  EXPECT_FALSE(connection->is_open());
  std::mutex engine;
  const std::vector<std::pair<const char*, std::function<void()>>> calls = {
      {"execute", [&] { run(*connection, "SELECT 1"); }},
      {"fetch", [&] { connection->fetch(1, kEverything); }},
      {"execute_many", [&] { connection->execute_many("SELECT 1", {}); }},
      {"execute_script", [&] { connection->execute_script("SELECT 1"); }},
      {"commit", [&] { connection->commit(); }},
      {"rollback", [&] { connection->rollback(); }},
      {"set_transaction_control", [&] { connection->set_transaction_control(TransactionControl::Manual); }},
      {"backup_to", [&] { connection->backup_to(*target, engine, "main", -1); }},
      {"create_function", [&] { connection->create_function("f", 0, true, nullptr); }},
  };
  for (const auto& [name, call] : calls) {
    const Error error = error_of(call);
    EXPECT_EQ(error.kind, ErrorKind::Programming) << name;
    EXPECT_EQ(error.message, "Cannot operate on a closed database.") << name;
  }
}

TEST(ConnectionClose, IsIdempotentAndHarmlessWithOpenCursors) {
  auto connection = open_with_numbers(1000);
  const auto first = connection->execute("SELECT x FROM t", {}, kFirstChunk);
  ASSERT_NE(first.cursor_id, 0u);
  connection->close();
  connection->close();
  connection->release(first.cursor_id);
  connection->interrupt();
  EXPECT_FALSE(connection->is_open());
  EXPECT_FALSE(connection->in_transaction());
}

TEST(ConnectionClose, RollsBackUncommittedWork) {
  test::TempDir dir;
  OpenOptions options;
  options.database = dir.file("rollback.db");
  {
    auto connection = open_connection(options);
    run(*connection, "CREATE TABLE t(x)");
    run(*connection, "INSERT INTO t VALUES (1)");
    ASSERT_TRUE(connection->in_transaction());
  }
  auto reopened = open_connection(options);
  EXPECT_EQ(count_rows(*reopened, "t"), 0);
}

TEST(ConnectionClose, AnInterruptThatCameAfterTheLastStatementDoesNotStopTheCheckpoint) {
  test::TempDir dir;
  OpenOptions options;
  options.database = dir.file("wal.db");
  options.isolation_level = std::nullopt;
  {
    auto connection = open_connection(options);
    run(*connection, "PRAGMA journal_mode=WAL");
    run(*connection, "CREATE TABLE t(x)");
    run(*connection, "INSERT INTO t VALUES (1)");
    // Meant for a statement that had already ended (a cancel, a drop of the
    // connection while it ran): the engine keeps it pending.
    connection->interrupt();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("wal.db-wal")));
  auto reopened = open_connection(options);
  EXPECT_EQ(count_rows(*reopened, "t"), 1);
}

// ---------------------------------------------------------------------------
// Errors raised while executing

TEST(ConnectionErrors, UniqueViolationIsIntegrityWithExtendedCode2067) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(x UNIQUE)");
  run(*connection, "INSERT INTO t VALUES (1)");
  const Error error = error_of([&] { run(*connection, "INSERT INTO t VALUES (1)"); });
  EXPECT_EQ(error.kind, ErrorKind::Integrity);
  EXPECT_EQ(error.sqlite_code, 2067);
  EXPECT_STREQ(result_code_name(error.sqlite_code), "SQLITE_CONSTRAINT_UNIQUE");
  EXPECT_EQ(error.message, "UNIQUE constraint failed: t.x");
}

TEST(ConnectionErrors, NotNullViolationReportsItsExtendedCode) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(x NOT NULL)");
  const Error error = error_of([&] { run(*connection, "INSERT INTO t VALUES (NULL)"); });
  EXPECT_EQ(error.kind, ErrorKind::Integrity);
  EXPECT_EQ(error.sqlite_code, SQLITE_CONSTRAINT_NOTNULL);
}

TEST(ConnectionErrors, SyntaxErrorIsOperationalAndLeavesTheConnectionUsable) {
  auto connection = open_memory();
  const Error error = error_of([&] { run(*connection, "SELEC 1"); });
  EXPECT_EQ(error.kind, ErrorKind::Operational);
  EXPECT_EQ(error.sqlite_code, SQLITE_ERROR);
  EXPECT_EQ(scalar(*connection, "SELECT 1"), integer(1));
}

TEST(ConnectionErrors, ErrorWhileSteppingKeepsEarlierWorkOfTheTransaction) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(x UNIQUE)");
  run(*connection, "INSERT INTO t VALUES (1)");
  EXPECT_EQ(error_of([&] { run(*connection, "INSERT INTO t VALUES (1)"); }).kind, ErrorKind::Integrity);
  EXPECT_TRUE(connection->in_transaction());
  connection->commit();
  EXPECT_EQ(count_rows(*connection, "t"), 1);
}

// ---------------------------------------------------------------------------
// Executing: no-ops, binding, values

TEST(ConnectionExecute, EmptyOrCommentOnlySqlIsANoOp) {
  auto connection = open_memory();
  for (const char* sql : {"", "  ", "-- nothing", "/* nothing */ ;"}) {
    const auto result = run(*connection, sql);
    EXPECT_EQ(result.columns, nullptr) << sql;
    EXPECT_EQ(result.rows.row_count(), 0u) << sql;
    EXPECT_EQ(result.cursor_id, 0u) << sql;
    EXPECT_EQ(result.rowcount, -1) << sql;
  }
  EXPECT_FALSE(connection->in_transaction());
}

TEST(ConnectionExecute, MoreThanOneStatementIsProgramming) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(x)");
  const Error error = error_of([&] { run(*connection, "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)"); });
  EXPECT_EQ(error.kind, ErrorKind::Programming);
  EXPECT_EQ(count_rows(*connection, "t"), 0);
}

TEST(ConnectionExecute, BindsPositionalAndNamedParameters) {
  auto connection = open_memory();
  EXPECT_EQ(scalar(*connection, "SELECT ? || '-' || ?", positional({text("a"), text("b")})), text("a-b"));
  const auto params = named({{"x", integer(6)}, {"y", integer(7)}, {"z", integer(2)}});
  EXPECT_EQ(scalar(*connection, "SELECT :x * @y - $z", params), integer(40));
}

TEST(ConnectionExecute, WrongBindingsAreProgrammingAndDoNotBeginATransaction) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(x)");
  EXPECT_EQ(error_of([&] { run(*connection, "INSERT INTO t VALUES (?)"); }).kind, ErrorKind::Programming);
  EXPECT_EQ(error_of([&] {
              run(*connection, "INSERT INTO t VALUES (?)", positional({integer(1), integer(2)}));
            }).kind,
            ErrorKind::Programming);
  EXPECT_EQ(error_of([&] {
              run(*connection, "INSERT INTO t VALUES (:v)", named({{"w", integer(1)}}));
            }).kind,
            ErrorKind::Programming);
  EXPECT_FALSE(connection->in_transaction());
  EXPECT_EQ(count_rows(*connection, "t"), 0);
}

TEST(ConnectionExecute, EveryValueTypeRoundTripsThroughAParameter) {
  auto connection = open_memory();
  const std::vector<Value> values = {
      Null{},
      integer(0),
      integer(kMin),
      integer(kMax),
      1.5,
      -2.25e-300,
      std::numeric_limits<double>::max(),
      text(""),
      text(std::string("nul\0inside", 10)),
      text("h\xc3\xa9llo \xe2\x9c\x93"),
      Blob{},
      Blob{std::string("\x00\x01\x02\xff", 4)},
  };
  for (const auto& value : values) {
    const auto params = positional({value});
    EXPECT_EQ(scalar(*connection, "SELECT ?", params), value);
  }
}

TEST(ConnectionExecute, EveryValueTypeRoundTripsThroughATable) {
  auto connection = open_memory();
  // No declared type: no affinity may convert what is stored.
  run(*connection, "CREATE TABLE t(id INTEGER PRIMARY KEY, v)");
  const std::vector<Value> values = {
      Null{},
      integer(kMin),
      integer(kMax),
      3.25,
      text(std::string("a\0b", 3)),
      text(""),
      Blob{},
      Blob{std::string(1000, '\x7f')},
  };
  for (const auto& value : values) run(*connection, "INSERT INTO t(v) VALUES (?)", positional({value}));
  const auto result = run(*connection, "SELECT v, typeof(v) FROM t ORDER BY id");
  ASSERT_EQ(result.rows.row_count(), values.size());
  const std::vector<std::string> types = {"null", "integer", "integer", "real", "text", "text", "blob", "blob"};
  for (std::size_t row = 0; row < values.size(); ++row) {
    EXPECT_EQ(value_at(result.rows, row, 0), values[row]) << "row " << row;
    EXPECT_EQ(value_at(result.rows, row, 1), text(types[row])) << "row " << row;
  }
}

TEST(ConnectionExecute, ReportsColumnNamesAndDeclaredTypes) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(a INTEGER, b TEXT)");
  const auto result = run(*connection, "SELECT a, b AS bee, 42 AS answer FROM t");
  ASSERT_NE(result.columns, nullptr);
  EXPECT_EQ(result.columns->names, (std::vector<std::string>{"a", "bee", "answer"}));
  EXPECT_EQ(result.columns->decltypes, (std::vector<std::string>{"INTEGER", "TEXT", ""}));
  EXPECT_EQ(result.rows.column_count(), 3u);
  EXPECT_EQ(result.rows.row_count(), 0u);
}

// ---------------------------------------------------------------------------
// Chunked results

TEST(ConnectionCursor, ThousandRowSelectReturnsTheFirstChunkAndFetchReturnsTheRest) {
  auto connection = open_with_numbers(1000);
  const auto first = connection->execute("SELECT x FROM t ORDER BY x", {}, kFirstChunk);
  ASSERT_EQ(first.rows.row_count(), kFirstChunk.max_rows);
  EXPECT_NE(first.cursor_id, 0u);
  EXPECT_EQ(first.rowcount, -1);
  ASSERT_NE(first.columns, nullptr);
  EXPECT_EQ(first.columns->names, (std::vector<std::string>{"x"}));

  const auto rest = connection->fetch(first.cursor_id, kNextChunk);
  ASSERT_EQ(rest.rows.row_count(), 1000 - kFirstChunk.max_rows);
  EXPECT_EQ(rest.cursor_id, 0u);
  EXPECT_EQ(rest.rowcount, -1);

  std::int64_t expected = 1;
  for (const auto* chunk : {&first.rows, &rest.rows}) {
    for (std::size_t row = 0; row < chunk->row_count(); ++row) EXPECT_EQ(value_at(*chunk, row, 0), integer(expected++));
  }
  EXPECT_EQ(busy_statements(connection->handle()), 0);
}

TEST(ConnectionCursor, ResultThatFitsTheFirstChunkOpensNoCursor) {
  auto connection = open_with_numbers(kFirstChunk.max_rows - 1);
  const auto result = connection->execute("SELECT x FROM t", {}, kFirstChunk);
  EXPECT_EQ(result.rows.row_count(), kFirstChunk.max_rows - 1);
  EXPECT_EQ(result.cursor_id, 0u);
  EXPECT_EQ(busy_statements(connection->handle()), 0);
}

TEST(ConnectionCursor, ByteLimitEndsAChunkAfterTheRowThatCrossesIt) {
  auto connection = open_with_numbers(10);
  const FetchLimits one_byte{1000, 1};
  auto result = connection->execute("SELECT x FROM t ORDER BY x", {}, one_byte);
  std::vector<Value> seen;
  while (true) {
    EXPECT_LE(result.rows.row_count(), 1u);
    for (std::size_t row = 0; row < result.rows.row_count(); ++row) seen.push_back(value_at(result.rows, row, 0));
    if (result.cursor_id == 0) break;
    result = connection->fetch(result.cursor_id, one_byte);
  }
  ASSERT_EQ(seen.size(), 10u);
  EXPECT_EQ(seen.front(), integer(1));
  EXPECT_EQ(seen.back(), integer(10));
}

TEST(ConnectionCursor, ReleaseFreesTheCursorAndItsLocks) {
  auto connection = open_with_numbers(1000);
  const auto first = connection->execute("SELECT x FROM t", {}, kFirstChunk);
  ASSERT_NE(first.cursor_id, 0u);
  EXPECT_EQ(busy_statements(connection->handle()), 1);
  const Error locked = error_of([&] { run(*connection, "DROP TABLE t"); });
  EXPECT_EQ(locked.sqlite_code & 0xff, SQLITE_LOCKED);

  connection->release(first.cursor_id);
  EXPECT_EQ(busy_statements(connection->handle()), 0);
  EXPECT_NO_THROW(run(*connection, "DROP TABLE t"));
  const auto after = connection->fetch(first.cursor_id, kNextChunk);
  EXPECT_EQ(after.rows.row_count(), 0u);
  EXPECT_EQ(after.cursor_id, 0u);
}

TEST(ConnectionCursor, FetchOfAnUnknownCursorReturnsNothing) {
  auto connection = open_memory();
  const auto result = connection->fetch(12345, kNextChunk);
  EXPECT_EQ(result.rows.row_count(), 0u);
  EXPECT_EQ(result.cursor_id, 0u);
  connection->release(12345);
}

TEST(ConnectionCursor, CursorsOverTheSameSqlAreIndependent) {
  auto connection = open_with_numbers(30);
  const FetchLimits ten{10, std::numeric_limits<std::size_t>::max()};
  const char* sql = "SELECT x FROM t ORDER BY x";
  auto a = connection->execute(sql, {}, ten);
  auto b = connection->execute(sql, {}, ten);
  ASSERT_NE(a.cursor_id, 0u);
  ASSERT_NE(b.cursor_id, 0u);
  EXPECT_NE(a.cursor_id, b.cursor_id);
  // A third use while both are open runs to completion on its own statement.
  EXPECT_EQ(run(*connection, sql).rows.row_count(), 30u);

  a = connection->fetch(a.cursor_id, ten);
  EXPECT_EQ(value_at(a.rows, 0, 0), integer(11));
  b = connection->fetch(b.cursor_id, ten);
  EXPECT_EQ(value_at(b.rows, 0, 0), integer(11));
  a = connection->fetch(a.cursor_id, ten);
  EXPECT_EQ(value_at(a.rows, 9, 0), integer(30));
}

// Bound TEXT and BLOB bytes are lent to the engine (SQLITE_STATIC) and read
// again at fetch time, so an open cursor must own the values it was bound with.
TEST(ConnectionCursor, OpenCursorKeepsItsBoundValuesWhenGivenTheCallersParameters) {
  auto connection = open_memory();
  Params params = positional({text(std::string(64, 'a'))});
  const auto first = connection->execute(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) SELECT x, ? FROM c", params,
      kFirstChunk);
  ASSERT_NE(first.cursor_id, 0u);
  // The open statement took the parameters over; the caller's object is spent.
  params = positional({text(std::string(64, 'z'))});
  const auto rest = connection->fetch(first.cursor_id, kNextChunk);
  ASSERT_GT(rest.rows.row_count(), 0u);
  EXPECT_EQ(value_at(rest.rows, rest.rows.row_count() - 1, 1), text(std::string(64, 'a')));
}

TEST(ConnectionCursor, OpenCursorKeepsBoundTextAfterTheCallersParamsChange) {
  auto connection = open_memory();
  const std::string original(64, 'a');
  Params params = positional({text(original)});
  // Through the const overload: the caller keeps its parameters and may reuse them.
  const auto first = connection->execute(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) SELECT x, ? FROM c",
      std::as_const(params), kFirstChunk);
  ASSERT_NE(first.cursor_id, 0u);
  EXPECT_EQ(value_at(first.rows, 0, 1), text(original));

  // Overwrite in place: the same buffer now holds other bytes.
  std::get<std::string>(params.positional[0]).assign(64, 'z');
  const auto rest = connection->fetch(first.cursor_id, kNextChunk);
  ASSERT_GT(rest.rows.row_count(), 0u);
  EXPECT_EQ(value_at(rest.rows, 0, 1), text(original));
  EXPECT_EQ(value_at(rest.rows, rest.rows.row_count() - 1, 1), text(original));
}

// ---------------------------------------------------------------------------
// rowcount, lastrowid, total_changes

TEST(ConnectionRowcount, InsertReportsOneRowAndItsRowid) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(id INTEGER PRIMARY KEY, x)");
  const auto first = run(*connection, "INSERT INTO t(x) VALUES ('a')");
  EXPECT_EQ(first.rowcount, 1);
  EXPECT_EQ(first.lastrowid, 1);
  const auto second = run(*connection, "INSERT INTO t(id, x) VALUES (41, 'b')");
  EXPECT_EQ(second.rowcount, 1);
  EXPECT_EQ(second.lastrowid, 41);
}

TEST(ConnectionRowcount, UpdateDeleteAndMultiRowInsertReportRowsChanged) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(x)");
  EXPECT_EQ(run(*connection, "INSERT INTO t VALUES (1), (2), (3), (4)").rowcount, 4);
  EXPECT_EQ(run(*connection, "UPDATE t SET x = x * 10 WHERE x > 2").rowcount, 2);
  EXPECT_EQ(run(*connection, "UPDATE t SET x = 0 WHERE x > 1000").rowcount, 0);
  EXPECT_EQ(run(*connection, "DELETE FROM t WHERE x = 1").rowcount, 1);
  EXPECT_EQ(run(*connection, "REPLACE INTO t VALUES (7)").rowcount, 1);
  EXPECT_EQ(run(*connection, "WITH v(y) AS (VALUES (8), (9)) INSERT INTO t SELECT y FROM v").rowcount, 2);
  EXPECT_EQ(run(*connection, "DELETE FROM t").rowcount, 6);
}

TEST(ConnectionRowcount, QueriesAndSchemaChangesReportMinusOne) {
  auto connection = open_memory();
  EXPECT_EQ(run(*connection, "CREATE TABLE t(x)").rowcount, -1);
  run(*connection, "INSERT INTO t VALUES (1)");
  EXPECT_EQ(run(*connection, "SELECT * FROM t").rowcount, -1);
  EXPECT_EQ(run(*connection, "PRAGMA user_version = 3").rowcount, -1);
  EXPECT_EQ(run(*connection, "DROP TABLE t").rowcount, -1);
}

TEST(ConnectionRowcount, LastrowidKeepsTheLastInsertAcrossOtherStatements) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(id INTEGER PRIMARY KEY, x)");
  run(*connection, "INSERT INTO t(id, x) VALUES (7, 'a')");
  EXPECT_EQ(run(*connection, "SELECT * FROM t").lastrowid, 7);
  EXPECT_EQ(run(*connection, "UPDATE t SET x = 'b'").lastrowid, 7);
}

TEST(ConnectionRowcount, ReturningDmlReportsRowcountOnceItsLastChunkIsFetched) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(x)");
  std::string sql = "INSERT INTO t VALUES (1)";
  for (int i = 2; i <= 25; ++i) sql += ", (" + std::to_string(i) + ")";
  sql += " RETURNING x";
  const FetchLimits ten{10, std::numeric_limits<std::size_t>::max()};
  auto result = connection->execute(sql, {}, ten);
  EXPECT_EQ(result.rows.row_count(), 10u);
  EXPECT_EQ(result.rowcount, -1);
  ASSERT_NE(result.cursor_id, 0u);
  result = connection->fetch(result.cursor_id, ten);
  EXPECT_EQ(result.rowcount, -1);
  ASSERT_NE(result.cursor_id, 0u);
  result = connection->fetch(result.cursor_id, ten);
  EXPECT_EQ(result.rows.row_count(), 5u);
  EXPECT_EQ(result.cursor_id, 0u);
  EXPECT_EQ(result.rowcount, 25);
}

TEST(ConnectionRowcount, TotalChangesCountsEveryRowChanged) {
  auto connection = open_memory();
  EXPECT_EQ(connection->total_changes(), 0);
  run(*connection, "CREATE TABLE t(x)");
  run(*connection, "INSERT INTO t VALUES (1), (2), (3)");
  run(*connection, "UPDATE t SET x = 0");
  EXPECT_EQ(connection->total_changes(), 6);
}

// ---------------------------------------------------------------------------
// Transaction control

TEST(LegacyTransactions, BeginImplicitlyBeforeDmlOnly) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(x)");
  EXPECT_FALSE(connection->in_transaction());
  run(*connection, "SELECT * FROM t");
  EXPECT_FALSE(connection->in_transaction());
  run(*connection, "INSERT INTO t VALUES (1)");
  EXPECT_TRUE(connection->in_transaction());
  connection->commit();
  EXPECT_FALSE(connection->in_transaction());
  EXPECT_EQ(count_rows(*connection, "t"), 1);
}

TEST(LegacyTransactions, RollbackDiscardsTheImplicitTransaction) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(x)");
  run(*connection, "INSERT INTO t VALUES (1)");
  connection->rollback();
  EXPECT_FALSE(connection->in_transaction());
  EXPECT_EQ(count_rows(*connection, "t"), 0);
}

TEST(LegacyTransactions, CommitAndRollbackWithoutATransactionDoNothing) {
  auto connection = open_memory();
  EXPECT_NO_THROW(connection->commit());
  EXPECT_NO_THROW(connection->rollback());
  EXPECT_FALSE(connection->in_transaction());
}

TEST(LegacyTransactions, ImplicitBeginUsesTheIsolationLevel) {
  test::TempDir dir;
  OpenOptions options;
  options.database = dir.file("isolation.db");
  options.timeout_seconds = 0;
  open_connection(options)->execute_script("CREATE TABLE t(x);");

  for (const char* level : {"DEFERRED", "EXCLUSIVE"}) {
    OpenOptions writer_options = options;
    writer_options.isolation_level = level;
    auto writer = open_connection(writer_options);
    auto reader = open_connection(options);
    run(*writer, "INSERT INTO t VALUES (1)");
    ASSERT_TRUE(writer->in_transaction());
    if (std::string(level) == "EXCLUSIVE") {
      // An exclusive lock keeps even readers out of a rollback-journal database.
      const Error error = error_of([&] { run(*reader, "SELECT count(*) FROM t"); });
      EXPECT_EQ(error.sqlite_code & 0xff, SQLITE_BUSY);
    } else {
      EXPECT_EQ(count_rows(*reader, "t"), 0);
    }
    writer->rollback();
  }
}

TEST(LegacyTransactions, NoIsolationLevelMeansNoImplicitTransaction) {
  OpenOptions options = test::memory_options();
  options.isolation_level = std::nullopt;
  auto connection = open_connection(options);
  run(*connection, "CREATE TABLE t(x)");
  run(*connection, "INSERT INTO t VALUES (1)");
  EXPECT_FALSE(connection->in_transaction());
  connection->rollback();
  EXPECT_EQ(count_rows(*connection, "t"), 1);
}

TEST(LegacyTransactions, ExplicitBeginIsHonouredAndCommitEndsIt) {
  OpenOptions options = test::memory_options();
  options.isolation_level = std::nullopt;
  auto connection = open_connection(options);
  run(*connection, "CREATE TABLE t(x)");
  run(*connection, "BEGIN");
  run(*connection, "INSERT INTO t VALUES (1)");
  EXPECT_TRUE(connection->in_transaction());
  connection->rollback();
  EXPECT_FALSE(connection->in_transaction());
  EXPECT_EQ(count_rows(*connection, "t"), 0);
}

TEST(AutocommitTransactions, NeverBeginImplicitly) {
  OpenOptions options = test::memory_options();
  options.transaction_control = TransactionControl::Autocommit;
  auto connection = open_connection(options);
  EXPECT_FALSE(connection->in_transaction());
  run(*connection, "CREATE TABLE t(x)");
  run(*connection, "INSERT INTO t VALUES (1)");
  EXPECT_FALSE(connection->in_transaction());
}

TEST(AutocommitTransactions, CommitAndRollbackAreNoOps) {
  OpenOptions options = test::memory_options();
  options.transaction_control = TransactionControl::Autocommit;
  auto connection = open_connection(options);
  run(*connection, "CREATE TABLE t(x)");
  run(*connection, "BEGIN");
  run(*connection, "INSERT INTO t VALUES (1)");
  connection->commit();
  EXPECT_TRUE(connection->in_transaction());
  connection->rollback();
  EXPECT_TRUE(connection->in_transaction());
  run(*connection, "COMMIT");
  EXPECT_FALSE(connection->in_transaction());
  EXPECT_EQ(count_rows(*connection, "t"), 1);
}

TEST(ManualTransactions, AreAlwaysInATransaction) {
  OpenOptions options = test::memory_options();
  options.transaction_control = TransactionControl::Manual;
  auto connection = open_connection(options);
  EXPECT_TRUE(connection->in_transaction());
  run(*connection, "CREATE TABLE t(x)");
  run(*connection, "INSERT INTO t VALUES (1)");
  connection->commit();
  EXPECT_TRUE(connection->in_transaction());
  run(*connection, "INSERT INTO t VALUES (2)");
  connection->rollback();
  EXPECT_TRUE(connection->in_transaction());
  EXPECT_EQ(count_rows(*connection, "t"), 1);
}

TEST(ManualTransactions, CommitMakesChangesVisibleToOtherConnections) {
  test::TempDir dir;
  OpenOptions options;
  options.database = dir.file("manual.db");
  options.transaction_control = TransactionControl::Manual;
  auto writer = open_connection(options);
  run(*writer, "CREATE TABLE t(x)");
  run(*writer, "INSERT INTO t VALUES (1)");
  writer->commit();
  run(*writer, "INSERT INTO t VALUES (2)");  // pending in the next transaction

  OpenOptions reader_options;
  reader_options.database = options.database;
  auto reader = open_connection(reader_options);
  EXPECT_EQ(count_rows(*reader, "t"), 1);
}

TEST(TransactionControlSwitch, ToAutocommitCommitsAndToManualBegins) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(x)");
  run(*connection, "INSERT INTO t VALUES (1)");
  connection->set_transaction_control(TransactionControl::Autocommit);
  EXPECT_FALSE(connection->in_transaction());
  connection->set_transaction_control(TransactionControl::Manual);
  EXPECT_TRUE(connection->in_transaction());
  connection->rollback();
  EXPECT_EQ(count_rows(*connection, "t"), 1);
}

// ---------------------------------------------------------------------------
// execute_script

TEST(ConnectionScript, RunsEveryStatementInOrder) {
  auto connection = open_memory();
  connection->execute_script(
      "CREATE TABLE t(x);\n"
      "-- a comment between statements\n"
      "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);\n"
      "SELECT * FROM t;  /* rows are discarded */\n"
      "UPDATE t SET x = x + 10;");
  const auto result = run(*connection, "SELECT x FROM t ORDER BY x");
  ASSERT_EQ(result.rows.row_count(), 2u);
  EXPECT_EQ(value_at(result.rows, 0, 0), integer(11));
  EXPECT_EQ(value_at(result.rows, 1, 0), integer(12));
  EXPECT_FALSE(connection->in_transaction());
}

TEST(ConnectionScript, CommitsAPendingLegacyTransactionFirst) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(x)");
  run(*connection, "INSERT INTO t VALUES (1)");
  ASSERT_TRUE(connection->in_transaction());
  connection->execute_script("CREATE TABLE u(y);");
  EXPECT_FALSE(connection->in_transaction());
  connection->rollback();
  EXPECT_EQ(count_rows(*connection, "t"), 1);
}

TEST(ConnectionScript, LeavesAManualTransactionOpen) {
  OpenOptions options = test::memory_options();
  options.transaction_control = TransactionControl::Manual;
  auto connection = open_connection(options);
  connection->execute_script("CREATE TABLE t(x); INSERT INTO t VALUES (1);");
  EXPECT_TRUE(connection->in_transaction());
  connection->rollback();
  EXPECT_EQ(error_of([&] { run(*connection, "SELECT * FROM t"); }).kind, ErrorKind::Operational);
}

TEST(ConnectionScript, StopsAtTheFirstFailingStatement) {
  auto connection = open_memory();
  const Error error = error_of([&] {
    connection->execute_script(
        "CREATE TABLE t(x); INSERT INTO t VALUES (1); INSERT INTO nowhere VALUES (2); "
        "INSERT INTO t VALUES (3);");
  });
  EXPECT_EQ(error.kind, ErrorKind::Operational);
  EXPECT_EQ(error.message, "no such table: nowhere");
  EXPECT_EQ(count_rows(*connection, "t"), 1);
}

TEST(ConnectionScript, NulCharacterIsProgramming) {
  auto connection = open_memory();
  const Error error = error_of([&] { connection->execute_script(std::string("CREATE TABLE t(x);\0", 19)); });
  EXPECT_EQ(error.kind, ErrorKind::Programming);
  EXPECT_EQ(error_of([&] { run(*connection, "SELECT * FROM t"); }).kind, ErrorKind::Operational);
}

TEST(ConnectionScript, EmptyOrCommentOnlyScriptIsANoOp) {
  auto connection = open_memory();
  EXPECT_NO_THROW(connection->execute_script(""));
  EXPECT_NO_THROW(connection->execute_script("  -- nothing\n/* at all */ ;;"));
}

// ---------------------------------------------------------------------------
// execute_many

TEST(ConnectionExecuteMany, RunsOncePerParameterSetAndCountsChanges) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(k, v)");
  std::vector<Params> batch;
  for (std::int64_t i = 0; i < 5; ++i) batch.push_back(positional({integer(i % 2), text(std::to_string(i * 10))}));
  EXPECT_EQ(connection->execute_many("INSERT INTO t VALUES (?, ?)", batch), 5);
  EXPECT_EQ(count_rows(*connection, "t"), 5);

  // Each set may change several rows; the total is their sum.
  const std::vector<Params> updates = {named({{"k", integer(0)}}), named({{"k", integer(1)}}),
                                       named({{"k", integer(9)}})};
  EXPECT_EQ(connection->execute_many("UPDATE t SET v = 'x' WHERE k = :k", updates), 5);
}

TEST(ConnectionExecuteMany, BeginsTheLegacyTransactionImplicitly) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(x)");
  connection->execute_many("INSERT INTO t VALUES (?)", {positional({integer(1)}), positional({integer(2)})});
  EXPECT_TRUE(connection->in_transaction());
  connection->rollback();
  EXPECT_EQ(count_rows(*connection, "t"), 0);
}

TEST(ConnectionExecuteMany, RejectsStatementsThatReturnRows) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(x)");
  for (const char* sql : {"SELECT ?", "INSERT INTO t VALUES (?) RETURNING x"}) {
    const Error error = error_of([&] { connection->execute_many(sql, {positional({integer(1)})}); });
    EXPECT_EQ(error.kind, ErrorKind::Programming) << sql;
    EXPECT_EQ(error.message, "executemany() can only execute DML statements.") << sql;
  }
  EXPECT_EQ(count_rows(*connection, "t"), 0);
}

TEST(ConnectionExecuteMany, EmptyBatchChangesNothing) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(x)");
  EXPECT_EQ(connection->execute_many("INSERT INTO t VALUES (?)", {}), 0);
  EXPECT_FALSE(connection->in_transaction());
}

TEST(ConnectionExecuteMany, StopsAtTheFirstFailingSetKeepingEarlierOnes) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE t(x UNIQUE)");
  const Error integrity = error_of([&] {
    connection->execute_many("INSERT INTO t VALUES (?)",
                             {positional({integer(1)}), positional({integer(1)}), positional({integer(2)})});
  });
  EXPECT_EQ(integrity.kind, ErrorKind::Integrity);
  EXPECT_EQ(count_rows(*connection, "t"), 1);

  const Error binding = error_of([&] {
    connection->execute_many("INSERT INTO t VALUES (?)", {positional({integer(5)}), positional({})});
  });
  EXPECT_EQ(binding.kind, ErrorKind::Programming);
  EXPECT_EQ(count_rows(*connection, "t"), 2);
}

// ---------------------------------------------------------------------------
// backup_to

TEST(ConnectionBackup, CopiesRowsBetweenTwoMemoryDatabases) {
  auto source = open_with_numbers(500);
  auto target = open_memory();
  run(*target, "CREATE TABLE replaced(y)");
  std::mutex target_engine;
  source->backup_to(*target, target_engine, "main", -1);
  EXPECT_EQ(count_rows(*target, "t"), 500);
  EXPECT_EQ(scalar(*target, "SELECT sum(x) FROM t"), integer(500 * 501 / 2));
  EXPECT_EQ(error_of([&] { run(*target, "SELECT * FROM replaced"); }).kind, ErrorKind::Operational);
  // The target's engine lock was given back.
  ASSERT_TRUE(target_engine.try_lock());
  target_engine.unlock();
}

TEST(ConnectionBackup, CopiesEverythingWhenSteppingOnePageAtATime) {
  auto source = open_memory();
  source->execute_script(
      "CREATE TABLE big(b);"
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200) "
      "INSERT INTO big SELECT randomblob(1000) FROM c;");
  ASSERT_GT(std::get<std::int64_t>(scalar(*source, "PRAGMA page_count")), 20);
  auto target = open_memory();
  std::mutex target_engine;
  source->backup_to(*target, target_engine, "main", 1);
  EXPECT_EQ(count_rows(*target, "big"), 200);
  EXPECT_EQ(scalar(*target, "SELECT sum(length(b)) FROM big"), integer(200 * 1000));
}

TEST(ConnectionBackup, BackupToItselfIsProgramming) {
  auto connection = open_memory();
  std::mutex engine;
  EXPECT_EQ(error_of([&] { connection->backup_to(*connection, engine, "main", -1); }).kind, ErrorKind::Programming);
}

TEST(ConnectionBackup, ClosedTargetIsProgramming) {
  auto source = open_memory();
  Connection target;
  std::mutex engine;
  EXPECT_EQ(error_of([&] { source->backup_to(target, engine, "main", -1); }).kind, ErrorKind::Programming);
}

TEST(ConnectionBackup, UnknownSourceSchemaIsOperational) {
  auto source = open_memory();
  auto target = open_memory();
  std::mutex engine;
  const Error error = error_of([&] { source->backup_to(*target, engine, "nowhere", -1); });
  EXPECT_EQ(error.kind, ErrorKind::Operational);
  EXPECT_EQ(error.message, "unknown database nowhere");
}

// ---------------------------------------------------------------------------
// create_function

class Echo final : public ScalarFunction {
 public:
  Value call(const std::vector<Value>& arguments) override {
    ++calls;
    return arguments.at(0);
  }
  int calls = 0;
};

class Thrower final : public ScalarFunction {
 public:
  Value call(const std::vector<Value>&) override { throw std::runtime_error("boom from C++"); }
};

TEST(ConnectionFunction, ScalarFunctionRoundTripsEveryValueType) {
  auto connection = open_memory();
  auto echo = std::make_shared<Echo>();
  connection->create_function("echo", 1, true, echo);
  const std::vector<Value> values = {Null{},        integer(kMin),
                                     integer(kMax), 0.125,
                                     text(""),      text(std::string("x\0y", 3)),
                                     Blob{},        Blob{std::string("\xff\x00", 2)}};
  for (const auto& value : values) {
    const auto params = positional({value});
    EXPECT_EQ(scalar(*connection, "SELECT echo(?)", params), value);
  }
  EXPECT_EQ(echo->calls, static_cast<int>(values.size()));
}

TEST(ConnectionFunction, ReceivesAllArgumentsInOrder) {
  auto connection = open_memory();
  connection->create_function("join3", 3, false, test::make_function([](const std::vector<Value>& arguments) {
                                std::string joined;
                                for (const auto& argument : arguments) {
                                  joined += std::holds_alternative<std::int64_t>(argument)
                                                ? std::to_string(std::get<std::int64_t>(argument))
                                                : std::get<std::string>(argument);
                                }
                                return Value(joined);
                              }));
  EXPECT_EQ(scalar(*connection, "SELECT join3(1, 'two', 3)"), text("1two3"));
}

TEST(ConnectionFunction, ThrowingFunctionSurfacesItsMessageAndTheConnectionStaysUsable) {
  auto connection = open_memory();
  connection->create_function("explode", 0, false, std::make_shared<Thrower>());
  run(*connection, "CREATE TABLE t(x)");
  run(*connection, "INSERT INTO t VALUES (1)");

  const Error error = error_of([&] { run(*connection, "SELECT explode()"); });
  EXPECT_EQ(error.kind, ErrorKind::Operational);
  EXPECT_EQ(error.sqlite_code, SQLITE_ERROR);
  EXPECT_EQ(error.message, "boom from C++");

  EXPECT_EQ(scalar(*connection, "SELECT 1 + 1"), integer(2));
  EXPECT_TRUE(connection->in_transaction());
  connection->commit();
  EXPECT_EQ(count_rows(*connection, "t"), 1);
}

TEST(ConnectionFunction, NonStandardExceptionGetsAGenericMessage) {
  auto connection = open_memory();
  connection->create_function("odd", 0, false,
                              test::make_function([](const std::vector<Value>&) -> Value { throw 42; }));
  EXPECT_EQ(error_of([&] { run(*connection, "SELECT odd()"); }).message, "user-defined function raised exception");
}

TEST(ConnectionFunction, WrongArgumentCountIsOperational) {
  auto connection = open_memory();
  connection->create_function("echo", 1, true, std::make_shared<Echo>());
  const Error error = error_of([&] { run(*connection, "SELECT echo(1, 2)"); });
  EXPECT_EQ(error.kind, ErrorKind::Operational);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "wrong number of arguments", error.message);
}

TEST(ConnectionFunction, OnlyDeterministicFunctionsMayBeIndexed) {
  auto connection = open_memory();
  connection->create_function("stable", 1, true, std::make_shared<Echo>());
  connection->create_function("volatile_echo", 1, false, std::make_shared<Echo>());
  run(*connection, "CREATE TABLE t(x)");
  EXPECT_NO_THROW(run(*connection, "CREATE INDEX by_stable ON t(stable(x))"));
  const Error error = error_of([&] { run(*connection, "CREATE INDEX by_volatile ON t(volatile_echo(x))"); });
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "non-deterministic", error.message);
}

TEST(ConnectionFunction, FunctionIsReleasedWhenReplacedOrWhenTheConnectionCloses) {
  auto connection = open_memory();
  auto first = std::make_shared<Echo>();
  auto second = std::make_shared<Echo>();
  const std::weak_ptr<Echo> first_alive = first;
  const std::weak_ptr<Echo> second_alive = second;
  connection->create_function("f", 1, true, std::move(first));
  connection->create_function("f", 1, true, std::move(second));
  EXPECT_TRUE(first_alive.expired());
  EXPECT_EQ(scalar(*connection, "SELECT f(5)"), integer(5));
  EXPECT_EQ(second_alive.lock()->calls, 1);
  connection->close();
  EXPECT_TRUE(second_alive.expired());
}

// ---------------------------------------------------------------------------
// interrupt

TEST(ConnectionInterrupt, StopsALongRecursiveQueryRunningOnAnotherThread) {
  auto connection = open_memory();
  std::atomic<bool> finished{false};
  // Interrupting before the statement starts is forgotten by the engine, so
  // keep interrupting until the query gives up.
  std::thread interrupter([&] {
    while (!finished.load()) {
      connection->interrupt();
      std::this_thread::sleep_for(1ms);
    }
  });
  const Error error = error_of([&] { run(*connection, test::counting_query(std::int64_t{1} << 62)); });
  finished = true;
  interrupter.join();
  EXPECT_EQ(error.kind, ErrorKind::Operational);
  EXPECT_EQ(error.sqlite_code, SQLITE_INTERRUPT);
  EXPECT_EQ(error.message, "interrupted");
  EXPECT_EQ(scalar(*connection, "SELECT 1"), integer(1));
}

TEST(ConnectionInterrupt, InterruptWhileIdleDoesNotAffectTheNextStatement) {
  auto connection = open_memory();
  connection->interrupt();
  EXPECT_EQ(scalar(*connection, "SELECT 1"), integer(1));
}

// ---------------------------------------------------------------------------
// waiting for locks

TEST(BusyWait, FollowsTheEnginesScheduleAndGivesUpAtTheTimeout) {
  EXPECT_EQ(busy_wait_ms(0, 5000), 1);
  EXPECT_EQ(busy_wait_ms(3, 5000), 10);
  EXPECT_EQ(busy_wait_ms(20, 5000), 100);
  // 1028 ms waited by then: only the rest of the timeout is left.
  EXPECT_EQ(busy_wait_ms(19, 1050), 22);
  EXPECT_EQ(busy_wait_ms(20, 1050), 0);
  EXPECT_EQ(busy_wait_ms(0, 0), 0);
}

TEST(BusyWait, LongestTimeoutEndsInsteadOfOverflowing) {
  constexpr int kLongest = std::numeric_limits<int>::max();
  // About 24.8 days of 100 ms pauses; past them the time waited no longer
  // fits an int.
  constexpr int kAttemptsToTheEnd = kLongest / 100;
  EXPECT_EQ(busy_wait_ms(kAttemptsToTheEnd - 100, kLongest), 100);
  EXPECT_EQ(busy_wait_ms(kAttemptsToTheEnd + 20, kLongest), 0);
  EXPECT_EQ(busy_wait_ms(kLongest, kLongest), 0);
}

// ---------------------------------------------------------------------------
// inline reads

// Nothing in these tests comes near it: only the rule under test declines.
constexpr InlineBudget kGenerousBudget{1 << 30, std::chrono::hours(1), 1 << 30};

TEST(ConnectionInlineRead, TransactionControlAttachAndPragmasAreNeverRunInline) {
  auto connection = open_memory();
  for (const char* sql : {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "END", "ROLLBACK", "SAVEPOINT s", "RELEASE s",
                          "ATTACH ':memory:' AS other", "DETACH other", "PRAGMA user_version", "pragma schema_version",
                          "/* note */ Commit"}) {
    Params none;
    EXPECT_FALSE(connection->execute_read_within(sql, none, kEverything, kGenerousBudget).has_value()) << sql;
  }
  EXPECT_FALSE(connection->in_transaction());
  Params none;
  EXPECT_TRUE(connection->execute_read_within("SELECT 1", none, kEverything, kGenerousBudget).has_value());
}

TEST(ConnectionInlineRead, ValueLargerThanAChunkGoesToTheWorkerInsteadOfStallingTheCaller) {
  // One engine step builds the whole value, so no step budget could stop it.
  auto connection = open_memory();
  const char* sql = "SELECT length(hex(randomblob(4000000)))";
  const InlineBudget budget{kGenerousBudget.vm_steps, kGenerousBudget.time, kInlineBudget.largest_value};
  Params none;
  EXPECT_FALSE(connection->execute_read_within(sql, none, kEverything, budget).has_value());
  EXPECT_EQ(scalar(*connection, sql), integer(8000000));
  EXPECT_TRUE(connection->execute_read_within("SELECT 1", none, kEverything, kGenerousBudget).has_value());
}

TEST(ConnectionInlineRead, TimeBudgetStopsAStatementWithinItsStepBudget) {
  auto connection = open_memory();
  const auto sql = test::counting_query(1'000'000);
  const InlineBudget no_time{kGenerousBudget.vm_steps, std::chrono::microseconds(0), kGenerousBudget.largest_value};
  Params none;
  EXPECT_FALSE(connection->execute_read_within(sql, none, kEverything, no_time).has_value());
  EXPECT_EQ(scalar(*connection, sql), integer(1'000'000));
}

TEST(ConnectionInlineRead, LockedSchemaDeclinesAtOnceInsteadOfWaitingInPrepare) {
  test::TempDir directory;
  OpenOptions options;
  options.database = directory.file("locked.db");
  auto holder = open_connection(options);
  run(*holder, "CREATE TABLE t(x)");
  run(*holder, "BEGIN EXCLUSIVE");
  // A regression waits this long and then fails with SQLITE_BUSY.
  options.timeout_seconds = 10;
  auto reader = open_connection(options);
  Params none;
  EXPECT_FALSE(reader->execute_read_within("SELECT * FROM t", none, kEverything, kGenerousBudget).has_value());
  run(*holder, "COMMIT");
  EXPECT_EQ(count_rows(*reader, "t"), 0);
}

// ---------------------------------------------------------------------------
// libSQL vector SQL

TEST(ConnectionVector, VectorTopKReturnsTheNearestRowsInOrder) {
  auto connection = open_memory();
  connection->execute_script(
      "CREATE TABLE items(id INTEGER PRIMARY KEY, label TEXT, embedding F32_BLOB(3));"
      "CREATE INDEX items_embedding ON items(libsql_vector_idx(embedding));"
      "INSERT INTO items(label, embedding) VALUES"
      "  ('x', vector('[1, 0, 0]')),"
      "  ('y', vector('[0, 1, 0]')),"
      "  ('z', vector('[0, 0, 1]')),"
      "  ('xy', vector('[1, 1, 0]')),"
      "  ('-x', vector('[-1, 0, 0]'));");
  // By cosine distance from [1, 0.1, 0]: x, then xy, then y.
  const auto result = run(*connection,
                          "SELECT items.label FROM vector_top_k('items_embedding', vector('[1, 0.1, 0]'), 3) AS top "
                          "JOIN items ON items.rowid = top.id");
  ASSERT_EQ(result.rows.row_count(), 3u);
  EXPECT_EQ(value_at(result.rows, 0, 0), text("x"));
  EXPECT_EQ(value_at(result.rows, 1, 0), text("xy"));
  EXPECT_EQ(value_at(result.rows, 2, 0), text("y"));
}

TEST(ConnectionVector, F32BlobColumnStoresTwelveBytesForThreeDimensions) {
  auto connection = open_memory();
  run(*connection, "CREATE TABLE v(e F32_BLOB(3))");
  run(*connection, "INSERT INTO v VALUES (vector32(?))", positional({text("[0.5, -1, 2]")}));
  const auto result = run(*connection, "SELECT length(e), vector_extract(e) FROM v");
  ASSERT_EQ(result.rows.row_count(), 1u);
  EXPECT_EQ(value_at(result.rows, 0, 0), integer(12));
  EXPECT_EQ(value_at(result.rows, 0, 1), text("[0.5,-1,2]"));
}

}  // namespace
}  // namespace aiolibsql
