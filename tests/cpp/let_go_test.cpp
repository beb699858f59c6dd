// A connection or pool dropped without being closed: its close runs on the
// dropping thread only when it is short there, and it keeps every write.
#include "let_go.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "async_connection.hpp"
#include "connection.hpp"
#include "pool/pool.hpp"
#include "test_support.hpp"

namespace aiolibsql {
namespace {

using test::autocommit_file_options;
using test::TempDir;

std::shared_ptr<AsyncConnection> open_wal_connection(const std::string& path) {
  {
    auto setup = test::open_connection(autocommit_file_options(path));
    test::run(*setup, "PRAGMA journal_mode=WAL");
    test::run(*setup, "CREATE TABLE t(x)");
  }
  auto connection = std::make_shared<AsyncConnection>(autocommit_file_options(path));
  if (!connection->try_open_inline()) throw std::runtime_error("the connection did not open");
  return connection;
}

std::int64_t rows_in(const std::string& path) {
  auto check = test::open_connection(autocommit_file_options(path));
  return test::count_rows(*check, "t");
}

TEST(LetGo, AConnectionWhoseStatementStillRunsIsDestroyedOffTheDroppingThread) {
  TempDir dir;
  const auto path = dir.file("w.db");
  auto connection = open_wal_connection(path);
  test::Gate entered;
  test::Gate release;
  test::Recorder sink;
  connection->run(
      [&](Connection& engine) -> Outcome {
        test::run(engine, "INSERT INTO t VALUES (1)");
        entered.open();
        release.wait();
        return {};
      },
      sink, 1);
  ASSERT_TRUE(entered.wait());
  // Destroying the connection waits for the statement, which waits for the
  // release: letting it go returns first only if it is destroyed elsewhere.
  auto dropped = std::async(std::launch::async, [&] { let_go(std::move(connection)); });
  const bool returned_first = dropped.wait_for(test::kHangBound) == std::future_status::ready;
  release.open();
  dropped.get();
  EXPECT_TRUE(returned_first);
  // The last close checkpointed the log into the file and removed it.
  ASSERT_TRUE(test::eventually([&] { return !std::filesystem::exists(path + "-wal"); }));
  EXPECT_EQ(rows_in(path), 1);
}

TEST(LetGo, AnIdleConnectionWithAnEmptyLogIsClosedOnTheDroppingThread) {
  TempDir dir;
  const auto path = dir.file("w.db");
  auto connection = open_wal_connection(path);
  Params none;
  ASSERT_TRUE(connection->try_execute_inline("SELECT x FROM t", none).has_value());
  std::weak_ptr<AsyncConnection> watched = connection;
  let_go(std::move(connection));
  EXPECT_TRUE(watched.expired());
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST(LetGo, AConnectionWithLoggedFramesKeepsThemAll) {
  TempDir dir;
  const auto path = dir.file("w.db");
  auto connection = open_wal_connection(path);
  test::Recorder sink;
  for (int i = 0; i < 100; ++i) connection->execute("INSERT INTO t VALUES (1)", {}, sink, 1);
  ASSERT_TRUE(sink->wait_for(100));
  let_go(std::move(connection));
  ASSERT_TRUE(test::eventually([&] { return !std::filesystem::exists(path + "-wal"); }));
  EXPECT_EQ(rows_in(path), 100);
}

TEST(LetGo, AnOpenPoolIsClosedElsewhereAndKeepsItsWrites) {
  TempDir dir;
  PoolOptions options;
  options.database = dir.file("pool.db");
  options.size = 2;
  options.setup_statements = {"PRAGMA journal_mode = WAL"};
  auto pool = std::make_shared<Pool>(std::move(options));
  test::Recorder sink;
  pool->open(sink, 1);
  ASSERT_TRUE(sink->wait_for(1));
  pool->execute("CREATE TABLE t(x)", {}, sink, 2);
  ASSERT_TRUE(sink->wait_for(2));
  pool->execute("INSERT INTO t VALUES (1)", {}, sink, 3);
  ASSERT_TRUE(sink->wait_for(3));
  for (const auto& operation : sink->take()) ASSERT_EQ(test::error_in(*operation), nullptr);
  let_go(std::shared_ptr<PoolBackend>(std::move(pool)));
  ASSERT_TRUE(test::eventually([&] { return !std::filesystem::exists(dir.file("pool.db-wal")); }));
  EXPECT_EQ(rows_in(dir.file("pool.db")), 1);
}

}  // namespace
}  // namespace aiolibsql
