// The seam between a connection and what holds its database: callers drive
// any backend through ConnectionBackend alone, and ask it by name for what
// only some backends can do.
#include <gtest/gtest.h>

#include <memory>

#include "async_connection.hpp"
#include "remote_connection.hpp"
#include "test_support.hpp"

namespace aiolibsql {
namespace {

using test::error_in;

constexpr Capability kEngineOnly[] = {Capability::Rekey, Capability::Backup, Capability::UserFunctions,
                                      Capability::Interrupt, Capability::TotalChanges};

std::shared_ptr<ConnectionBackend> unreachable_remote() {
  remote::RemoteOptions options;
  options.endpoint = remote::parse_remote_url("http://127.0.0.1:9", Secret{});
  return std::make_shared<remote::RemoteConnection>(std::move(options));
}

TEST(ConnectionBackend, TheLocalEngineIsDrivenThroughTheInterfaceAlone) {
  std::shared_ptr<ConnectionBackend> backend = std::make_shared<AsyncConnection>(test::memory_options());
  test::Recorder sink;
  backend->open(sink, 1);
  backend->execute_script("CREATE TABLE t(x)", sink, 2);
  backend->set_transaction_control(TransactionControl::Manual, sink, 3);
  backend->execute("INSERT INTO t VALUES (1)", {}, sink, 4);
  ASSERT_TRUE(sink->wait_for(4));
  EXPECT_TRUE(backend->in_transaction());
  backend->rollback(sink, 5);
  backend->execute("SELECT count(*) FROM t", {}, sink, 6);
  ASSERT_TRUE(sink->wait_for(6));
  // close() fails what is still queued, so it comes last.
  backend->close(sink, 7);
  ASSERT_TRUE(sink->wait_for(7));
  const auto finished = sink->finished();
  for (const auto& operation : finished) EXPECT_EQ(error_in(*operation), nullptr) << "tag " << operation->tag();
  EXPECT_EQ(test::value_at(std::get<QueryResult>(finished[5]->outcome()).rows, 0, 0), Value(std::int64_t{0}));
  EXPECT_TRUE(backend->is_closed());
}

TEST(ConnectionBackend, TheLocalEngineLacksNothing) {
  const auto backend = std::make_shared<AsyncConnection>(test::memory_options());
  for (const Capability capability : kEngineOnly) EXPECT_EQ(backend->lacks(capability), std::nullopt);
}

TEST(ConnectionBackend, ARemoteDatabaseLacksEveryEngineOnlyCapabilityAndSaysWhy) {
  const auto backend = unreachable_remote();
  for (const Capability capability : kEngineOnly) {
    const auto reason = backend->lacks(capability);
    ASSERT_TRUE(reason.has_value());
    EXPECT_TRUE(reason->starts_with("on a remote database: ")) << *reason;
    EXPECT_GT(reason->size(), std::string_view("on a remote database: ").size());
  }
}

TEST(ConnectionBackend, ARemoteDatabaseNeverAnswersOnTheCallersThread) {
  const auto backend = unreachable_remote();
  Params params;
  EXPECT_EQ(backend->try_execute_inline("SELECT 1", params), std::nullopt);
  EXPECT_FALSE(backend->can_hand_off("SELECT 1"));
}

}  // namespace
}  // namespace aiolibsql
