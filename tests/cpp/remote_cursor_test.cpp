// Reads through Hrana cursors: rows arrive as they are fetched, whatever
// else the connection is asked to do meanwhile, and no fault or cancel
// loses rows or the connection.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "remote_test_support.hpp"

namespace aiolibsql::remote {
namespace {

using namespace aiolibsql::remote::testing;
using namespace std::chrono_literals;

constexpr std::size_t kManyRows = 30'000;

class RemoteCursorTest : public RemoteConnectionTest {
 protected:
  // Every pipeline gets one row and a closed stream; every cursor `rows`
  // rows on a stream whose next baton is "c1".
  void serve_rows(std::size_t rows) {
    serve(
        [](const std::string&) {
          return pipeline("", {std::string(kOneRow), std::string(kClosed)});
        },
        [rows](const std::string&) { return Reply::http(200, cursor_answer("c1", rows), "text/plain"); });
  }

  Outcome fetch(const std::shared_ptr<OpenCursor>& rows, std::uintptr_t tag = 9) {
    auto waiter = std::make_shared<CompletionWaiter>();
    rows->fetch(rows, waiter, tag);
    return wait(waiter);
  }

  // The values of a one-column result from `first` on, fetched to its end;
  // each chunk's size goes to `chunks`.
  std::vector<std::int64_t> read_to_end(QueryResult first, std::vector<std::size_t>* chunks = nullptr) {
    std::vector<std::int64_t> values;
    QueryResult chunk = std::move(first);
    while (true) {
      for (std::size_t row = 0; row < chunk.rows.row_count(); ++row) values.push_back(chunk.rows.cell(row, 0).integer);
      if (chunks != nullptr) chunks->push_back(chunk.rows.row_count());
      if (!chunk.open_cursor) return values;
      Outcome next = fetch(chunk.open_cursor);
      if (!std::holds_alternative<QueryResult>(next)) {
        ADD_FAILURE() << "a fetch failed: " << std::get<Error>(next).message;
        return values;
      }
      chunk = std::move(std::get<QueryResult>(next));
    }
  }

  static std::vector<std::int64_t> counting_to(std::size_t last) {
    std::vector<std::int64_t> values(last);
    for (std::size_t i = 0; i < last; ++i) values[i] = static_cast<std::int64_t>(i + 1);
    return values;
  }
};

TEST_F(RemoteCursorTest, ALargeResultArrivesChunkByChunkAsItIsFetched) {
  serve_rows(kManyRows);
  auto connection = connect();
  auto first = std::get<QueryResult>(execute(*connection, "SELECT x FROM t"));
  EXPECT_LT(first.rows.row_count(), kManyRows);
  ASSERT_NE(first.open_cursor, nullptr);
  std::vector<std::size_t> chunks;
  EXPECT_EQ(read_to_end(std::move(first), &chunks), counting_to(kManyRows));
  EXPECT_GT(chunks.size(), 2u);
  for (const std::size_t rows : chunks) EXPECT_LT(rows, 2 * kNextChunk.max_rows);
}

TEST_F(RemoteCursorTest, AStatementQueuedBehindAnOpenResultMakesItReadTheRestFirst) {
  serve_rows(kManyRows);
  auto connection = connect();
  auto first = std::get<QueryResult>(execute(*connection, "SELECT x FROM t"));
  ASSERT_NE(first.open_cursor, nullptr);
  // The cursor holds the stream until its answer ends; paused, it would never.
  ASSERT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "DROP TABLE IF EXISTS u")));
  EXPECT_EQ(read_to_end(std::move(first)), counting_to(kManyRows));
  const auto entries = transcript_.entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_TRUE(entries[2].starts_with(R"(POST /v3/pipeline {"baton":"c1")")) << entries[2];
}

TEST_F(RemoteCursorTest, RowsLeftUnreadOutsideATransactionAreAbortedAndTheStreamForgotten) {
  serve_rows(kManyRows);
  auto connection = connect();
  {
    const auto first = std::get<QueryResult>(execute(*connection, "SELECT x FROM t"));
    ASSERT_NE(first.open_cursor, nullptr);
  }
  ASSERT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "DROP TABLE IF EXISTS u")));
  const auto entries = transcript_.entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_TRUE(entries[2].starts_with(R"(POST /v3/pipeline {"baton":null)")) << entries[2];
  EXPECT_FALSE(connection->in_transaction());
}

TEST_F(RemoteCursorTest, RowsLeftUnreadInsideATransactionAreReadToTheEndAndTheTransactionGoesOn) {
  int pipelines = 0;
  serve(
      [&](const std::string&) {
        if (++pipelines == 1) return pipeline("b1", {batch_of({kEmptyResult}), autocommit(false)});
        return pipeline("b2", {std::string(kOneRow), autocommit(false)});
      },
      [](const std::string&) { return Reply::http(200, cursor_answer("c1", kManyRows), "text/plain"); });
  auto connection = connect(TransactionRules{TransactionControl::Manual, "DEFERRED"});
  ASSERT_TRUE(connection->in_transaction());
  {
    const auto first = std::get<QueryResult>(execute(*connection, "SELECT x FROM t"));
    ASSERT_NE(first.open_cursor, nullptr);
  }
  ASSERT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "DROP TABLE IF EXISTS u")));
  EXPECT_TRUE(connection->in_transaction());
  const auto entries = transcript_.entries();
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_TRUE(entries[2].starts_with(R"(POST /v3/cursor {"baton":"b1")")) << entries[2];
  EXPECT_TRUE(entries[3].starts_with(R"(POST /v3/pipeline {"baton":"c1")")) << entries[3];
}

TEST_F(RemoteCursorTest, ACancelledFetchLosesNoRowsAndAStalledAnswerFailsAfterTheRowsBeforeIt) {
  constexpr std::size_t kSent = 2'000;
  std::string body = cursor_answer("c1", kSent);
  body.erase(body.rfind(R"({"type":"step_end")"));  // the answer stalls before its step ends
  serve(
      [](const std::string&) {
        return pipeline("", {std::string(kOneRow), std::string(kClosed)});
      },
      [&](const std::string&) {
        return Reply::stall_after("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                                  std::to_string(body.size() + 100) + "\r\n\r\n" + body);
      });
  auto connection = connect({}, HttpOptions{10'000ms, 500ms, true});
  auto first = std::get<QueryResult>(execute(*connection, "SELECT x FROM t"));
  ASSERT_NE(first.open_cursor, nullptr);
  std::vector<std::int64_t> values;
  for (std::size_t row = 0; row < first.rows.row_count(); ++row) values.push_back(first.rows.cell(row, 0).integer);

  auto cancelled = std::make_shared<CompletionWaiter>();
  first.open_cursor->fetch(first.open_cursor, cancelled, 41);
  EXPECT_TRUE(first.open_cursor->fetcher()->cancel(41));
  EXPECT_EQ(std::get<Error>(wait(cancelled)).kind, ErrorKind::Cancelled);

  // Once the server has said nothing for the timeout, the rows before that
  // come first, then the error.
  Outcome next = fetch(first.open_cursor);
  ASSERT_TRUE(std::holds_alternative<QueryResult>(next)) << std::get<Error>(next).message;
  auto& rest = std::get<QueryResult>(next);
  for (std::size_t row = 0; row < rest.rows.row_count(); ++row) values.push_back(rest.rows.cell(row, 0).integer);
  EXPECT_EQ(values, counting_to(kSent));
  ASSERT_NE(rest.open_cursor, nullptr);
  const Outcome failed = fetch(rest.open_cursor);
  ASSERT_TRUE(std::holds_alternative<Error>(failed));
  EXPECT_EQ(std::get<Error>(failed).kind, ErrorKind::Operational);
  EXPECT_NE(std::get<Error>(failed).message.find("in time"), std::string::npos) << std::get<Error>(failed).message;
  EXPECT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "DROP TABLE IF EXISTS u")));
}

TEST_F(RemoteCursorTest, AStepErrorFailsTheStatementAndTheConnectionGoesOn) {
  serve(
      [](const std::string&) {
        return pipeline("", {std::string(kOneRow), std::string(kClosed)});
      },
      [](const std::string&) {
        return Reply::http(200,
                           "{\"baton\":\"c1\",\"base_url\":null}\n"
                           R"({"type":"step_error","step":0,"error":{"message":"UNIQUE constraint failed: t.x",)"
                           R"("code":"SQLITE_CONSTRAINT_UNIQUE"}})"
                           "\n",
                           "text/plain");
      });
  auto connection = connect();
  const Outcome failed = execute(*connection, "SELECT x FROM t");
  ASSERT_TRUE(std::holds_alternative<Error>(failed));
  EXPECT_EQ(std::get<Error>(failed).kind, ErrorKind::Integrity);
  ASSERT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "DROP TABLE IF EXISTS u")));
  EXPECT_TRUE(transcript_.entries().back().starts_with(R"(POST /v3/pipeline {"baton":"c1")"));
}

TEST_F(RemoteCursorTest, AnAnswerThatIsNotACursorFailsTheStatementAndTheConnectionGoesOn) {
  serve(
      [](const std::string&) {
        return pipeline("", {std::string(kOneRow), std::string(kClosed)});
      },
      [](const std::string&) { return Reply::http(200, "<html>not Hrana</html>\n", "text/html"); });
  auto connection = connect();
  const Outcome failed = execute(*connection, "SELECT x FROM t");
  ASSERT_TRUE(std::holds_alternative<Error>(failed));
  EXPECT_EQ(std::get<Error>(failed).kind, ErrorKind::Operational);
  EXPECT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "DROP TABLE IF EXISTS u")));
}

TEST_F(RemoteCursorTest, ClosingWithAResultOpenFailsItsFetchesAndCloses) {
  serve_rows(kManyRows);
  auto connection = connect();
  auto first = std::get<QueryResult>(execute(*connection, "SELECT x FROM t"));
  ASSERT_NE(first.open_cursor, nullptr);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(run([&](auto sink) { connection->close(sink, 5); })));
  const Outcome refused = fetch(first.open_cursor);
  ASSERT_TRUE(std::holds_alternative<Error>(refused));
  EXPECT_EQ(std::get<Error>(refused).kind, ErrorKind::Programming);
}

TEST_F(RemoteCursorTest, AValueJsonCannotCarryFailsOnlyItsStatementInsideATransaction) {
  int pipelines = 0;
  serve([&](const std::string&) {
    if (++pipelines == 1) return pipeline("b1", {batch_of({kEmptyResult}), autocommit(false)});
    return pipeline("b2", {std::string(kOneRow), autocommit(false)});
  });
  auto connection = connect(TransactionRules{TransactionControl::Manual, "DEFERRED"});
  for (const char* sql : {"SELECT ?", "INSERT INTO t VALUES (?)"}) {
    const Outcome refused = execute(*connection, sql, Params{{std::numeric_limits<double>::infinity()}, {}, false});
    ASSERT_TRUE(std::holds_alternative<Error>(refused)) << sql;
    EXPECT_EQ(std::get<Error>(refused).kind, ErrorKind::Data) << sql;
  }
  EXPECT_TRUE(connection->in_transaction());
  ASSERT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "DROP TABLE IF EXISTS u")));
  EXPECT_TRUE(transcript_.entries().back().starts_with(R"(POST /v3/pipeline {"baton":"b1")"));
}

}  // namespace
}  // namespace aiolibsql::remote
