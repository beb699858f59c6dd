#include "remote_connection.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "remote_test_support.hpp"

namespace aiolibsql::remote {
namespace {

using namespace aiolibsql::remote::testing;

TEST_F(RemoteConnectionTest, AStatementOutsideATransactionIsOneRequestThatLeavesNoStreamOpen) {
  serve([](const std::string&) { return pipeline("", {std::string(kOneRow), std::string(kClosed)}); });
  auto connection = connect();
  const Outcome outcome =
      execute(*connection, "PRAGMA user_version = ?", Params{{std::int64_t{(1LL << 62) + 3}}, {}, false});
  const auto& result = std::get<QueryResult>(outcome);
  EXPECT_EQ(result.rows.cell(0, 0).integer, (1LL << 62) + 3);
  EXPECT_EQ(result.rowcount, -1);
  EXPECT_EQ(transcript_.entries(),
            (std::vector<std::string>{"GET /v3",
                                      R"(POST /v3/pipeline {"baton":null,"requests":[{"type":"execute","stmt":{"sql":)"
                                      R"("PRAGMA user_version = ?","args":[{"type":"integer","value":)"
                                      R"("4611686018427387907"}],"want_rows":true}},{"type":"close"}]})"}));
  EXPECT_FALSE(connection->in_transaction());
}

TEST_F(RemoteConnectionTest, AReadGoesThroughACursorWhoseStreamTheNextStatementCloses) {
  serve(
      [](const std::string&) {
        return pipeline("", {std::string(kOneRow), std::string(kClosed)});
      },
      [](const std::string&) { return Reply::http(200, cursor_answer("c1", 3), "text/plain"); });
  auto connection = connect();
  const Outcome outcome = execute(*connection, "SELECT ?", Params{{std::int64_t{(1LL << 62) + 3}}, {}, false});
  const auto& result = std::get<QueryResult>(outcome);
  ASSERT_EQ(result.rows.row_count(), 3u);
  EXPECT_EQ(result.rows.cell(2, 0).integer, 3);
  EXPECT_EQ(result.columns->names, std::vector<std::string>{"x"});
  EXPECT_EQ(result.rowcount, -1);
  EXPECT_EQ(result.open_cursor, nullptr);
  ASSERT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "DROP TABLE IF EXISTS u")));
  EXPECT_EQ(
      transcript_.entries(),
      (std::vector<std::string>{
          "GET /v3",
          R"(POST /v3/cursor {"baton":null,"batch":{"steps":[{"stmt":{"sql":"SELECT ?","args":[)"
          R"({"type":"integer","value":"4611686018427387907"}],"want_rows":true}}]}})",
          R"(POST /v3/pipeline {"baton":"c1","requests":[{"type":"execute","stmt":{"sql":"DROP TABLE IF EXISTS u",)"
          R"("args":[],"want_rows":true}},{"type":"close"}]})"}));
  EXPECT_FALSE(connection->in_transaction());
}

TEST_F(RemoteConnectionTest, LegacyControlSendsTheBeginWithTheFirstDmlAndKeepsTheStreamUntilCommit) {
  int pipelines = 0;
  serve([&](const std::string&) {
    switch (++pipelines) {
      case 1:
        return pipeline("b1", {batch_of({kEmptyResult, kInsertResult}), autocommit(false)});
      case 2:
        return pipeline("b2", {std::string(kInsertedOne), autocommit(false)});
      case 3:
        return pipeline("b3", {batch_of({kEmptyResult}), autocommit(true)});
      default:
        return pipeline("", {std::string(kOneRow), std::string(kClosed)});
    }
  });
  auto connection = connect();
  const auto first = std::get<QueryResult>(execute(*connection, "INSERT INTO t SELECT 1"));
  EXPECT_EQ(first.rowcount, 1);
  EXPECT_EQ(first.lastrowid, 7);
  EXPECT_TRUE(connection->in_transaction());
  EXPECT_EQ(std::get<QueryResult>(execute(*connection, "INSERT INTO t SELECT 2")).lastrowid, 42);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(run([&](auto sink) { connection->commit(sink, 3); })));
  EXPECT_FALSE(connection->in_transaction());
  execute(*connection, "DROP TABLE IF EXISTS u");
  const auto entries = transcript_.entries();
  ASSERT_EQ(entries.size(), 5u);  // the negotiation, then one round trip per statement
  EXPECT_NE(
      entries[1].find(R"({"baton":null,"requests":[{"type":"batch","batch":{"steps":[{"stmt":{"sql":"BEGIN DEFERRED")"),
      std::string::npos)
      << entries[1];
  EXPECT_NE(entries[1].find(R"({"condition":{"type":"ok","step":0},"stmt":{"sql":"INSERT INTO t SELECT 1")"),
            std::string::npos);
  EXPECT_NE(entries[1].find(R"({"type":"get_autocommit"}]})"), std::string::npos);
  EXPECT_NE(entries[2].find(R"({"baton":"b1","requests":[{"type":"execute")"), std::string::npos) << entries[2];
  EXPECT_NE(entries[3].find(R"({"baton":"b2","requests":[{"type":"batch","batch":{"steps":[{"stmt":{"sql":"COMMIT")"),
            std::string::npos)
      << entries[3];
  // After the commit the stream is closed by the next autocommit statement.
  EXPECT_NE(entries[4].find(R"({"baton":"b3","requests":[{"type":"execute")"), std::string::npos) << entries[4];
  EXPECT_NE(entries[4].find(R"({"type":"close"}]})"), std::string::npos);
}

TEST_F(RemoteConnectionTest, AStreamTheServerMovesSendsItsNextRequestsThereUntilItEnds) {
  int pipelines = 0;
  serve([&](const std::string&) {
    switch (++pipelines) {
      case 1:
        return pipeline_moved_to(server_->url("/moved"), "b1",
                                 {batch_of({kEmptyResult, kInsertResult}), autocommit(false)});
      case 2:
        return pipeline("b2", {batch_of({kEmptyResult}), autocommit(true)});
      default:
        return pipeline("", {std::string(kOneRow), std::string(kClosed)});
    }
  });
  auto connection = connect();
  ASSERT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "INSERT INTO t SELECT 1")));
  ASSERT_TRUE(std::holds_alternative<std::monostate>(run([&](auto sink) { connection->commit(sink, 3); })));
  ASSERT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "DROP TABLE IF EXISTS u")));
  ASSERT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "DROP TABLE IF EXISTS v")));
  const auto entries = transcript_.entries();
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_TRUE(entries[1].starts_with("POST /v3/pipeline ")) << entries[1];
  EXPECT_TRUE(entries[2].starts_with(R"(POST /moved/v3/pipeline {"baton":"b1")")) << entries[2];
  // The server left the base_url out once more: the stream stays where it was moved.
  EXPECT_TRUE(entries[3].starts_with(R"(POST /moved/v3/pipeline {"baton":"b2")")) << entries[3];
  // That statement closed the stream: a new one starts at the URL connected to.
  EXPECT_TRUE(entries[4].starts_with(R"(POST /v3/pipeline {"baton":null)")) << entries[4];
}

TEST_F(RemoteConnectionTest, AStreamMovedToAUrlThatIsNotHttpFailsItsStatementAndTheConnectionGoesOn) {
  int pipelines = 0;
  serve([&](const std::string&) {
    if (++pipelines == 1) {
      return pipeline_moved_to("ftp://127.0.0.1/elsewhere", "b1", {std::string(kOneRow), std::string(kClosed)});
    }
    return pipeline("", {std::string(kOneRow), std::string(kClosed)});
  });
  auto connection = connect(TransactionRules{TransactionControl::Autocommit, std::nullopt});
  const Outcome refused = execute(*connection, "DROP TABLE IF EXISTS u");
  ASSERT_TRUE(std::holds_alternative<Error>(refused));
  EXPECT_EQ(std::get<Error>(refused).kind, ErrorKind::Operational);
  EXPECT_NE(std::get<Error>(refused).message.find("moved the stream"), std::string::npos);
  ASSERT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "DROP TABLE IF EXISTS u")));
  const auto entries = transcript_.entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_TRUE(entries[2].starts_with(R"(POST /v3/pipeline {"baton":null)")) << entries[2];
}

TEST(StreamUrlTest, AStreamMayMoveToHttpsAlwaysAndToHttpOnlyFromHttp) {
  EXPECT_TRUE(acceptable_stream_url("https://replica.example/db", "https://primary.example"));
  EXPECT_TRUE(acceptable_stream_url("https://replica.example", "http://127.0.0.1:8080"));
  EXPECT_TRUE(acceptable_stream_url("http://127.0.0.1:9090", "http://127.0.0.1:8080"));
  EXPECT_FALSE(acceptable_stream_url("http://replica.example", "https://primary.example"));
  EXPECT_FALSE(acceptable_stream_url("ftp://replica.example", "http://127.0.0.1:8080"));
  EXPECT_FALSE(acceptable_stream_url("https://", "https://primary.example"));
  EXPECT_FALSE(acceptable_stream_url("", "http://127.0.0.1:8080"));
}

TEST_F(RemoteConnectionTest, CommitOutsideATransactionCostsNoRoundTrip) {
  serve([](const std::string&) { return Reply::http(500, "unexpected"); });
  auto connection = connect();
  EXPECT_TRUE(std::holds_alternative<std::monostate>(run([&](auto sink) { connection->commit(sink, 3); })));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(run([&](auto sink) { connection->rollback(sink, 3); })));
  EXPECT_EQ(transcript_.entries().size(), 1u);
}

TEST_F(RemoteConnectionTest, AnIdleStreamTheServerLetExpireIsReplacedWithoutLosingTheStatement) {
  int pipelines = 0;
  serve([&](const std::string& body) {
    // A statement that may end a transaction keeps the stream; the server then forgets it.
    if (++pipelines == 1) return pipeline("b1", {std::string(kInsertedOne), autocommit(true)});
    if (body.find(R"("baton":"b1")") != std::string::npos) {
      return Reply::http(400, R"({"message":"The stream has expired due to inactivity","code":"STREAM_EXPIRED"})");
    }
    return pipeline("", {std::string(kOneRow), std::string(kClosed)});
  });
  auto connection = connect();
  ASSERT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "COMMIT")));
  const Outcome outcome = execute(*connection, "DROP TABLE IF EXISTS u");
  ASSERT_TRUE(std::holds_alternative<QueryResult>(outcome)) << std::get<Error>(outcome).message;
  const auto entries = transcript_.entries();
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_NE(entries[2].find(R"({"baton":"b1","requests":[{"type":"execute","stmt":{"sql":"DROP TABLE IF EXISTS u")"),
            std::string::npos);
  EXPECT_NE(entries[3].find(R"({"baton":null,"requests":[{"type":"execute","stmt":{"sql":"DROP TABLE IF EXISTS u")"),
            std::string::npos);
}

TEST_F(RemoteConnectionTest, ATransactionLostWithItsStreamIsReportedUntilRolledBack) {
  int pipelines = 0;
  serve([&](const std::string&) {
    switch (++pipelines) {
      case 1:
        return pipeline("b1", {batch_of({kEmptyResult, kInsertResult}), autocommit(false)});
      case 2:
        return Reply::reset_after("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"baton\":");
      default:
        return pipeline("", {std::string(kOneRow), std::string(kClosed)});
    }
  });
  auto connection = connect();
  execute(*connection, "INSERT INTO t SELECT 1");
  const Outcome failed = execute(*connection, "INSERT INTO t SELECT 2");
  EXPECT_EQ(std::get<Error>(failed).kind, ErrorKind::Operational);
  // Still "in a transaction" until it is ended: code that rolls back only
  // when in_transaction() says so must not be left refused for ever.
  EXPECT_TRUE(connection->in_transaction());
  const Outcome refused = execute(*connection, "SELECT 1");
  ASSERT_TRUE(std::holds_alternative<Error>(refused));
  EXPECT_NE(std::get<Error>(refused).message.find("transaction on the remote database was lost"), std::string::npos);
  EXPECT_TRUE(connection->in_transaction());
  const Outcome refused_commit = run([&](auto sink) { connection->commit(sink, 3); });
  EXPECT_TRUE(std::holds_alternative<Error>(refused_commit));
  EXPECT_TRUE(connection->in_transaction());
  EXPECT_TRUE(std::holds_alternative<std::monostate>(run([&](auto sink) { connection->rollback(sink, 3); })));
  EXPECT_FALSE(connection->in_transaction());
  EXPECT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "DROP TABLE IF EXISTS u")));
  EXPECT_EQ(pipelines, 3);  // the rollback needed no request: the server had already dropped the transaction
}

TEST_F(RemoteConnectionTest, AServerErrorInsideAResultMapsToItsDbApiClassAndTheConnectionGoesOn) {
  int pipelines = 0;
  serve([&](const std::string&) {
    if (++pipelines == 1) {
      return pipeline("", {R"({"type":"error","error":{"message":"SQLite error: UNIQUE constraint failed: t.x",)"
                           R"("code":"SQLITE_CONSTRAINT_UNIQUE"}})",
                           std::string(kClosed)});
    }
    return pipeline("", {std::string(kOneRow), std::string(kClosed)});
  });
  auto connection = connect(TransactionRules{TransactionControl::Autocommit, std::nullopt});
  const Error error = std::get<Error>(execute(*connection, "INSERT INTO t SELECT 1"));
  EXPECT_EQ(error.kind, ErrorKind::Integrity);
  EXPECT_EQ(error.sqlite_code, 2067);
  EXPECT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "SELECT 1")));
}

TEST_F(RemoteConnectionTest, ARefusedTokenIsAnAuthenticationError) {
  auto refuse = [](const std::string&) { return Reply::http(401, "Unauthorized", "text/plain"); };
  serve(refuse, refuse);
  auto connection = connect();
  const Error error = std::get<Error>(execute(*connection, "SELECT 1"));
  EXPECT_EQ(error.kind, ErrorKind::Operational);
  EXPECT_NE(error.message.find("authentication"), std::string::npos) << error.message;
  EXPECT_EQ(error.message.find("token\""), std::string::npos);
}

TEST_F(RemoteConnectionTest, AServerWithoutHrana3IsSpokenToWithV2PipelinesOnTheStreamItsProbeOpened) {
  serve_hrana2("b0", "b1");
  auto connection = connect();
  EXPECT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "SELECT 1")));
  const auto entries = transcript_.entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[1], R"(POST /v2/pipeline {"baton":null,"requests":[]})");
  EXPECT_TRUE(entries[2].starts_with(R"(POST /v2/pipeline {"baton":"b0","requests":[{"type":"execute")"));
  EXPECT_EQ(entries[2].find("close"), std::string::npos);
}

TEST_F(RemoteConnectionTest, AServerThatKeepsNoStreamsRefusesATransactionBeforeSendingIt) {
  serve_hrana2("", "");
  auto connection = connect();  // legacy control: a write would open a transaction
  const Outcome refused = execute(*connection, "INSERT INTO t VALUES (1)");
  ASSERT_TRUE(std::holds_alternative<Error>(refused));
  EXPECT_EQ(std::get<Error>(refused).kind, ErrorKind::NotSupported);
  EXPECT_NE(std::get<Error>(refused).message.find("keeps no stream"), std::string::npos);
  EXPECT_EQ(transcript_.entries().size(), 2u);  // the version check and the probe: the write never left
  EXPECT_FALSE(connection->in_transaction());
  EXPECT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "SELECT 1")));
  std::vector<std::pair<std::string, Params>> atomic{{"INSERT INTO t VALUES (1)", {}}};
  run([&](auto sink) { connection->execute_atomically(std::move(atomic), sink, 3); });
  // Sent: one request ends every transaction it begins.
  EXPECT_NE(transcript_.entries().back().find(R"("sql":"BEGIN")"), std::string::npos);
}

TEST_F(RemoteConnectionTest, CancellingAStatementInFlightEndsItAndTheConnectionGoesOn) {
  serve_stalling_the_first_pipeline();
  auto connection = connect();
  auto waiter = start_stalled_statement(*connection, 77);
  EXPECT_TRUE(connection->cancel(77));
  EXPECT_EQ(std::get<Error>(wait(waiter)).kind, ErrorKind::Cancelled);
  EXPECT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "SELECT 1")));
}

TEST_F(RemoteConnectionTest, ClosingFailsQueuedStatementsAndClosesTheStreamOfAnOpenTransaction) {
  int pipelines = 0;
  serve([&](const std::string& body) {
    if (++pipelines == 1) return pipeline("b1", {batch_of({kEmptyResult}), autocommit(false)});
    EXPECT_NE(body.find(R"({"baton":"b1","requests":[{"type":"close"}]})"), std::string::npos) << body;
    return pipeline("", {std::string(kClosed)});
  });
  auto connection = connect(TransactionRules{TransactionControl::Manual, "DEFERRED"});
  EXPECT_TRUE(connection->in_transaction());
  auto queued = std::make_shared<CompletionWaiter>();
  auto closing = std::make_shared<CompletionWaiter>();
  connection->close(closing, 5);
  connection->execute("SELECT 1", {}, queued, 6);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(wait(closing)));
  EXPECT_EQ(std::get<Error>(wait(queued)).kind, ErrorKind::Programming);
  EXPECT_EQ(pipelines, 2);
}

TEST_F(RemoteConnectionTest, AConnectionInheritedThroughForkRefusesWorkAndSendsNothingOnTheParentsStream) {
  serve([](const std::string&) { return pipeline("", {std::string(kOneRow), std::string(kClosed)}); });
  auto connection = connect();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Guards against a hang in the child only; the test does not wait for it.
    alarm(60);
    auto executed = std::make_shared<CompletionWaiter>();
    connection->execute("SELECT 1", {}, executed, 1);
    const Outcome outcome = executed->wait()->outcome();
    const Error* error = std::get_if<Error>(&outcome);
    const bool refused =
        error != nullptr && error->kind == ErrorKind::Interface && error->message.find("fork()") != std::string::npos;
    auto closed = std::make_shared<CompletionWaiter>();
    connection->close(closed, 2);
    const bool close_refused = std::holds_alternative<Error>(closed->wait()->outcome());
    connection.reset();
    _exit(refused && close_refused ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(server_->requests_seen(), 1);  // the parent's negotiation only
  EXPECT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "SELECT 1")));
}

TEST_F(RemoteConnectionTest, ManyQueuedStatementsFailingAtOnceCompleteWithoutDeepRecursion) {
  serve_stalling_the_first_pipeline();
  auto connection = connect();
  auto stalled = start_stalled_statement(*connection, 1);
  // Each of these fails before anything is sent (JSON cannot carry an
  // infinity); once the stalled one ends they all complete in one go. Were
  // each completion nested in the one before, this many would overflow the
  // stack several times over; more only slow the test (each one throws).
  constexpr int kQueued = 20'000;
  auto failed = std::make_shared<std::atomic<int>>(0);
  auto counter = std::make_shared<CallbackSink>([failed](std::shared_ptr<Operation> operation) {
    const auto* error = std::get_if<Error>(&operation->outcome());
    if (error != nullptr && error->kind == ErrorKind::Data) failed->fetch_add(1);
  });
  for (int i = 0; i < kQueued; ++i) {
    connection->execute("SELECT ?", Params{{std::numeric_limits<double>::infinity()}, {}, false}, counter, 2);
  }
  EXPECT_TRUE(connection->cancel(1));
  EXPECT_EQ(std::get<Error>(wait(stalled)).kind, ErrorKind::Cancelled);
  EXPECT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "SELECT 1")));
  EXPECT_EQ(failed->load(), kQueued);
}

TEST_F(RemoteConnectionTest, AReadWhoseConnectionBrokeIsSentOnceMoreAndAWriteNever) {
  int requests = 0;
  // The first read's first attempt, the write, and both attempts of the
  // second read have their connection reset mid-answer.
  auto answer = [&](Reply whole) {
    if (++requests != 2) return Reply::reset_after("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"baton\":");
    return whole;
  };
  serve(
      [&](const std::string&) {
        return answer(pipeline("", {std::string(kInsertedOne), std::string(kClosed)}));
      },
      [&](const std::string&) { return answer(Reply::http(200, cursor_answer("", 1), "text/plain")); });
  auto connection = connect(TransactionRules{TransactionControl::Autocommit, std::nullopt});
  EXPECT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "SELECT x FROM t")));
  EXPECT_EQ(requests, 2);
  const Outcome write = execute(*connection, "INSERT INTO t VALUES (1)");
  EXPECT_EQ(std::get<Error>(write).kind, ErrorKind::Operational);
  EXPECT_EQ(requests, 3);
  // Once only: a read whose second attempt breaks too fails.
  const Outcome read = execute(*connection, "SELECT x FROM t");
  EXPECT_EQ(std::get<Error>(read).kind, ErrorKind::Operational);
  EXPECT_EQ(requests, 5);
}

TEST_F(RemoteConnectionTest, AnAtomicBatchIsOneRequestAndAFailingStatementRollsBackTheWholeBatch) {
  serve([](const std::string&) {
    // The repeated text stored; BEGIN, the first insert, the failing one;
    // COMMIT skipped, ROLLBACK ran; the text forgotten.
    return pipeline("", {std::string(kSqlStored),
                         batch_failing_at({kEmptyResult, kInsertResult, std::nullopt, std::nullopt, kEmptyResult}, 2),
                         std::string(kSqlClosed), autocommit(true)});
  });
  auto connection = connect(TransactionRules{TransactionControl::Autocommit, std::nullopt});
  std::vector<std::pair<std::string, Params>> statements{{"INSERT INTO t VALUES (1)", {}},
                                                         {"INSERT INTO t VALUES (1)", {}}};
  const Outcome outcome = run([&](auto sink) { connection->execute_atomically(std::move(statements), sink, 3); });
  ASSERT_TRUE(std::holds_alternative<Error>(outcome));
  EXPECT_EQ(std::get<Error>(outcome).kind, ErrorKind::Integrity);
  const auto entries = transcript_.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_NE(entries[1].find(R"({"stmt":{"sql":"BEGIN")"), std::string::npos) << entries[1];
  EXPECT_NE(entries[1].find(R"json({"type":"store_sql","sql_id":1,"sql":"INSERT INTO t VALUES (1)"})json"),
            std::string::npos);
  EXPECT_NE(entries[1].find(R"({"condition":{"type":"ok","step":1},"stmt":{"sql_id":1)"), std::string::npos);
  EXPECT_NE(entries[1].find(R"({"type":"close_sql","sql_id":1})"), std::string::npos);
  EXPECT_NE(entries[1].find(R"({"condition":{"type":"ok","step":2},"stmt":{"sql":"COMMIT")"), std::string::npos);
  EXPECT_NE(entries[1].find(R"({"condition":{"type":"not","cond":{"type":"ok","step":3}},"stmt":{"sql":"ROLLBACK")"),
            std::string::npos)
      << entries[1];
  EXPECT_FALSE(connection->in_transaction());
}

TEST_F(RemoteConnectionTest, AnAtomicBatchCountsTheRowsItsStatementsChanged) {
  serve([](const std::string&) {
    return pipeline("",
                    {batch_of({kEmptyResult, kInsertResult, kInsertResult, kEmptyResult, "null"}), autocommit(true)});
  });
  auto connection = connect(TransactionRules{TransactionControl::Autocommit, std::nullopt});
  std::vector<std::pair<std::string, Params>> statements{{"INSERT INTO t VALUES (1)", {}},
                                                         {"INSERT INTO t VALUES (2)", {}}};
  const Outcome outcome = run([&](auto sink) { connection->execute_atomically(std::move(statements), sink, 3); });
  EXPECT_EQ(std::get<std::int64_t>(outcome), 2);
}

TEST_F(RemoteConnectionTest, EndingATransactionWhoseCommitFailsRollsItBackAndCannotBeCancelled) {
  int pipelines = 0;
  serve([&](const std::string&) {
    if (++pipelines == 1) return pipeline("b1", {batch_of({kEmptyResult}), autocommit(false)});
    return pipeline("b2", {batch_failing_at({std::nullopt, kEmptyResult}, 0), autocommit(true)});
  });
  auto connection = connect(TransactionRules{TransactionControl::Autocommit, std::nullopt});
  EXPECT_TRUE(
      std::holds_alternative<std::monostate>(run([&](auto sink) { connection->begin({"BEGIN IMMEDIATE"}, sink, 3); })));
  EXPECT_TRUE(connection->in_transaction());
  const Outcome ended = run([&](auto sink) {
    connection->end_transaction(true, sink, 4);
    EXPECT_FALSE(connection->cancel(4));
  });
  ASSERT_TRUE(std::holds_alternative<Error>(ended));
  EXPECT_EQ(std::get<Error>(ended).kind, ErrorKind::Integrity);
  EXPECT_FALSE(connection->in_transaction());
  const auto entries = transcript_.entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_NE(entries[2].find(R"("steps":[{"stmt":{"sql":"COMMIT")"), std::string::npos) << entries[2];
  EXPECT_NE(entries[2].find(R"({"condition":{"type":"not","cond":{"type":"ok","step":0}},"stmt":{"sql":"ROLLBACK")"),
            std::string::npos)
      << entries[2];
}

TEST_F(RemoteConnectionTest, EndingALostTransactionSendsNothingAndFailsOnlyACommit) {
  int pipelines = 0;
  serve([&](const std::string&) {
    switch (++pipelines) {
      case 1:
        return pipeline("b1", {batch_of({kEmptyResult}), autocommit(false)});
      case 2:
        return Reply::reset_after("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{\"baton\":");
      default:
        return pipeline("", {std::string(kOneRow), std::string(kClosed)});
    }
  });
  auto connection = connect(TransactionRules{TransactionControl::Autocommit, std::nullopt});
  run([&](auto sink) { connection->begin({"BEGIN IMMEDIATE"}, sink, 3); });
  EXPECT_TRUE(std::holds_alternative<Error>(execute(*connection, "INSERT INTO t VALUES (1)")));
  const Outcome ended = run([&](auto sink) { connection->end_transaction(true, sink, 4); });
  ASSERT_TRUE(std::holds_alternative<Error>(ended));
  EXPECT_NE(std::get<Error>(ended).message.find("nothing was committed"), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<QueryResult>(execute(*connection, "DROP TABLE IF EXISTS u")));
  EXPECT_EQ(pipelines, 3);
}

}  // namespace
}  // namespace aiolibsql::remote
