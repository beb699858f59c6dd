#include "remote_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "completion_queue.hpp"
#include "fake_http_server.hpp"

namespace aiolibsql::remote {
namespace {

using testing::FakeHttpServer;
using testing::ReceivedRequest;
using testing::Reply;

Reply one_row_and_closed() {
  return Reply::http(
      200, R"({"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"execute","result":)"
           R"({"cols":[{"name":"x","decltype":null}],"rows":[[{"type":"integer","value":"1"}]],"affected_row_count":0,)"
           R"("last_insert_rowid":null}}},{"type":"ok","response":{"type":"close"}}]})");
}

Outcome wait(const std::shared_ptr<CompletionWaiter>& waiter) { return waiter->wait()->outcome(); }

class RemotePoolTest : public ::testing::Test {
 protected:
  // GET /v3 is answered `negotiation`; each pipeline `answer`.
  void serve(Reply negotiation, std::function<Reply()> answer) {
    server_ = std::make_unique<FakeHttpServer>([negotiation, answer](const ReceivedRequest& request) {
      if (request.head.starts_with("GET /v3 ")) return negotiation;
      return answer();
    });
  }

  std::shared_ptr<RemotePool> make_pool(std::size_t size) {
    return std::make_shared<RemotePool>(
        RemoteOptions{RemoteEndpoint{server_->url(""), Secret("token")}, TransactionRules{}, HttpOptions{}}, size);
  }

  template <typename Start>
  Outcome run(Start start) {
    auto waiter = std::make_shared<CompletionWaiter>();
    start(waiter);
    return wait(waiter);
  }

  std::unique_ptr<FakeHttpServer> server_;
};

TEST_F(RemotePoolTest, OpeningChecksEveryStreamAndFailsWithTheServersRefusal) {
  serve(Reply::http(401, "no"), one_row_and_closed);
  auto pool = make_pool(3);
  const Outcome opened = run([&](auto sink) { pool->open(sink, 1); });
  ASSERT_TRUE(std::holds_alternative<Error>(opened));
  EXPECT_NE(std::get<Error>(opened).message.find("authentication"), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(run([&](auto sink) { pool->close(sink, 2); })));
  EXPECT_TRUE(pool->is_closed());
}

TEST_F(RemotePoolTest, AStatementGoesToAnotherStreamWhileOneStalls) {
  std::atomic<int> pipelines = 0;
  serve(Reply::http(200, ""), [&] { return ++pipelines == 1 ? Reply::stall() : one_row_and_closed(); });
  auto pool = make_pool(2);
  ASSERT_TRUE(std::holds_alternative<std::monostate>(run([&](auto sink) { pool->open(sink, 1); })));
  auto stalled = std::make_shared<CompletionWaiter>();
  pool->execute("PRAGMA user_version", {}, stalled, 2);
  server_->wait_for_requests(3);  // two negotiations, then the stalled statement
  EXPECT_TRUE(
      std::holds_alternative<QueryResult>(run([&](auto sink) { pool->execute("PRAGMA user_version", {}, sink, 3); })));
  EXPECT_TRUE(pool->cancel(2));
  EXPECT_EQ(std::get<Error>(wait(stalled)).kind, ErrorKind::Cancelled);
}

TEST_F(RemotePoolTest, PinningLeavesOneStreamForStatementsOutsideTransactions) {
  serve(Reply::http(200, ""), one_row_and_closed);
  auto pool = make_pool(2);
  ASSERT_TRUE(std::holds_alternative<std::monostate>(run([&](auto sink) { pool->open(sink, 1); })));
  std::int64_t pinned = -1;
  run([&](auto sink) { pinned = pool->pin(PinKind::Snapshot, sink, 2); });
  EXPECT_GE(pinned, 0);
  std::int64_t refused = 0;
  const Outcome busy = run([&](auto sink) { refused = pool->pin(PinKind::Transaction, sink, 3); });
  EXPECT_EQ(refused, -1);
  EXPECT_EQ(std::get<Error>(busy).sqlite_code, 5);  // SQLITE_BUSY
  const auto stats = pool->stats();
  EXPECT_EQ(stats[static_cast<std::size_t>(pinned)].role, "pinned stream");
  EXPECT_EQ(stats[static_cast<std::size_t>(1 - pinned)].role, "stream");
}

TEST_F(RemotePoolTest, TransactionControlAndPerConnectionSettingsAreRefusedWithoutARequest) {
  std::atomic<int> pipelines = 0;
  serve(Reply::http(200, ""), [&] {
    ++pipelines;
    return one_row_and_closed();
  });
  auto pool = make_pool(2);
  ASSERT_TRUE(std::holds_alternative<std::monostate>(run([&](auto sink) { pool->open(sink, 1); })));
  for (const char* sql : {"BEGIN", " commit", "PRAGMA foreign_keys = ON", "ATTACH 'x' AS x", "DETACH x"}) {
    const Outcome refused = run([&](auto sink) { pool->execute(sql, {}, sink, 2); });
    ASSERT_TRUE(std::holds_alternative<Error>(refused)) << sql;
    EXPECT_EQ(std::get<Error>(refused).kind, ErrorKind::Programming) << sql;
  }
  EXPECT_EQ(pipelines, 0);
}

TEST_F(RemotePoolTest, RoutesJudgeFromTheTextWhatWritesWhatOnlyReadsAndWhatNeitherMayRun) {
  serve(Reply::http(200, ""), one_row_and_closed);
  auto pool = make_pool(2);
  EXPECT_TRUE(pool->route("INSERT INTO t VALUES (1)").writes());
  EXPECT_TRUE(pool->route("CREATE TABLE t (x)").writes());
  EXPECT_TRUE(pool->route("SELECT 1").is_plain_read());
  EXPECT_TRUE(pool->route("PRAGMA table_info(t)").is_plain_read());
  EXPECT_TRUE(pool->route(" commit").transaction_control);
  EXPECT_FALSE(pool->route(" commit").writes());
  EXPECT_TRUE(pool->route("PRAGMA foreign_keys = ON").changes_connection);
  EXPECT_FALSE(pool->route("PRAGMA foreign_keys = ON").writes());
  EXPECT_EQ(*pool->route("SELECT 1").sql, "SELECT 1");
}

}  // namespace
}  // namespace aiolibsql::remote
