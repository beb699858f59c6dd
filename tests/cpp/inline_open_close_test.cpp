// Opening and closing on the caller's thread: only when that is sure to be
// short, and with the file left as a close on the worker leaves it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "async_connection.hpp"
#include "connection.hpp"
#include "test_support.hpp"

namespace aiolibsql {
namespace {

using test::autocommit_file_options;
using test::TempDir;

void make_wal_database(const std::string& path) {
  auto connection = test::open_connection(autocommit_file_options(path));
  test::run(*connection, "PRAGMA journal_mode=WAL");
  test::run(*connection, "CREATE TABLE t(x)");
  connection->close();
}

TEST(ClosesQuickly, OnlyWithoutATransactionAnAttachmentOrLoggedFrames) {
  TempDir dir;
  const auto path = dir.file("w.db");
  make_wal_database(path);
  auto connection = test::open_connection(autocommit_file_options(path));
  EXPECT_TRUE(connection->closes_quickly());  // no log open yet
  test::run(*connection, "SELECT count(*) FROM t");
  EXPECT_TRUE(connection->closes_quickly());  // an empty log: nothing to checkpoint
  test::run(*connection, "BEGIN");
  test::run(*connection, "SELECT count(*) FROM t");
  EXPECT_FALSE(connection->closes_quickly());  // a transaction to roll back
  test::run(*connection, "COMMIT");
  test::run(*connection, "INSERT INTO t VALUES (1)");
  EXPECT_FALSE(connection->closes_quickly());  // frames the last close would checkpoint
  auto reader = test::open_connection(autocommit_file_options(dir.file("r.db")));
  test::run(*reader, "ATTACH '" + dir.file("other.db") + "' AS other");
  EXPECT_FALSE(reader->closes_quickly());  // an attached database has its own log
}

TEST(InlineOpenAndClose, AFileWithoutAKeyOpensAndClosesOnTheCallersThread) {
  TempDir dir;
  const auto path = dir.file("w.db");
  make_wal_database(path);
  auto connection = std::make_shared<AsyncConnection>(autocommit_file_options(path));
  ASSERT_TRUE(connection->try_open_inline());
  Params none;
  const auto rows = connection->try_execute_inline("SELECT x FROM t", none);
  ASSERT_TRUE(rows.has_value());
  ASSERT_TRUE(connection->try_close_inline());
  EXPECT_TRUE(connection->is_closed());
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  test::Recorder sink;
  connection->execute("SELECT 1", {}, sink, 1);
  ASSERT_TRUE(sink->wait_for(1));
  EXPECT_NE(test::error_in(*sink->finished()[0]), nullptr);
}

TEST(InlineOpenAndClose, AKeyedOpenAndACloseWithLoggedFramesStayOnTheWorker) {
  TempDir dir;
  const auto path = dir.file("w.db");
  make_wal_database(path);
  OpenOptions keyed = autocommit_file_options(dir.file("keyed.db"));
  keyed.encryption_key = Secret("k");
  EXPECT_FALSE(std::make_shared<AsyncConnection>(std::move(keyed))->try_open_inline());

  auto connection = std::make_shared<AsyncConnection>(autocommit_file_options(path));
  ASSERT_TRUE(connection->try_open_inline());
  test::Recorder sink;
  connection->execute("INSERT INTO t VALUES (1)", {}, sink, 1);
  ASSERT_TRUE(sink->wait_for(1));
  EXPECT_FALSE(connection->try_close_inline());
  connection->close(sink, 2);
  ASSERT_TRUE(sink->wait_for(2));
  EXPECT_EQ(test::error_in(*sink->finished()[1]), nullptr);
  // The last close checkpointed the log into the file and removed it.
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  auto reader = test::open_connection(autocommit_file_options(path));
  EXPECT_EQ(test::scalar(*reader, "SELECT count(*) FROM t"), Value(std::int64_t{1}));
}

// A read run inline after the connection's first statement on its worker.
bool first_inline_read_runs(AsyncConnection& connection) {
  Params none;
  return connection.try_execute_inline("SELECT x FROM t", none).has_value();
}

void run_queued(AsyncConnection& connection, const char* sql) {
  test::Recorder sink;
  connection.execute(sql, {}, sink, 1);
  ASSERT_TRUE(sink->wait_for(1));
  ASSERT_EQ(test::error_in(*sink->finished()[0]), nullptr);
}

TEST(InlineReads, WaitForTheFirstStatementOnTheWorkerWhenALogWithFramesIsBesideTheFile) {
  TempDir dir;
  const auto path = dir.file("w.db");
  make_wal_database(path);
  auto writer = test::open_connection(autocommit_file_options(path));
  test::run(*writer, "PRAGMA wal_autocheckpoint=0");
  test::run(*writer, "INSERT INTO t VALUES (1)");
  // Left by a crashed writer, such a log is recovered by the first
  // transaction, which reads all of it: never on the caller's thread.
  auto connection = std::make_shared<AsyncConnection>(autocommit_file_options(path));
  ASSERT_TRUE(connection->try_open_inline());
  EXPECT_FALSE(first_inline_read_runs(*connection));
  run_queued(*connection, "SELECT 1");
  EXPECT_TRUE(first_inline_read_runs(*connection));
}

TEST(InlineReads, NeverRollBackAHotJournalThatACrashedWriterLeft) {
  TempDir dir;
  const auto path = dir.file("j.db");
  {
    auto setup = test::open_connection(autocommit_file_options(path));
    test::run(*setup, "CREATE TABLE t(x)");
    test::run(*setup, "INSERT INTO t VALUES (1)");
  }
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    alarm(60);  // guards against a hang in the child only
    // A transaction too big for the page cache writes pages into the file
    // before it commits; the process dies before it does.
    auto writer = test::open_connection(autocommit_file_options(path));
    test::run(*writer, "PRAGMA cache_size=1");
    test::run(*writer, "BEGIN");
    test::run(*writer, "INSERT INTO t SELECT value FROM generate_series(1, 20000)");
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  ASSERT_GT(std::filesystem::file_size(path + "-journal"), 0u);
  auto connection = std::make_shared<AsyncConnection>(autocommit_file_options(path));
  ASSERT_TRUE(connection->try_open_inline());
  EXPECT_FALSE(first_inline_read_runs(*connection));
  run_queued(*connection, "SELECT count(*) FROM t");
  EXPECT_TRUE(first_inline_read_runs(*connection));
  auto reader = test::open_connection(autocommit_file_options(path));
  EXPECT_EQ(test::scalar(*reader, "SELECT count(*) FROM t"), Value(std::int64_t{1}));
}

}  // namespace
}  // namespace aiolibsql
