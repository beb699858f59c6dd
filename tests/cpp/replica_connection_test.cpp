// An embedded replica driven through ConnectionBackend against a scripted
// primary that keeps the frames pushed to it: what one offline replica
// pushes, another pulls, by hand and in the background.
#include "replica_connection.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "fake_http_server.hpp"
#include "sync_metadata.hpp"
#include "test_support.hpp"
#include "wal_frames.hpp"

namespace aiolibsql::replica {
namespace {

using aiolibsql::testing::FakeHttpServer;
using aiolibsql::testing::ReceivedRequest;
using aiolibsql::testing::Reply;
using test::error_in;

// Generation 1 of an empty database; frames pushed are stored as they come.
class ScriptedPrimary {
 public:
  ScriptedPrimary() : server_([this](const ReceivedRequest& request) { return answer(request); }) {}

  std::string url() const { return server_.url(""); }

 private:
  Reply answer(const ReceivedRequest& request) {
    unsigned generation = 0;
    unsigned start = 0;
    unsigned end = 0;
    std::lock_guard lock(mutex_);
    if (request.head.starts_with("GET /info ")) return Reply::http(200, R"({"current_generation":1})");
    if (request.head.starts_with("GET /export/1 ")) return Reply::http(200, "", "application/octet-stream");
    if (std::sscanf(request.head.c_str(), "GET /sync/%u/%u/%u", &generation, &start, &end) == 3) {
      if (start < 1 || start > frames_.size()) return Reply::http(400, R"({"generation":1})");
      std::string body;
      for (unsigned number = start; number < end && number <= frames_.size(); ++number) body += frames_[number - 1];
      return Reply::http(200, body, "application/octet-stream");
    }
    if (std::sscanf(request.head.c_str(), "POST /sync/%u/%u/%u", &generation, &start, &end) == 3) {
      for (std::size_t at = 0; at < request.body.size(); at += kFrameSize) {
        frames_.push_back(request.body.substr(at, kFrameSize));
      }
      return Reply::http(
          200, R"({"status":"ok","generation":1,"max_frame_no":)" + std::to_string(end - 1) + R"(,"baton":"b"})");
    }
    return Reply::http(404, "{}");
  }

  std::mutex mutex_;
  std::vector<std::string> frames_;
  FakeHttpServer server_;
};

std::shared_ptr<ReplicaConnection> offline_replica(const ScriptedPrimary& primary, const std::string& path,
                                                   std::optional<std::chrono::milliseconds> interval = {}) {
  ReplicaOptions options;
  options.local.database = path;
  options.local.transaction_control = TransactionControl::Autocommit;
  options.primary.endpoint = remote::parse_remote_url(primary.url(), Secret{});
  options.offline = true;
  options.sync_interval = interval;
  return std::make_shared<ReplicaConnection>(std::move(options));
}

// Runs one operation and returns it once it completed.
template <class Start>
std::shared_ptr<Operation> run(Start start) {
  test::Recorder sink;
  start(std::shared_ptr<CompletionSink>(sink));
  if (!sink->wait_for(1)) throw std::runtime_error("the operation never completed");
  return sink->take().front();
}

std::int64_t count_rows(ReplicaConnection& replica) {
  const auto counted = run([&](auto sink) { replica.execute("SELECT count(*) FROM t", {}, sink, 1); });
  if (const Error* error = error_in(*counted)) throw DbError(*error);
  return std::get<std::int64_t>(test::value_at(std::get<QueryResult>(counted->outcome()).rows, 0, 0));
}

TEST(ReplicaConnection, WhatOneOfflineReplicaPushesAnotherPulls) {
  ScriptedPrimary primary;
  test::TempDir directory;
  auto writer = offline_replica(primary, directory.file("writer.db"));
  ASSERT_EQ(error_in(*run([&](auto sink) { writer->open(sink, 1); })), nullptr);
  ASSERT_EQ(error_in(*run([&](auto sink) {
              writer->execute_script("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2);", sink, 2);
            })),
            nullptr);
  const auto pushed = run([&](auto sink) { writer->sync(sink, 3); });
  ASSERT_EQ(error_in(*pushed), nullptr) << error_in(*pushed)->message;
  EXPECT_GT(std::get<std::int64_t>(test::value_at(std::get<QueryResult>(pushed->outcome()).rows, 0, 1)), 0);

  auto reader = offline_replica(primary, directory.file("reader.db"));
  ASSERT_EQ(error_in(*run([&](auto sink) { reader->open(sink, 1); })), nullptr);
  const auto pulled = run([&](auto sink) { reader->sync(sink, 2); });
  ASSERT_EQ(error_in(*pulled), nullptr) << error_in(*pulled)->message;
  EXPECT_EQ(count_rows(*reader), 2);
  EXPECT_EQ(read_sync_metadata(metadata_path(directory.file("reader.db"))),
            read_sync_metadata(metadata_path(directory.file("writer.db"))));
  for (auto* replica : {writer.get(), reader.get()}) {
    EXPECT_EQ(error_in(*run([&](auto sink) { replica->close(sink, 9); })), nullptr);
  }
}

TEST(ReplicaConnection, SyncIntervalPullsInTheBackgroundUntilClosed) {
  ScriptedPrimary primary;
  test::TempDir directory;
  auto reader = offline_replica(primary, directory.file("reader.db"), std::chrono::milliseconds(5));
  ASSERT_EQ(error_in(*run([&](auto sink) { reader->open(sink, 1); })), nullptr);
  auto writer = offline_replica(primary, directory.file("writer.db"));
  ASSERT_EQ(error_in(*run([&](auto sink) { writer->open(sink, 1); })), nullptr);
  ASSERT_EQ(error_in(*run(
                [&](auto sink) { writer->execute_script("CREATE TABLE t(x); INSERT INTO t VALUES (1);", sink, 2); })),
            nullptr);
  ASSERT_EQ(error_in(*run([&](auto sink) { writer->sync(sink, 3); })), nullptr);
  EXPECT_TRUE(test::eventually([&] {
    try {
      return count_rows(*reader) == 1;
    } catch (const DbError&) {
      return false;  // not pulled yet: no table
    }
  }));
  EXPECT_EQ(error_in(*run([&](auto sink) { reader->close(sink, 9); })), nullptr);
  EXPECT_EQ(error_in(*run([&](auto sink) { writer->close(sink, 9); })), nullptr);
}

}  // namespace
}  // namespace aiolibsql::replica
