// What remote connection tests share: a scripted server that records what
// it was sent, canned Hrana answers, and a fixture to connect and run.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "completion_queue.hpp"
#include "fake_http_server.hpp"
#include "remote_connection.hpp"

namespace aiolibsql::remote::testing {

using aiolibsql::testing::FakeHttpServer;
using aiolibsql::testing::ReceivedRequest;
using aiolibsql::testing::Reply;

// What the fake server saw: "GET /v3" or "POST /v3/pipeline <body>".
class Transcript {
 public:
  void add(const ReceivedRequest& request) {
    const auto line_end = request.head.find(' ', request.head.find(' ') + 1);
    std::lock_guard lock(mutex_);
    entries_.push_back(request.head.substr(0, line_end) + (request.body.empty() ? "" : " " + request.body));
  }
  std::vector<std::string> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> entries_;
};

constexpr std::string_view kOneRow =
    R"({"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"x","decltype":null}],)"
    R"("rows":[[{"type":"integer","value":"4611686018427387907"}]],"affected_row_count":0,"last_insert_rowid":null}}})";
constexpr std::string_view kInsertedOne =
    R"({"type":"ok","response":{"type":"execute","result":{"cols":[],"rows":[],"affected_row_count":1,)"
    R"("last_insert_rowid":"42"}}})";
constexpr std::string_view kClosed = R"({"type":"ok","response":{"type":"close"}})";
constexpr std::string_view kSqlStored = R"({"type":"ok","response":{"type":"store_sql"}})";
constexpr std::string_view kSqlClosed = R"({"type":"ok","response":{"type":"close_sql"}})";

inline std::string autocommit(bool is_autocommit) {
  return std::string(R"({"type":"ok","response":{"type":"get_autocommit","is_autocommit":)") +
         (is_autocommit ? "true" : "false") + "}}";
}

constexpr std::string_view kEmptyResult = R"({"cols":[],"rows":[],"affected_row_count":0,"last_insert_rowid":null})";
constexpr std::string_view kInsertResult = R"({"cols":[],"rows":[],"affected_row_count":1,"last_insert_rowid":"7"})";

// A batch whose step `failed` failed with a constraint error; null entries were skipped.
inline std::string batch_failing_at(std::vector<std::optional<std::string_view>> step_results, std::size_t failed) {
  std::string results = "[";
  std::string errors = "[";
  for (std::size_t i = 0; i < step_results.size(); ++i) {
    if (i > 0) {
      results += ',';
      errors += ',';
    }
    results.append(step_results[i].value_or("null"));
    errors += i == failed ? R"({"message":"UNIQUE constraint failed: t.x","code":"SQLITE_CONSTRAINT_UNIQUE"})" : "null";
  }
  return R"({"type":"ok","response":{"type":"batch","result":{"step_results":)" + results + R"(],"step_errors":)" +
         errors + "]}}}";
}

// A batch whose steps all succeeded.
inline std::string batch_of(std::vector<std::string_view> step_results) {
  return batch_failing_at({step_results.begin(), step_results.end()}, step_results.size());
}

inline Reply pipeline(std::string baton, std::vector<std::string> results) {
  std::string body =
      R"({"baton":)" + (baton.empty() ? std::string("null") : "\"" + baton + "\"") + R"(,"base_url":null,"results":[)";
  for (std::size_t i = 0; i < results.size(); ++i) body += (i ? "," : "") + results[i];
  return Reply::http(200, body + "]}");
}

inline Reply pipeline_moved_to(std::string base_url, std::string baton, std::vector<std::string> results) {
  std::string body = R"({"baton":")" + baton + R"(","base_url":")" + base_url + R"(","results":[)";
  for (std::size_t i = 0; i < results.size(); ++i) body += (i ? "," : "") + results[i];
  return Reply::http(200, body + "]}");
}

// The answer of POST v3/cursor to one statement: `rows` rows of one integer
// column counting from 1, on a stream whose next baton is `baton` ("" closes it).
inline std::string cursor_answer(std::string baton, std::size_t rows) {
  std::string body = R"({"baton":)" + (baton.empty() ? std::string("null") : "\"" + baton + "\"") +
                     R"(,"base_url":null})"
                     "\n"
                     R"({"type":"step_begin","step":0,"cols":[{"name":"x","decltype":null}]})"
                     "\n";
  for (std::size_t i = 1; i <= rows; ++i) {
    body += R"({"type":"row","row":[{"type":"integer","value":")" + std::to_string(i) + "\"}]}\n";
  }
  return body + R"({"type":"step_end","affected_row_count":0,"last_insert_rowid":null})"
                "\n";
}

inline Outcome wait(const std::shared_ptr<CompletionWaiter>& waiter) { return waiter->wait()->outcome(); }

class RemoteConnectionTest : public ::testing::Test {
 protected:
  // `answer` gets each pipeline body in turn (GET /v3 is answered 200), and
  // `cursor` each cursor's (by default: one row, and the stream closed).
  void serve(std::function<Reply(const std::string& body)> answer,
             std::function<Reply(const std::string& body)> cursor = nullptr) {
    server_ = std::make_unique<FakeHttpServer>([this, answer, cursor](const ReceivedRequest& request) {
      transcript_.add(request);
      if (request.head.starts_with("GET /v3 ")) return Reply::http(200, "");
      if (request.head.starts_with("POST /v3/cursor ")) {
        return cursor ? cursor(request.body) : Reply::http(200, cursor_answer("", 1), "text/plain");
      }
      return answer(request.body);
    });
  }

  std::shared_ptr<RemoteConnection> connect(TransactionRules rules = {}, HttpOptions http = {}) {
    auto connection = std::make_shared<RemoteConnection>(
        RemoteOptions{RemoteEndpoint{server_->url(""), Secret("token")}, std::move(rules), http});
    auto waiter = std::make_shared<CompletionWaiter>();
    connection->open(waiter, 1);
    const Outcome opened = wait(waiter);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(opened));
    return connection;
  }

  Outcome execute(RemoteConnection& connection, std::string sql, Params params = {}) {
    auto waiter = std::make_shared<CompletionWaiter>();
    connection.execute(std::move(sql), std::move(params), waiter, 2);
    return wait(waiter);
  }

  template <typename Start>
  Outcome run(Start start) {
    auto waiter = std::make_shared<CompletionWaiter>();
    start(waiter);
    return wait(waiter);
  }

  // A server whose first pipeline never gets an answer, and the statement
  // that sent it, once the server has it.
  std::shared_ptr<CompletionWaiter> start_stalled_statement(RemoteConnection& connection, std::uintptr_t tag) {
    auto waiter = std::make_shared<CompletionWaiter>();
    connection.execute("DROP TABLE IF EXISTS u", {}, waiter, tag);
    server_->wait_for_requests(2);  // the negotiation, then this one
    return waiter;
  }
  // A Hrana 2 server: GET v3 is 404, the probe's empty pipeline gets
  // `probe_baton`, every other pipeline one row and `baton` ("": none, as
  // from a server that keeps no streams).
  void serve_hrana2(std::string probe_baton, std::string baton) {
    server_ = std::make_unique<FakeHttpServer>([this, probe_baton, baton](const ReceivedRequest& request) {
      transcript_.add(request);
      if (request.head.starts_with("GET /v3 ")) return Reply::http(404, "not found", "text/plain");
      if (request.body.find(R"("requests":[])") != std::string::npos) return pipeline(probe_baton, {});
      return pipeline(baton, {std::string(kOneRow)});
    });
  }
  void serve_stalling_the_first_pipeline() {
    serve([pipelines = 0](const std::string&) mutable {
      if (++pipelines == 1) return Reply::stall();
      return pipeline("", {std::string(kOneRow), std::string(kClosed)});
    });
  }

  std::unique_ptr<FakeHttpServer> server_;
  Transcript transcript_;
};

}  // namespace aiolibsql::remote::testing
