// Statement preparation, parameter binding, the statement cache, and the
// classification of engine errors.
#include "statement.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "error.hpp"
#include "test_support.hpp"

namespace aiolibsql {
namespace {

using test::error_of;
using test::named;
using test::positional;
using test::prepared_sql;

// A bare engine handle: the statement layer sits below Connection, and these
// tests must see exactly the statements they prepare themselves.
class RawDatabase {
 public:
  RawDatabase() {
    if (sqlite3_open_v2(":memory:", &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
      throw std::runtime_error("cannot open an in-memory database");
    }
    sqlite3_extended_result_codes(db_, 1);
  }
  ~RawDatabase() { sqlite3_close_v2(db_); }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;

  sqlite3* get() const noexcept { return db_; }
  void exec(const char* sql) const {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message != nullptr ? message : "?";
      sqlite3_free(message);
      throw std::runtime_error(text);
    }
  }

 private:
  sqlite3* db_ = nullptr;
};

// Steps a bound statement once and reads its first column back.
Value first_value(Statement& statement) {
  EXPECT_EQ(sqlite3_step(statement.handle()), SQLITE_ROW);
  RowChunk rows(static_cast<std::size_t>(sqlite3_column_count(statement.handle())));
  rows.append_current_row(statement.handle());
  return test::value_at(rows, 0, 0);
}

std::vector<Value> row_values(Statement& statement) {
  EXPECT_EQ(sqlite3_step(statement.handle()), SQLITE_ROW);
  const auto columns = static_cast<std::size_t>(sqlite3_column_count(statement.handle()));
  RowChunk rows(columns);
  rows.append_current_row(statement.handle());
  std::vector<Value> values;
  for (std::size_t column = 0; column < columns; ++column) values.push_back(test::value_at(rows, 0, column));
  return values;
}

bool contains(const std::vector<std::string>& texts, std::string_view text) {
  return std::find(texts.begin(), texts.end(), text) != texts.end();
}

// ---------------------------------------------------------------------------
// Error classification

TEST(ResultCodeName, NamesPrimaryAndExtendedCodes) {
  EXPECT_STREQ(result_code_name(SQLITE_OK), "SQLITE_OK");
  EXPECT_STREQ(result_code_name(SQLITE_ERROR), "SQLITE_ERROR");
  EXPECT_STREQ(result_code_name(SQLITE_INTERRUPT), "SQLITE_INTERRUPT");
  EXPECT_STREQ(result_code_name(2067), "SQLITE_CONSTRAINT_UNIQUE");
  EXPECT_STREQ(result_code_name(SQLITE_CONSTRAINT_NOTNULL), "SQLITE_CONSTRAINT_NOTNULL");
  EXPECT_STREQ(result_code_name(SQLITE_IOERR_SHORT_READ), "SQLITE_IOERR_SHORT_READ");
}

TEST(ResultCodeName, ReportsCodesSqliteDoesNotDefineAsUnknown) {
  EXPECT_STREQ(result_code_name(-1), "SQLITE_UNKNOWN");
  EXPECT_STREQ(result_code_name(99), "SQLITE_UNKNOWN");
  EXPECT_STREQ(result_code_name(SQLITE_CONSTRAINT | (200 << 8)), "SQLITE_UNKNOWN");
}

TEST(ResultCodeName, KnowsEveryResultCodeTheEngineHeaderDefines) {
  // Spelled through the header's own macros so a renumbered or forgotten code
  // shows up as a mismatch rather than as a silently wrong name.
#define AIOLIBSQL_CODE(name) \
  { name, #name }
  const std::pair<int, const char*> codes[] = {
      AIOLIBSQL_CODE(SQLITE_OK),
      AIOLIBSQL_CODE(SQLITE_ERROR),
      AIOLIBSQL_CODE(SQLITE_INTERNAL),
      AIOLIBSQL_CODE(SQLITE_PERM),
      AIOLIBSQL_CODE(SQLITE_ABORT),
      AIOLIBSQL_CODE(SQLITE_BUSY),
      AIOLIBSQL_CODE(SQLITE_LOCKED),
      AIOLIBSQL_CODE(SQLITE_NOMEM),
      AIOLIBSQL_CODE(SQLITE_READONLY),
      AIOLIBSQL_CODE(SQLITE_INTERRUPT),
      AIOLIBSQL_CODE(SQLITE_IOERR),
      AIOLIBSQL_CODE(SQLITE_CORRUPT),
      AIOLIBSQL_CODE(SQLITE_NOTFOUND),
      AIOLIBSQL_CODE(SQLITE_FULL),
      AIOLIBSQL_CODE(SQLITE_CANTOPEN),
      AIOLIBSQL_CODE(SQLITE_PROTOCOL),
      AIOLIBSQL_CODE(SQLITE_EMPTY),
      AIOLIBSQL_CODE(SQLITE_SCHEMA),
      AIOLIBSQL_CODE(SQLITE_TOOBIG),
      AIOLIBSQL_CODE(SQLITE_CONSTRAINT),
      AIOLIBSQL_CODE(SQLITE_MISMATCH),
      AIOLIBSQL_CODE(SQLITE_MISUSE),
      AIOLIBSQL_CODE(SQLITE_NOLFS),
      AIOLIBSQL_CODE(SQLITE_AUTH),
      AIOLIBSQL_CODE(SQLITE_FORMAT),
      AIOLIBSQL_CODE(SQLITE_RANGE),
      AIOLIBSQL_CODE(SQLITE_NOTADB),
      AIOLIBSQL_CODE(SQLITE_NOTICE),
      AIOLIBSQL_CODE(SQLITE_WARNING),
      AIOLIBSQL_CODE(SQLITE_ROW),
      AIOLIBSQL_CODE(SQLITE_DONE),
      AIOLIBSQL_CODE(SQLITE_ERROR_MISSING_COLLSEQ),
      AIOLIBSQL_CODE(SQLITE_ERROR_RETRY),
      AIOLIBSQL_CODE(SQLITE_ERROR_SNAPSHOT),
      AIOLIBSQL_CODE(SQLITE_IOERR_READ),
      AIOLIBSQL_CODE(SQLITE_IOERR_SHORT_READ),
      AIOLIBSQL_CODE(SQLITE_IOERR_WRITE),
      AIOLIBSQL_CODE(SQLITE_IOERR_FSYNC),
      AIOLIBSQL_CODE(SQLITE_IOERR_DIR_FSYNC),
      AIOLIBSQL_CODE(SQLITE_IOERR_TRUNCATE),
      AIOLIBSQL_CODE(SQLITE_IOERR_FSTAT),
      AIOLIBSQL_CODE(SQLITE_IOERR_UNLOCK),
      AIOLIBSQL_CODE(SQLITE_IOERR_RDLOCK),
      AIOLIBSQL_CODE(SQLITE_IOERR_DELETE),
      AIOLIBSQL_CODE(SQLITE_IOERR_BLOCKED),
      AIOLIBSQL_CODE(SQLITE_IOERR_NOMEM),
      AIOLIBSQL_CODE(SQLITE_IOERR_ACCESS),
      AIOLIBSQL_CODE(SQLITE_IOERR_CHECKRESERVEDLOCK),
      AIOLIBSQL_CODE(SQLITE_IOERR_LOCK),
      AIOLIBSQL_CODE(SQLITE_IOERR_CLOSE),
      AIOLIBSQL_CODE(SQLITE_IOERR_DIR_CLOSE),
      AIOLIBSQL_CODE(SQLITE_IOERR_SHMOPEN),
      AIOLIBSQL_CODE(SQLITE_IOERR_SHMSIZE),
      AIOLIBSQL_CODE(SQLITE_IOERR_SHMLOCK),
      AIOLIBSQL_CODE(SQLITE_IOERR_SHMMAP),
      AIOLIBSQL_CODE(SQLITE_IOERR_SEEK),
      AIOLIBSQL_CODE(SQLITE_IOERR_DELETE_NOENT),
      AIOLIBSQL_CODE(SQLITE_IOERR_MMAP),
      AIOLIBSQL_CODE(SQLITE_IOERR_GETTEMPPATH),
      AIOLIBSQL_CODE(SQLITE_IOERR_CONVPATH),
      AIOLIBSQL_CODE(SQLITE_IOERR_VNODE),
      AIOLIBSQL_CODE(SQLITE_IOERR_AUTH),
      AIOLIBSQL_CODE(SQLITE_IOERR_BEGIN_ATOMIC),
      AIOLIBSQL_CODE(SQLITE_IOERR_COMMIT_ATOMIC),
      AIOLIBSQL_CODE(SQLITE_IOERR_ROLLBACK_ATOMIC),
      AIOLIBSQL_CODE(SQLITE_IOERR_DATA),
      AIOLIBSQL_CODE(SQLITE_IOERR_CORRUPTFS),
      AIOLIBSQL_CODE(SQLITE_IOERR_IN_PAGE),
      AIOLIBSQL_CODE(SQLITE_LOCKED_SHAREDCACHE),
      AIOLIBSQL_CODE(SQLITE_LOCKED_VTAB),
      AIOLIBSQL_CODE(SQLITE_BUSY_RECOVERY),
      AIOLIBSQL_CODE(SQLITE_BUSY_SNAPSHOT),
      AIOLIBSQL_CODE(SQLITE_BUSY_TIMEOUT),
      AIOLIBSQL_CODE(SQLITE_CANTOPEN_NOTEMPDIR),
      AIOLIBSQL_CODE(SQLITE_CANTOPEN_ISDIR),
      AIOLIBSQL_CODE(SQLITE_CANTOPEN_FULLPATH),
      AIOLIBSQL_CODE(SQLITE_CANTOPEN_CONVPATH),
      AIOLIBSQL_CODE(SQLITE_CANTOPEN_DIRTYWAL),
      AIOLIBSQL_CODE(SQLITE_CANTOPEN_SYMLINK),
      AIOLIBSQL_CODE(SQLITE_CORRUPT_VTAB),
      AIOLIBSQL_CODE(SQLITE_CORRUPT_SEQUENCE),
      AIOLIBSQL_CODE(SQLITE_CORRUPT_INDEX),
      AIOLIBSQL_CODE(SQLITE_READONLY_RECOVERY),
      AIOLIBSQL_CODE(SQLITE_READONLY_CANTLOCK),
      AIOLIBSQL_CODE(SQLITE_READONLY_ROLLBACK),
      AIOLIBSQL_CODE(SQLITE_READONLY_DBMOVED),
      AIOLIBSQL_CODE(SQLITE_READONLY_CANTINIT),
      AIOLIBSQL_CODE(SQLITE_READONLY_DIRECTORY),
      AIOLIBSQL_CODE(SQLITE_ABORT_ROLLBACK),
      AIOLIBSQL_CODE(SQLITE_CONSTRAINT_CHECK),
      AIOLIBSQL_CODE(SQLITE_CONSTRAINT_COMMITHOOK),
      AIOLIBSQL_CODE(SQLITE_CONSTRAINT_FOREIGNKEY),
      AIOLIBSQL_CODE(SQLITE_CONSTRAINT_FUNCTION),
      AIOLIBSQL_CODE(SQLITE_CONSTRAINT_NOTNULL),
      AIOLIBSQL_CODE(SQLITE_CONSTRAINT_PRIMARYKEY),
      AIOLIBSQL_CODE(SQLITE_CONSTRAINT_TRIGGER),
      AIOLIBSQL_CODE(SQLITE_CONSTRAINT_UNIQUE),
      AIOLIBSQL_CODE(SQLITE_CONSTRAINT_VTAB),
      AIOLIBSQL_CODE(SQLITE_CONSTRAINT_ROWID),
      AIOLIBSQL_CODE(SQLITE_CONSTRAINT_PINNED),
      AIOLIBSQL_CODE(SQLITE_CONSTRAINT_DATATYPE),
      AIOLIBSQL_CODE(SQLITE_NOTICE_RECOVER_WAL),
      AIOLIBSQL_CODE(SQLITE_NOTICE_RECOVER_ROLLBACK),
      AIOLIBSQL_CODE(SQLITE_NOTICE_RBU),
      AIOLIBSQL_CODE(SQLITE_WARNING_AUTOINDEX),
      AIOLIBSQL_CODE(SQLITE_AUTH_USER),
      AIOLIBSQL_CODE(SQLITE_OK_LOAD_PERMANENTLY),
      AIOLIBSQL_CODE(SQLITE_OK_SYMLINK),
  };
#undef AIOLIBSQL_CODE
  for (const auto& [code, name] : codes) EXPECT_STREQ(result_code_name(code), name) << "code " << code;
}

TEST(ErrorKindFor, ClassifiesByPrimaryCodeAsCPythonSqlite3Does) {
  const std::pair<int, ErrorKind> expected[] = {
      {SQLITE_INTERNAL, ErrorKind::Internal},    {SQLITE_NOTFOUND, ErrorKind::Internal},
      {SQLITE_NOMEM, ErrorKind::Memory},         {SQLITE_ERROR, ErrorKind::Operational},
      {SQLITE_PERM, ErrorKind::Operational},     {SQLITE_ABORT, ErrorKind::Operational},
      {SQLITE_BUSY, ErrorKind::Operational},     {SQLITE_LOCKED, ErrorKind::Operational},
      {SQLITE_READONLY, ErrorKind::Operational}, {SQLITE_INTERRUPT, ErrorKind::Operational},
      {SQLITE_IOERR, ErrorKind::Operational},    {SQLITE_FULL, ErrorKind::Operational},
      {SQLITE_CANTOPEN, ErrorKind::Operational}, {SQLITE_PROTOCOL, ErrorKind::Operational},
      {SQLITE_EMPTY, ErrorKind::Operational},    {SQLITE_SCHEMA, ErrorKind::Operational},
      {SQLITE_CORRUPT, ErrorKind::Database},     {SQLITE_NOTADB, ErrorKind::Database},
      {SQLITE_TOOBIG, ErrorKind::Data},          {SQLITE_CONSTRAINT, ErrorKind::Integrity},
      {SQLITE_MISMATCH, ErrorKind::Integrity},   {SQLITE_MISUSE, ErrorKind::Interface},
      {SQLITE_RANGE, ErrorKind::Interface},      {SQLITE_NOLFS, ErrorKind::Database},
      {SQLITE_AUTH, ErrorKind::Database},        {SQLITE_FORMAT, ErrorKind::Database},
      {SQLITE_NOTICE, ErrorKind::Database},      {SQLITE_WARNING, ErrorKind::Database},
  };
  for (const auto& [code, kind] : expected) EXPECT_EQ(error_kind_for(code), kind) << result_code_name(code);
}

TEST(ErrorKindFor, ClassifiesExtendedCodesByTheirPrimaryCode) {
  EXPECT_EQ(error_kind_for(SQLITE_CONSTRAINT_UNIQUE), ErrorKind::Integrity);
  EXPECT_EQ(error_kind_for(SQLITE_IOERR_SHORT_READ), ErrorKind::Operational);
  EXPECT_EQ(error_kind_for(SQLITE_BUSY_TIMEOUT), ErrorKind::Operational);
  EXPECT_EQ(error_kind_for(SQLITE_CORRUPT_INDEX), ErrorKind::Database);
}

TEST(EngineError, PrefersTheCallsOwnCodeWhenTheConnectionsCodeIsStale) {
  RawDatabase db;
  db.exec("CREATE TABLE t(x UNIQUE); INSERT INTO t VALUES (1)");
  EXPECT_NE(sqlite3_exec(db.get(), "INSERT INTO t VALUES (1)", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_extended_errcode(db.get()), SQLITE_CONSTRAINT_UNIQUE);

  const Error same_primary = engine_error(db.get(), SQLITE_CONSTRAINT);
  EXPECT_EQ(same_primary.sqlite_code, SQLITE_CONSTRAINT_UNIQUE);
  EXPECT_EQ(same_primary.kind, ErrorKind::Integrity);

  const Error other_primary = engine_error(db.get(), SQLITE_MISUSE);
  EXPECT_EQ(other_primary.sqlite_code, SQLITE_MISUSE);
  EXPECT_EQ(other_primary.kind, ErrorKind::Interface);
}

TEST(EngineError, WithoutAConnectionUsesTheCodesOwnDescription) {
  const Error error = engine_error(nullptr, SQLITE_BUSY);
  EXPECT_EQ(error.kind, ErrorKind::Operational);
  EXPECT_EQ(error.sqlite_code, SQLITE_BUSY);
  EXPECT_EQ(error.message, sqlite3_errstr(SQLITE_BUSY));
}

TEST(DbError, CarriesItsErrorAndMessage) {
  const DbError error(ErrorKind::Programming, "bad call");
  EXPECT_STREQ(error.what(), "bad call");
  EXPECT_EQ(error.error().kind, ErrorKind::Programming);
  EXPECT_EQ(error.error().sqlite_code, -1);
}

// ---------------------------------------------------------------------------
// Preparing

TEST(Statement, SyntaxErrorIsOperationalWithSqliteError) {
  RawDatabase db;
  const Error error = error_of([&] { Statement statement(db.get(), "SELEC 1"); });
  EXPECT_EQ(error.kind, ErrorKind::Operational);
  EXPECT_EQ(error.sqlite_code, SQLITE_ERROR);
  EXPECT_STREQ(result_code_name(error.sqlite_code), "SQLITE_ERROR");
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "syntax error", error.message);
}

TEST(Statement, UnknownTableIsOperationalAndNamesTheTable) {
  RawDatabase db;
  const Error error = error_of([&] { Statement statement(db.get(), "SELECT * FROM missing_table"); });
  EXPECT_EQ(error.kind, ErrorKind::Operational);
  EXPECT_EQ(error.sqlite_code, SQLITE_ERROR);
  EXPECT_EQ(error.message, "no such table: missing_table");
}

TEST(Statement, ACountOfAWholeTableIsNotAPlainRead) {
  // The engine counts the table in one step, inside which no step budget
  // can stop it: it must not run on the caller's thread.
  RawDatabase db;
  db.exec("CREATE TABLE t(x)");
  EXPECT_FALSE(Statement(db.get(), "SELECT count(*) FROM t").is_plain_read());
  EXPECT_FALSE(Statement(db.get(), "select COUNT( * ) from t").is_plain_read());
  EXPECT_FALSE(Statement(db.get(), "SELECT (SELECT count(*) FROM t) + 1").is_plain_read());
  db.exec("CREATE VIEW counted AS SELECT count(*) AS n FROM t");
  EXPECT_FALSE(Statement(db.get(), "SELECT n FROM counted").is_plain_read());
  // Counts the engine steps row by row are budgeted as any read is.
  EXPECT_TRUE(Statement(db.get(), "SELECT count(*) FROM t WHERE x = 1").is_plain_read());
  EXPECT_TRUE(Statement(db.get(), "SELECT count(x) FROM t").is_plain_read());
  EXPECT_TRUE(Statement(db.get(), "SELECT x AS counted FROM t").is_plain_read());
  EXPECT_TRUE(Statement(db.get(), "SELECT x FROM t").is_plain_read());
  // Listing the program leaves the statement as it was.
  Statement listed(db.get(), "SELECT 7 AS seven");
  ASSERT_TRUE(listed.is_plain_read());
  ASSERT_EQ(sqlite3_step(listed.handle()), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_count(listed.handle()), 1);
  EXPECT_EQ(sqlite3_column_int(listed.handle(), 0), 7);
  EXPECT_STREQ(sqlite3_column_name(listed.handle(), 0), "seven");
}

TEST(Statement, MoreThanOneStatementIsProgramming) {
  RawDatabase db;
  const Error error = error_of([&] { Statement statement(db.get(), "SELECT 1; SELECT 2"); });
  EXPECT_EQ(error.kind, ErrorKind::Programming);
  EXPECT_EQ(error.sqlite_code, -1);
  EXPECT_EQ(error.message, "You can only execute one statement at a time.");
}

TEST(Statement, TrailingSemicolonWhitespaceAndCommentsStillMakeOneStatement) {
  RawDatabase db;
  Statement statement(db.get(), "  SELECT 1; -- the answer\n /* and nothing else */ \t\n");
  EXPECT_FALSE(statement.is_empty());
  EXPECT_EQ(first_value(statement), Value(std::int64_t{1}));
}

TEST(Statement, NulCharacterInSqlIsProgramming) {
  RawDatabase db;
  constexpr std::string_view trailing("SELECT 1\0", 9);
  constexpr std::string_view in_literal("SELECT 'a\0b'", 12);
  for (const auto sql : {trailing, in_literal}) {
    const Error error = error_of([&] { Statement statement(db.get(), sql); });
    EXPECT_EQ(error.kind, ErrorKind::Programming);
    EXPECT_EQ(error.sqlite_code, -1);
  }
}

TEST(Statement, EmptyOrCommentOnlySqlPreparesToANoOp) {
  RawDatabase db;
  for (const std::string_view sql : {"", "   \n\t", "-- nothing here", "/* nothing */", ";", " ; -- x"}) {
    Statement statement(db.get(), sql);
    EXPECT_TRUE(statement.is_empty()) << '"' << sql << '"';
    EXPECT_EQ(statement.handle(), nullptr);
    EXPECT_EQ(statement.columns(), nullptr);
    EXPECT_FALSE(statement.is_dml());
    EXPECT_NO_THROW(statement.bind({}));
    statement.reset();
  }
}

TEST(Statement, ClassifiesInsertUpdateDeleteReplaceAndWritingWithAsDml) {
  RawDatabase db;
  db.exec("CREATE TABLE t(x)");
  for (const std::string_view sql :
       {"INSERT INTO t VALUES (1)", "insert into t values (1)", "UPDATE t SET x = 2", "DELETE FROM t",
        "REPLACE INTO t VALUES (3)", "  -- leading comment\n/* and another */ Insert INTO t VALUES (4)",
        "WITH v(y) AS (SELECT 5) INSERT INTO t SELECT y FROM v"}) {
    Statement statement(db.get(), sql);
    EXPECT_TRUE(statement.is_dml()) << sql;
    EXPECT_FALSE(statement.is_readonly()) << sql;
  }
}

TEST(Statement, DoesNotClassifyQueriesOrSchemaChangesAsDml) {
  RawDatabase db;
  db.exec("CREATE TABLE t(x)");
  for (const std::string_view sql : {"SELECT * FROM t", "WITH v(y) AS (SELECT 1) SELECT y FROM v", "CREATE TABLE u(y)",
                                     "DROP TABLE t", "PRAGMA user_version", "BEGIN"}) {
    Statement statement(db.get(), sql);
    EXPECT_FALSE(statement.is_dml()) << sql;
  }
  EXPECT_TRUE(Statement(db.get(), "SELECT * FROM t").is_readonly());
  EXPECT_FALSE(Statement(db.get(), "CREATE TABLE u(y)").is_readonly());
}

TEST(Statement, DescribesColumnNamesAndDeclaredTypes) {
  RawDatabase db;
  db.exec("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, payload)");
  Statement statement(db.get(), "SELECT id, name AS label, payload, 1 + 1 AS two FROM t");
  ASSERT_NE(statement.columns(), nullptr);
  EXPECT_EQ(statement.columns()->names, (std::vector<std::string>{"id", "label", "payload", "two"}));
  EXPECT_EQ(statement.columns()->decltypes, (std::vector<std::string>{"INTEGER", "TEXT", "", ""}));
}

TEST(Statement, StatementWithoutResultColumnsHasNoColumns) {
  RawDatabase db;
  db.exec("CREATE TABLE t(x)");
  Statement statement(db.get(), "INSERT INTO t VALUES (1)");
  EXPECT_EQ(statement.columns(), nullptr);
}

// ---------------------------------------------------------------------------
// Binding. Statement::bind lends TEXT and BLOB bytes to the engine rather than
// copying them, so each test keeps its Params alive while it steps.

TEST(StatementBind, PositionalValuesFillQuestionMarksInOrder) {
  RawDatabase db;
  Statement statement(db.get(), "SELECT ?, ?, ?");
  const auto params = positional({std::int64_t{1}, std::string("two"), 3.5});
  statement.bind(params);
  EXPECT_EQ(row_values(statement), (std::vector<Value>{std::int64_t{1}, std::string("two"), 3.5}));
}

TEST(StatementBind, NumberedPlaceholdersTakePositionalValuesByNumber) {
  RawDatabase db;
  Statement statement(db.get(), "SELECT ?2, ?1");
  const auto params = positional({std::string("first"), std::string("second")});
  statement.bind(params);
  EXPECT_EQ(row_values(statement), (std::vector<Value>{std::string("second"), std::string("first")}));
}

TEST(StatementBind, TooFewOrTooManyPositionalValuesIsProgramming) {
  RawDatabase db;
  Statement statement(db.get(), "SELECT ?, ?");
  for (auto count : {0, 1, 3}) {
    const Error error = error_of([&] { statement.bind(positional(std::vector<Value>(count, Null{}))); });
    EXPECT_EQ(error.kind, ErrorKind::Programming) << count;
    EXPECT_EQ(error.message, "Incorrect number of bindings supplied. The current statement uses 2, and there are " +
                                 std::to_string(count) + " supplied.");
  }
}

TEST(StatementBind, ValuesForAStatementWithoutPlaceholdersIsProgramming) {
  RawDatabase db;
  Statement statement(db.get(), "SELECT 1");
  EXPECT_EQ(error_of([&] { statement.bind(positional({std::int64_t{1}})); }).kind, ErrorKind::Programming);
}

TEST(StatementBind, NamedValuesMatchColonAtAndDollarPlaceholdersWithoutPrefix) {
  RawDatabase db;
  Statement statement(db.get(), "SELECT :a, @b, $c");
  // Supplied in a different order from the placeholders: lookup is by name.
  const auto params = named({{"c", std::string("dollar")}, {"a", std::int64_t{1}}, {"b", 2.5}});
  statement.bind(params);
  EXPECT_EQ(row_values(statement), (std::vector<Value>{std::int64_t{1}, 2.5, std::string("dollar")}));
}

TEST(StatementBind, RepeatedNamedPlaceholderTakesOneValue) {
  RawDatabase db;
  Statement statement(db.get(), "SELECT :x + :x");
  const auto params = named({{"x", std::int64_t{21}}});
  statement.bind(params);
  EXPECT_EQ(first_value(statement), Value(std::int64_t{42}));
}

TEST(StatementBind, NamedValuesNotUsedByTheStatementAreIgnored) {
  RawDatabase db;
  Statement statement(db.get(), "SELECT :a");
  const auto params = named({{"a", std::int64_t{1}}, {"unused", std::int64_t{2}}});
  statement.bind(params);
  EXPECT_EQ(first_value(statement), Value(std::int64_t{1}));
}

TEST(StatementBind, MissingNameIsProgrammingAndNamesThePlaceholder) {
  RawDatabase db;
  Statement statement(db.get(), "SELECT :a, :b");
  const Error error = error_of([&] { statement.bind(named({{"a", std::int64_t{1}}})); });
  EXPECT_EQ(error.kind, ErrorKind::Programming);
  EXPECT_EQ(error.message, "You did not supply a value for binding parameter :b.");
}

TEST(StatementBind, NamedValuesForAnonymousPlaceholderIsProgramming) {
  RawDatabase db;
  Statement statement(db.get(), "SELECT ?");
  const Error error = error_of([&] { statement.bind(named({{"1", std::int64_t{1}}})); });
  EXPECT_EQ(error.kind, ErrorKind::Programming);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "has no name", error.message);
}

TEST(StatementBind, PositionalValuesMayFillNamedPlaceholdersInOrder) {
  RawDatabase db;
  Statement statement(db.get(), "SELECT :a, :b");
  const auto params = positional({std::int64_t{1}, std::int64_t{2}});
  statement.bind(params);
  EXPECT_EQ(row_values(statement), (std::vector<Value>{std::int64_t{1}, std::int64_t{2}}));
}

TEST(Statement, ResetRewindsAndClearsBindings) {
  RawDatabase db;
  Statement statement(db.get(), "SELECT ?");
  const auto params = positional({std::int64_t{7}});
  statement.bind(params);
  EXPECT_EQ(first_value(statement), Value(std::int64_t{7}));
  statement.reset();
  EXPECT_EQ(sqlite3_stmt_busy(statement.handle()), 0);
  EXPECT_EQ(first_value(statement), Value(Null{}));
}

// ---------------------------------------------------------------------------
// StatementCache

TEST(StatementCache, HandsTheSameStatementToSuccessiveUsersOfTheSameSql) {
  RawDatabase db;
  StatementCache cache(db.get(), 4);
  const Statement* first = nullptr;
  {
    auto lease = cache.lease("SELECT 1");
    first = &*lease;
  }
  auto lease = cache.lease("SELECT 1");
  EXPECT_EQ(&*lease, first);
  EXPECT_EQ(prepared_sql(db.get()).size(), 1u);
}

TEST(StatementCache, HandsASecondUserOfBusySqlAFreshStatement) {
  RawDatabase db;
  StatementCache cache(db.get(), 4);
  auto first = cache.lease("SELECT ?");
  auto second = cache.lease("SELECT ?");
  EXPECT_NE(&*first, &*second);
  EXPECT_EQ(prepared_sql(db.get()).size(), 2u);

  // Each lease binds and steps its own statement without disturbing the other.
  const auto first_params = positional({std::int64_t{1}});
  first->bind(first_params);
  const auto second_params = positional({std::int64_t{2}});
  second->bind(second_params);
  EXPECT_EQ(first_value(*first), Value(std::int64_t{1}));
  EXPECT_EQ(first_value(*second), Value(std::int64_t{2}));
}

TEST(StatementCache, FinalizesTheFreshStatementOfASecondUserWhenGivenBack) {
  RawDatabase db;
  StatementCache cache(db.get(), 4);
  auto first = cache.lease("SELECT 1");
  { auto second = cache.lease("SELECT 1"); }
  EXPECT_EQ(prepared_sql(db.get()).size(), 1u);
  const Statement* cached = &*first;
  first = StatementLease();
  auto again = cache.lease("SELECT 1");
  EXPECT_EQ(&*again, cached);
}

TEST(StatementCache, EvictsTheLeastRecentlyUsedStatementWhenFull) {
  RawDatabase db;
  StatementCache cache(db.get(), 2);
  { auto lease = cache.lease("SELECT 'a'"); }
  { auto lease = cache.lease("SELECT 'b'"); }
  // Using 'a' again makes 'b' the least recently used.
  { auto lease = cache.lease("SELECT 'a'"); }
  { auto lease = cache.lease("SELECT 'c'"); }
  const auto texts = prepared_sql(db.get());
  EXPECT_EQ(texts.size(), 2u);
  EXPECT_TRUE(contains(texts, "SELECT 'a'"));
  EXPECT_TRUE(contains(texts, "SELECT 'c'"));
  EXPECT_FALSE(contains(texts, "SELECT 'b'"));
}

TEST(StatementCache, NeverEvictsAStatementOnLease) {
  RawDatabase db;
  StatementCache cache(db.get(), 1);
  auto held = cache.lease("SELECT 'held'");
  {
    auto other = cache.lease("SELECT 'other'");
    EXPECT_EQ(first_value(*other), Value(std::string("other")));
  }
  // With the only slot on lease, the other statement was not cached.
  EXPECT_EQ(prepared_sql(db.get()), (std::vector<std::string>{"SELECT 'held'"}));
  EXPECT_EQ(first_value(*held), Value(std::string("held")));
}

TEST(StatementCache, CapacityZeroCachesNothing) {
  RawDatabase db;
  StatementCache cache(db.get(), 0);
  {
    auto lease = cache.lease("SELECT 1");
    EXPECT_EQ(first_value(*lease), Value(std::int64_t{1}));
  }
  EXPECT_TRUE(prepared_sql(db.get()).empty());
}

TEST(StatementCache, ClearFinalizesIdleStatementsButKeepsThoseOnLease) {
  RawDatabase db;
  StatementCache cache(db.get(), 4);
  { auto idle = cache.lease("SELECT 'idle'"); }
  auto held = cache.lease("SELECT 'held'");
  cache.clear();
  EXPECT_EQ(prepared_sql(db.get()), (std::vector<std::string>{"SELECT 'held'"}));
  EXPECT_EQ(first_value(*held), Value(std::string("held")));
}

TEST(StatementCache, GivesStatementsBackRewoundWithBindingsCleared) {
  RawDatabase db;
  StatementCache cache(db.get(), 4);
  {
    auto lease = cache.lease("SELECT ?");
    const auto params = positional({std::string("stale")});
    lease->bind(params);
    EXPECT_EQ(first_value(*lease), Value(std::string("stale")));
  }
  auto lease = cache.lease("SELECT ?");
  EXPECT_EQ(sqlite3_stmt_busy(lease->handle()), 0);
  EXPECT_EQ(first_value(*lease), Value(Null{}));
}

TEST(StatementCache, FailedPrepareCachesNothingAndPropagatesTheError) {
  RawDatabase db;
  StatementCache cache(db.get(), 4);
  EXPECT_EQ(error_of([&] { cache.lease("SELEC 1"); }).kind, ErrorKind::Operational);
  EXPECT_EQ(error_of([&] { cache.lease("SELECT 1; SELECT 2"); }).kind, ErrorKind::Programming);
  EXPECT_TRUE(prepared_sql(db.get()).empty());
}

TEST(StatementLease, MovedLeaseKeepsTheStatementUntilTheNewOwnerGivesItBack) {
  RawDatabase db;
  StatementCache cache(db.get(), 4);
  auto original = cache.lease("SELECT 1");
  const Statement* cached = &*original;
  StatementLease moved = std::move(original);
  {
    // Still on lease through `moved`, so another user gets a fresh statement.
    auto other = cache.lease("SELECT 1");
    EXPECT_NE(&*other, cached);
  }
  moved = StatementLease();
  auto again = cache.lease("SELECT 1");
  EXPECT_EQ(&*again, cached);
}

TEST(StatementLease, MoveAssignmentGivesBackTheStatementItReplaces) {
  RawDatabase db;
  StatementCache cache(db.get(), 4);
  auto lease = cache.lease("SELECT 'a'");
  const Statement* a = &*lease;
  lease = cache.lease("SELECT 'b'");
  auto again = cache.lease("SELECT 'a'");
  EXPECT_EQ(&*again, a);
}

}  // namespace
}  // namespace aiolibsql
