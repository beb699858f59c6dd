// Pool: opening, routing by what a statement does, the inline read path,
// group commit, explicit transactions and the writer's gate, read snapshots,
// atomic batches, close (with its WAL checkpoint) and cancel.
//
// Every pool here is a file database in a temporary directory: size 3 (one
// writer, two readers) in WAL mode. Where a test needs the writer held busy
// it uses either an explicit transaction (later writes park behind it) or a
// second, external connection holding the file's write lock (the writer's
// statement then waits in its busy handler until the test lets go).
#include "pool/pool.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "async_connection.hpp"
#include "completion_queue.hpp"
#include "connection.hpp"
#include "error.hpp"
#include "executor.hpp"
#include "submission_batch.hpp"
#include "test_support.hpp"

namespace aiolibsql {
namespace {

using namespace std::chrono_literals;
using test::error_in;
using test::eventually;
using test::kHangBound;
using test::positional;
using test::value_at;

using Sink = std::shared_ptr<CompletionSink>;

PoolOptions pool_options(const test::TempDir& dir) {
  PoolOptions options;
  options.database = dir.file("pool.db");
  options.size = 3;
  options.setup_statements = {"PRAGMA journal_mode = WAL"};
  return options;
}

Params id_param(std::int64_t id) { return positional({Value{id}}); }

// Submits through `submit` and waits, boundedly, for its one completion.
template <class Submit>
std::shared_ptr<Operation> await(Submit submit) {
  test::Recorder sink;
  submit(Sink(sink));
  if (!sink->wait_for(1)) throw std::runtime_error("the operation never completed");
  return sink->take().front();
}

std::string describe(Operation& operation) {
  if (const Error* error = error_in(operation)) {
    std::string text = "Error{";
    text += kind_name(error->kind);
    text += ", " + std::to_string(error->sqlite_code) + ", \"" + error->message + "\"}";
    return text;
  }
  return "success";
}

::testing::AssertionResult succeeded(const std::shared_ptr<Operation>& operation) {
  if (operation == nullptr) return ::testing::AssertionFailure() << "no operation";
  if (error_in(*operation) == nullptr) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "tag " << operation->tag() << " failed: " << describe(*operation);
}

::testing::AssertionResult fails_with(const std::shared_ptr<Operation>& operation, ErrorKind kind) {
  if (operation == nullptr) return ::testing::AssertionFailure() << "no operation";
  const Error* error = error_in(*operation);
  if (error == nullptr) {
    return ::testing::AssertionFailure() << "tag " << operation->tag() << " succeeded; expected a " << kind_name(kind)
                                         << " error";
  }
  if (error->kind != kind) {
    return ::testing::AssertionFailure() << "tag " << operation->tag() << " failed with " << describe(*operation)
                                         << "; expected kind " << kind_name(kind);
  }
  return ::testing::AssertionSuccess();
}

const QueryResult& result_of(const std::shared_ptr<Operation>& operation) {
  if (const Error* error = error_in(*operation)) throw std::runtime_error("operation failed: " + error->message);
  return std::get<QueryResult>(operation->outcome());
}

// The single integer a one-row, one-column query returned.
std::int64_t integer_of(const std::shared_ptr<Operation>& operation) {
  const QueryResult& result = result_of(operation);
  if (result.rows.row_count() != 1 || result.rows.column_count() != 1) {
    throw std::runtime_error("expected one row of one column");
  }
  const Value value = value_at(result.rows, 0, 0);
  if (!std::holds_alternative<std::int64_t>(value)) throw std::runtime_error("expected an integer");
  return std::get<std::int64_t>(value);
}

// The operation in `finished` carrying `tag`.
std::shared_ptr<Operation> with_tag(const std::vector<std::shared_ptr<Operation>>& finished, std::uintptr_t tag) {
  for (const auto& operation : finished) {
    if (operation->tag() == tag) return operation;
  }
  return nullptr;
}

// A connection of its own on the pool's file, outside the pool.
std::unique_ptr<Connection> open_outside(const std::string& database) {
  OpenOptions options;
  options.database = database;
  options.isolation_level = std::nullopt;
  options.transaction_control = TransactionControl::Autocommit;
  return test::open_connection(options);
}

// The size of the WAL file, or nothing when there is none.
std::optional<std::uintmax_t> wal_size(const std::string& database) {
  std::error_code error;
  const auto size = std::filesystem::file_size(database + "-wal", error);
  if (error) return std::nullopt;
  return size;
}

class PoolTest : public ::testing::Test {
 protected:
  void TearDown() override {
    // Let every worker go before the temporary directory does.
    if (pool_ != nullptr && !pool_->is_closed()) {
      test::Recorder closed;
      pool_->close(closed, 0);
      EXPECT_TRUE(closed->wait_for(1)) << "close() never completed";
    }
    pool_.reset();
  }

  // Opens a pool on the fixture's file and creates t(id, v) through it.
  void start(PoolOptions options) {
    pool_ = std::make_shared<Pool>(std::move(options));
    const auto opened = await([&](Sink sink) { pool_->open(sink, 1); });
    ASSERT_TRUE(succeeded(opened));
    ASSERT_TRUE(succeeded(exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")));
  }
  void start() { start(pool_options(dir_)); }

  // Begins a transaction and waits until it holds the writer; `begun` then
  // serves for its end too.
  std::uint64_t begin_and_wait(test::Recorder& begun) {
    const auto transaction = pool_->begin_transaction(begun, 1);
    if (!begun->wait_for(1)) {
      ADD_FAILURE() << "BEGIN never completed";
      return transaction;
    }
    EXPECT_TRUE(succeeded(begun->take().front()));
    return transaction;
  }

  std::string database() const { return dir_.file("pool.db"); }

  std::shared_ptr<Operation> exec(std::string sql, Params params = {}) {
    return await([&](Sink sink) { pool_->execute(std::move(sql), std::move(params), sink, 2); });
  }

  std::int64_t count(const std::string& where = "") {
    return integer_of(exec("SELECT count(*) FROM t" + (where.empty() ? "" : " WHERE " + where)));
  }

  PoolMemberStats writer_stats() const { return pool_->stats().at(0); }
  PoolMemberStats reader_stats(std::size_t reader) const { return pool_->stats().at(1 + reader); }
  std::uint64_t reader_completions() const {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < pool_->reader_count(); ++i) total += reader_stats(i).completed;
    return total;
  }

  test::TempDir dir_;
  std::shared_ptr<Pool> pool_;
};

// ---------------------------------------------------------------------------
// open() and stats()

TEST_F(PoolTest, OpenOpensTheWriterThenTheReadersAndStatsListOneWriterAndSizeMinusOneReaders) {
  pool_ = std::make_shared<Pool>(pool_options(dir_));
  EXPECT_EQ(pool_->size(), 3u);
  EXPECT_EQ(pool_->reader_count(), 2u);
  const auto opened = await([&](Sink sink) { pool_->open(sink, 1); });
  ASSERT_TRUE(succeeded(opened));

  const auto stats = pool_->stats();
  ASSERT_EQ(stats.size(), 3u);
  EXPECT_EQ(stats[0].role, "writer");
  EXPECT_EQ(stats[1].role, "reader");
  EXPECT_EQ(stats[2].role, "reader");
  // One open operation each, all finished before open() completed.
  for (const auto& connection : stats) {
    EXPECT_EQ(connection.completed, 1u);
    EXPECT_EQ(connection.queued, 0u);
  }
  // The writer's setup statement switched the file itself to WAL.
  auto outside = open_outside(database());
  EXPECT_EQ(test::scalar(*outside, "PRAGMA journal_mode"), Value(std::string("wal")));
}

TEST_F(PoolTest, OpenDoesNotOpenTheReadersWhenTheWriterFails) {
  auto options = pool_options(dir_);
  options.database = dir_.file("no-such-directory/pool.db");
  pool_ = std::make_shared<Pool>(options);
  const auto opened = await([&](Sink sink) { pool_->open(sink, 1); });
  EXPECT_NE(error_in(*opened), nullptr) << "opening a file in a missing directory succeeded";
  EXPECT_EQ(writer_stats().completed, 1u);
  EXPECT_EQ(reader_stats(0).completed, 0u);
  EXPECT_EQ(reader_stats(1).completed, 0u);
}

// ---------------------------------------------------------------------------
// Routing

TEST_F(PoolTest, AnInheritedPoolIsDestroyedInAForkChildWithoutItsThreads) {
  start();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Guards against a hang in the child only; the test does not wait for it.
    alarm(60);
    // The pool's threads stayed in the parent: destroying it must neither
    // join them nor wait for them.
    pool_.reset();
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status)) << "the child died with status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(PoolTest, ASelectCompletesOnAReaderAndNotOnTheWriter) {
  start();
  const auto writer_before = writer_stats().completed;
  const auto readers_before = reader_completions();
  EXPECT_EQ(integer_of(exec("SELECT count(*) FROM t")), 0);
  EXPECT_EQ(writer_stats().completed, writer_before);
  EXPECT_EQ(reader_completions(), readers_before + 1);
}

TEST_F(PoolTest, WritesAndWritingPragmasCompleteOnTheWriter) {
  start();
  const std::vector<std::string> writes = {
      "INSERT INTO t(id, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')",
      "UPDATE t SET v = 'B' WHERE id = 2",
      "DELETE FROM t WHERE id = 1",
      "WITH doomed AS (SELECT id FROM t WHERE v = 'B') DELETE FROM t WHERE id IN (SELECT id FROM doomed)",
      "PRAGMA user_version = 3",
  };
  for (const auto& sql : writes) {
    const auto writer_before = writer_stats().completed;
    const auto readers_before = reader_completions();
    EXPECT_TRUE(succeeded(exec(sql))) << sql;
    EXPECT_EQ(writer_stats().completed, writer_before + 1) << sql;
    EXPECT_EQ(reader_completions(), readers_before) << sql;
  }
  EXPECT_EQ(count(), 1);
  EXPECT_EQ(count("id = 3 AND v = 'c'"), 1);
  EXPECT_EQ(integer_of(exec("PRAGMA user_version")), 3);
}

TEST_F(PoolTest, TransactionControlThroughExecuteFailsWithProgrammingAndRunsNowhere) {
  start();
  const auto before = pool_->stats();
  for (const char* sql : {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK", "SAVEPOINT s", "RELEASE s"}) {
    EXPECT_TRUE(fails_with(exec(sql), ErrorKind::Programming)) << sql;
  }
  const auto after = pool_->stats();
  for (std::size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i].completed, before[i].completed);
  // The writer is not left inside a transaction: a later write commits.
  ASSERT_TRUE(succeeded(exec("INSERT INTO t(id) VALUES (1)")));
  EXPECT_EQ(count(), 1);
}

// A result with rows left keeps its statement, and with it a read
// transaction, open on the reader that produced it; any statement that reader
// runs meanwhile shares that old snapshot. A read submitted after a write
// has committed must not be sent there, or it misses the write.
TEST_F(PoolTest, AReadAfterACommittedWriteSeesItWhileAnotherResultIsStillOpenOnAReader) {
  start();
  ASSERT_TRUE(
      succeeded(exec("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) "
                     "INSERT INTO t(id) SELECT x FROM c")));
  const auto unfinished = exec("SELECT id FROM t");
  ASSERT_NE(result_of(unfinished).open_cursor, nullptr) << "the test needs a result with rows left";

  ASSERT_TRUE(succeeded(exec("INSERT INTO t(id) VALUES (5000)")));
  EXPECT_EQ(count(), 1001) << "a read after a committed write did not see it";
  Params none;
  const auto inline_result = pool_->try_execute_inline("SELECT count(*) FROM t WHERE id > 0", none);
  if (inline_result.has_value()) {
    EXPECT_EQ(value_at(inline_result->rows, 0, 0), Value(std::int64_t{1001}))
        << "an inline read after a committed write did not see it";
  }
}

// ---------------------------------------------------------------------------
// The inline read path

TEST_F(PoolTest, TryExecuteInlineReturnsRowsForAShortReadOnAnIdleReader) {
  start();
  ASSERT_TRUE(succeeded(exec("INSERT INTO t(id, v) VALUES (7, 'seven')")));
  const auto writer_before = writer_stats().completed;
  const auto readers_before = reader_completions();
  Params params = id_param(7);
  const auto result = pool_->try_execute_inline("SELECT v FROM t WHERE id = ?", params);
  ASSERT_TRUE(result.has_value()) << "an idle reader declined a one-row read";
  ASSERT_EQ(result->rows.row_count(), 1u);
  EXPECT_EQ(value_at(result->rows, 0, 0), Value(std::string("seven")));
  EXPECT_EQ(result->cursor_id, 0u);
  // Counted as a reader's completion although it ran on this thread.
  EXPECT_EQ(reader_completions(), readers_before + 1);
  EXPECT_EQ(writer_stats().completed, writer_before);
}

TEST_F(PoolTest, TryExecuteInlineReturnsNothingForAWriteAndRunsNothing) {
  start();
  const auto before = pool_->stats();
  Params params = id_param(1);
  EXPECT_FALSE(pool_->try_execute_inline("INSERT INTO t(id) VALUES (?)", params).has_value());
  Params none;
  EXPECT_FALSE(pool_->try_execute_inline("PRAGMA user_version = 9", none).has_value());
  const auto after = pool_->stats();
  for (std::size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i].completed, before[i].completed);
  EXPECT_EQ(count(), 0);
  EXPECT_EQ(integer_of(exec("PRAGMA user_version")), 0);
}

// ---------------------------------------------------------------------------
// Group commit

TEST_F(PoolTest, WritesQueuedBehindABusyWriterCommitAsOneGroupAndAFailingOneFailsAlone) {
  start();
  ASSERT_TRUE(succeeded(exec("INSERT INTO t(id, v) VALUES (1000, 'seed')")));
  const auto before = writer_stats();

  // An explicit transaction holds the writer: plain writes park behind it.
  test::Recorder transaction;
  const auto id = pool_->begin_transaction(transaction, 1);
  ASSERT_TRUE(transaction->wait_for(1));
  ASSERT_TRUE(succeeded(transaction->take().front()));

  test::Recorder writes;
  constexpr std::uintptr_t kConflicting = 1000;
  std::size_t submitted = 0;
  for (std::int64_t i = 1; i <= 20; ++i) {
    if (i == 10) {
      pool_->execute("INSERT INTO t(id, v) VALUES (?, 'g')", id_param(1000), writes, kConflicting);
      ++submitted;
    }
    pool_->execute("INSERT INTO t(id, v) VALUES (?, 'g')", id_param(i), writes, static_cast<std::uintptr_t>(i));
    ++submitted;
  }
  EXPECT_EQ(writes->size(), 0u) << "a plain write ran while a transaction held the writer";

  pool_->end_transaction(id, true, transaction, 2);
  ASSERT_TRUE(transaction->wait_for(1));
  EXPECT_TRUE(succeeded(transaction->take().front()));
  ASSERT_TRUE(writes->wait_for(submitted));

  for (const auto& operation : writes->finished()) {
    if (operation->tag() == kConflicting) {
      ASSERT_TRUE(fails_with(operation, ErrorKind::Integrity));
      EXPECT_EQ(error_in(*operation)->sqlite_code & 0xff, SQLITE_CONSTRAINT);
    } else {
      ASSERT_TRUE(succeeded(operation));
      EXPECT_EQ(result_of(operation).rowcount, 1) << "tag " << operation->tag();
    }
  }
  const auto after = writer_stats();
  EXPECT_GT(after.groups, 0u);
  EXPECT_EQ(after.groups - before.groups, 1u) << "the released writes were not committed as one group";
  EXPECT_EQ(after.grouped_operations - before.grouped_operations, submitted);
  EXPECT_EQ(after.largest_group, submitted);

  // Everything but the conflicting insert was committed; the seed row is untouched.
  EXPECT_EQ(count("v = 'g'"), 20);
  EXPECT_EQ(count("id = 1000 AND v = 'seed'"), 1);
  EXPECT_EQ(count(), 21);
}

// ---------------------------------------------------------------------------
// Transactions

TEST_F(PoolTest, ACommittedTransactionPersistsAndIsInvisibleToReadersUntilThen) {
  start();
  test::Recorder sink;
  const auto id = pool_->begin_transaction(sink, 1);
  pool_->transaction_execute(id, "INSERT INTO t(id) VALUES (?)", id_param(1), sink, 2);
  pool_->transaction_execute_many(id, "INSERT INTO t(id) VALUES (?)", {id_param(2), id_param(3)}, sink, 3);
  pool_->transaction_execute(id, "SELECT count(*) FROM t", {}, sink, 4);
  ASSERT_TRUE(sink->wait_for(4));
  for (const auto& operation : sink->finished()) ASSERT_TRUE(succeeded(operation));
  EXPECT_EQ(std::get<std::int64_t>(with_tag(sink->finished(), 3)->outcome()), 2);
  EXPECT_EQ(integer_of(with_tag(sink->finished(), 4)), 3) << "the transaction does not see its own writes";
  EXPECT_EQ(count(), 0) << "a reader saw uncommitted rows";

  pool_->end_transaction(id, true, sink, 5);
  ASSERT_TRUE(sink->wait_for(5));
  EXPECT_TRUE(succeeded(with_tag(sink->finished(), 5)));
  EXPECT_EQ(count(), 3);
}

TEST_F(PoolTest, ARolledBackTransactionLeavesNothingBehind) {
  start();
  test::Recorder sink;
  const auto id = pool_->begin_transaction(sink, 1);
  pool_->transaction_execute(id, "INSERT INTO t(id) VALUES (?)", id_param(1), sink, 2);
  pool_->transaction_execute(id, "PRAGMA user_version = 5", {}, sink, 3);
  pool_->end_transaction(id, false, sink, 4);
  ASSERT_TRUE(sink->wait_for(4));
  for (const auto& operation : sink->finished()) EXPECT_TRUE(succeeded(operation));
  EXPECT_EQ(count(), 0);
  EXPECT_EQ(integer_of(exec("PRAGMA user_version")), 0);
  // The writer is usable, and outside any transaction, afterwards.
  ASSERT_TRUE(succeeded(exec("INSERT INTO t(id) VALUES (9)")));
  EXPECT_EQ(count(), 1);
}

TEST_F(PoolTest, APlainWriteWaitsForAnActiveTransactionAndSurvivesItsRollback) {
  start();
  test::Recorder transaction;
  const auto id = pool_->begin_transaction(transaction, 1);
  pool_->transaction_execute(id, "INSERT INTO t(id, v) VALUES (1, 'inside')", {}, transaction, 2);
  ASSERT_TRUE(transaction->wait_for(2));

  test::Recorder plain;
  pool_->execute("INSERT INTO t(id, v) VALUES (2, 'plain')", {}, plain, 10);
  // The transaction goes on while the plain write waits at the gate.
  pool_->transaction_execute(id, "INSERT INTO t(id, v) VALUES (3, 'inside')", {}, transaction, 3);
  ASSERT_TRUE(transaction->wait_for(3));
  EXPECT_EQ(plain->size(), 0u) << "the plain write ran inside someone else's transaction";
  EXPECT_EQ(writer_stats().queued, 0u);

  pool_->end_transaction(id, false, transaction, 4);
  ASSERT_TRUE(plain->wait_for(1));
  ASSERT_TRUE(transaction->wait_for(4));
  for (const auto& operation : transaction->finished()) EXPECT_TRUE(succeeded(operation));
  EXPECT_TRUE(succeeded(plain->finished().front()));

  EXPECT_EQ(count("v = 'inside'"), 0);
  EXPECT_EQ(count("id = 2 AND v = 'plain'"), 1);
  EXPECT_EQ(count(), 1);
}

TEST_F(PoolTest, AHeldWriteWaitsForATransactionBegunOnAnotherThreadBeforeItWasHandedOver) {
  start();
  test::Recorder held;
  test::Recorder transaction;
  std::uint64_t id = 0;
  {
    SubmissionBatch batch(10, held.get());
    pool_->execute("INSERT INTO t(id, v) VALUES (1, 'held')", {}, held, 10);
    EXPECT_EQ(writer_stats().queued, 0u) << "the write was not held";
    std::thread([&] { id = pool_->begin_transaction(transaction, 1); }).join();
    ASSERT_TRUE(transaction->wait_for(1));
  }
  pool_->transaction_execute(id, "INSERT INTO t(id, v) VALUES (2, 'inside')", {}, transaction, 2);
  ASSERT_TRUE(transaction->wait_for(2));
  EXPECT_EQ(held->size(), 0u) << "the held write ran inside another thread's transaction";

  pool_->end_transaction(id, false, transaction, 3);
  ASSERT_TRUE(held->wait_for(1));
  EXPECT_TRUE(succeeded(held->finished().front()));
  EXPECT_EQ(count("v = 'inside'"), 0);
  EXPECT_EQ(count("id = 1 AND v = 'held'"), 1);
}

TEST_F(PoolTest, AWriteNotHeldGoesAfterTheWritesTheSameThreadHolds) {
  start();
  test::Recorder sink;
  {
    SubmissionBatch batch(10, sink.get());
    pool_->execute("INSERT INTO t(id, v) VALUES (1, 'first')", {}, sink, 1);
    // DDL is not grouped, so it is not held: the held insert must go first.
    pool_->execute("CREATE TABLE copy AS SELECT * FROM t", {}, sink, 2);
  }
  ASSERT_TRUE(sink->wait_for(2));
  for (const auto& operation : sink->finished()) EXPECT_TRUE(succeeded(operation)) << describe(*operation);
  EXPECT_EQ(integer_of(exec("SELECT count(*) FROM copy")), 1);
}

TEST_F(PoolTest, CancellingAHeldWriteCompletesItAsCancelledAndNothingIsWritten) {
  start();
  test::Recorder sink;
  {
    SubmissionBatch batch(10, sink.get());
    pool_->execute("INSERT INTO t(id, v) VALUES (1, 'cancelled')", {}, sink, 7);
    EXPECT_TRUE(pool_->cancel(7));
    ASSERT_EQ(sink->size(), 1u);
    const Error* error = error_in(*sink->finished().front());
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(error->kind, ErrorKind::Cancelled);
  }
  EXPECT_EQ(count(), 0);
}

TEST_F(PoolTest, EndingATransactionWhoseBeginWasCancelledIsRefusedInsteadOfHanging) {
  start();
  test::Recorder first;
  const auto holder = begin_and_wait(first);

  // A second transaction's BEGIN parks behind the first; cancelling it there
  // means it never runs.
  test::Recorder second;
  const auto never_begun = pool_->begin_transaction(second, 20);
  EXPECT_EQ(second->size(), 0u);
  ASSERT_TRUE(pool_->cancel(20));
  ASSERT_EQ(second->size(), 1u);
  EXPECT_TRUE(fails_with(second->take().front(), ErrorKind::Cancelled));

  // Refused at once, on this thread: nothing would ever let it through.
  pool_->end_transaction(never_begun, true, second, 21);
  ASSERT_EQ(second->size(), 1u) << "end_transaction was parked for a transaction that will never begin";
  EXPECT_TRUE(fails_with(second->take().front(), ErrorKind::Programming));
  pool_->transaction_execute(never_begun, "INSERT INTO t(id) VALUES (1)", {}, second, 22);
  ASSERT_EQ(second->size(), 1u);
  EXPECT_TRUE(fails_with(second->take().front(), ErrorKind::Programming));

  pool_->end_transaction(holder, true, first, 2);
  ASSERT_TRUE(first->wait_for(1));
  EXPECT_TRUE(succeeded(first->take().front()));
  EXPECT_EQ(count(), 0);
}

// Statements submitted for a transaction while its BEGIN was parked wait
// with it. When that BEGIN is cancelled they must not run later outside any
// transaction: the insert would be committed on its own and the rollback
// would report success while discarding nothing.
TEST_F(PoolTest, StatementsParkedForATransactionWhoseBeginWasCancelledAreRefusedNotRunInAutocommit) {
  start();
  test::Recorder first;
  const auto holder = begin_and_wait(first);

  test::Recorder second;
  const auto never_begun = pool_->begin_transaction(second, 20);
  pool_->transaction_execute(never_begun, "INSERT INTO t(id, v) VALUES (7, 'orphan')", {}, second, 21);
  pool_->end_transaction(never_begun, false, second, 22);
  EXPECT_EQ(second->size(), 0u) << "the second transaction's work should wait behind the first";
  ASSERT_TRUE(pool_->cancel(20));

  pool_->end_transaction(holder, true, first, 2);
  ASSERT_TRUE(first->wait_for(1));
  ASSERT_TRUE(second->wait_for(3));
  const auto finished = second->finished();
  EXPECT_TRUE(fails_with(with_tag(finished, 20), ErrorKind::Cancelled));
  EXPECT_TRUE(fails_with(with_tag(finished, 21), ErrorKind::Programming))
      << "an INSERT of a transaction that never began ran anyway";
  EXPECT_TRUE(fails_with(with_tag(finished, 22), ErrorKind::Programming))
      << "ending a transaction whose BEGIN never ran was accepted";
  EXPECT_EQ(count("v = 'orphan'"), 0) << "a rolled-back transaction's insert was committed";
}

TEST_F(PoolTest, EndingATransactionWhoseBeginFailedIsRefused) {
  auto options = pool_options(dir_);
  options.timeout_seconds = 0.05;
  start(options);
  // Someone outside the pool holds the write lock, so BEGIN IMMEDIATE fails.
  auto outside = open_outside(database());
  test::run(*outside, "BEGIN IMMEDIATE");

  test::Recorder sink;
  const auto id = pool_->begin_transaction(sink, 1);
  ASSERT_TRUE(sink->wait_for(1));
  const auto begun = sink->take().front();
  ASSERT_TRUE(fails_with(begun, ErrorKind::Operational));
  EXPECT_EQ(error_in(*begun)->sqlite_code & 0xff, SQLITE_BUSY);

  pool_->end_transaction(id, true, sink, 2);
  ASSERT_EQ(sink->size(), 1u) << "end_transaction waited for a transaction whose BEGIN failed";
  EXPECT_TRUE(fails_with(sink->take().front(), ErrorKind::Programming));

  // The gate is open again: once the lock is gone, writes and transactions work.
  test::run(*outside, "ROLLBACK");
  ASSERT_TRUE(succeeded(exec("INSERT INTO t(id) VALUES (1)")));
  const auto next = pool_->begin_transaction(sink, 3);
  pool_->end_transaction(next, true, sink, 4);
  ASSERT_TRUE(sink->wait_for(2));
  for (const auto& operation : sink->finished()) EXPECT_TRUE(succeeded(operation));
  EXPECT_EQ(count(), 1);
}

// ---------------------------------------------------------------------------
// Snapshots

TEST_F(PoolTest, ASnapshotPinsAReaderAndKeepsSeeingItsStateWhileAWriteCommits) {
  start();
  ASSERT_TRUE(succeeded(exec("INSERT INTO t(id) VALUES (1)")));

  test::Recorder sink;
  const int reader = pool_->begin_snapshot(sink, 1);
  ASSERT_GE(reader, 0);
  ASSERT_LT(reader, 2);
  ASSERT_TRUE(sink->wait_for(1));
  ASSERT_TRUE(succeeded(sink->take().front()));
  const auto pinned = static_cast<std::size_t>(reader);
  const auto other = 1 - pinned;

  const auto inside = [&] {
    return integer_of(
        await([&](Sink next) { pool_->snapshot_execute(reader, "SELECT count(*) FROM t", {}, next, 2); }));
  };
  EXPECT_EQ(inside(), 1);
  ASSERT_TRUE(succeeded(exec("INSERT INTO t(id) VALUES (2)")));
  EXPECT_EQ(inside(), 1) << "the snapshot saw a write committed after it began";

  // Ordinary reads go to the other reader only, and see the write.
  const auto pinned_before = reader_stats(pinned).completed;
  const auto other_before = reader_stats(other).completed;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(count(), 2);
  EXPECT_EQ(reader_stats(pinned).completed, pinned_before);
  EXPECT_EQ(reader_stats(other).completed, other_before + 5);

  const auto ended = await([&](Sink next) { pool_->end_snapshot(reader, next, 3); });
  ASSERT_TRUE(succeeded(ended));
  EXPECT_EQ(
      integer_of(await([&](Sink next) { pool_->snapshot_execute(reader, "SELECT count(*) FROM t", {}, next, 4); })), 2)
      << "the reader still reads the snapshot after end_snapshot";
}

TEST_F(PoolTest, EndSnapshotUnpinsAndWithEveryReaderPinnedBeginSnapshotFailsOperational) {
  start();
  test::Recorder sink;
  const int first = pool_->begin_snapshot(sink, 1);
  const int second = pool_->begin_snapshot(sink, 2);
  ASSERT_TRUE(sink->wait_for(2));
  for (const auto& operation : sink->take()) ASSERT_TRUE(succeeded(operation));
  ASSERT_GE(first, 0);
  ASSERT_GE(second, 0);
  EXPECT_NE(first, second);

  EXPECT_EQ(pool_->begin_snapshot(sink, 3), -1);
  ASSERT_EQ(sink->size(), 1u) << "a refused snapshot completes at once";
  EXPECT_TRUE(fails_with(sink->take().front(), ErrorKind::Operational));

  // With every reader pinned, an ordinary read still runs: on the writer.
  const auto writer_before = writer_stats().completed;
  EXPECT_EQ(count(), 0);
  EXPECT_EQ(writer_stats().completed, writer_before + 1);

  ASSERT_TRUE(succeeded(await([&](Sink next) { pool_->end_snapshot(first, next, 4); })));
  const int again = pool_->begin_snapshot(sink, 5);
  EXPECT_EQ(again, first) << "the unpinned reader was not picked again";
  ASSERT_TRUE(sink->wait_for(1));
  EXPECT_TRUE(succeeded(sink->take().front()));

  ASSERT_TRUE(succeeded(await([&](Sink next) { pool_->end_snapshot(again, next, 6); })));
  ASSERT_TRUE(succeeded(await([&](Sink next) { pool_->end_snapshot(second, next, 7); })));
  // Both readers serve ordinary reads again.
  const auto writer_after = writer_stats().completed;
  EXPECT_EQ(count(), 0);
  EXPECT_EQ(writer_stats().completed, writer_after);
}

// ---------------------------------------------------------------------------
// execute_many and execute_batch

TEST_F(PoolTest, ExecuteManyCommitsEverythingOrNothing) {
  start();
  const auto inserted = await([&](Sink sink) {
    pool_->execute_many("INSERT INTO t(id) VALUES (?)", {id_param(1), id_param(2), id_param(3)}, sink, 1);
  });
  ASSERT_TRUE(succeeded(inserted));
  EXPECT_EQ(std::get<std::int64_t>(inserted->outcome()), 3);

  // The last parameter set conflicts: the two before it are rolled back too.
  const auto failed = await([&](Sink sink) {
    pool_->execute_many("INSERT INTO t(id) VALUES (?)", {id_param(4), id_param(5), id_param(1)}, sink, 2);
  });
  EXPECT_TRUE(fails_with(failed, ErrorKind::Integrity));
  EXPECT_EQ(count(), 3);
  EXPECT_EQ(count("id IN (4, 5)"), 0);

  // No transaction was left open on the writer.
  ASSERT_TRUE(succeeded(exec("INSERT INTO t(id) VALUES (6)")));
  EXPECT_EQ(count(), 4);
}

TEST_F(PoolTest, ExecuteBatchCommitsEverythingOrNothing) {
  start();
  std::vector<std::pair<std::string, Params>> good = {
      {"INSERT INTO t(id, v) VALUES (?, 'a')", id_param(1)},
      {"INSERT INTO t(id, v) VALUES (?, 'b')", id_param(2)},
      {"UPDATE t SET v = 'A' WHERE id = ?", id_param(1)},
  };
  ASSERT_TRUE(succeeded(await([&](Sink sink) { pool_->execute_batch(std::move(good), sink, 1); })));
  EXPECT_EQ(count(), 2);
  EXPECT_EQ(count("id = 1 AND v = 'A'"), 1);

  std::vector<std::pair<std::string, Params>> bad = {
      {"INSERT INTO t(id, v) VALUES (?, 'x')", id_param(10)},
      {"DELETE FROM t WHERE id = ?", id_param(2)},
      {"INSERT INTO t(id, v) VALUES (?, 'x')", id_param(1)},  // conflicts
      {"INSERT INTO t(id, v) VALUES (?, 'x')", id_param(11)},
  };
  const auto failed = await([&](Sink sink) { pool_->execute_batch(std::move(bad), sink, 2); });
  EXPECT_TRUE(fails_with(failed, ErrorKind::Integrity));
  EXPECT_EQ(count(), 2);
  EXPECT_EQ(count("id = 2"), 1) << "the batch's DELETE survived its failure";
  EXPECT_EQ(count("v = 'x'"), 0);

  ASSERT_TRUE(succeeded(exec("INSERT INTO t(id) VALUES (3)")));
  EXPECT_EQ(count(), 3);
}

// ---------------------------------------------------------------------------
// close()

TEST_F(PoolTest, CloseFailsWaitingWorkLetsRunningWorkFinishCheckpointsAndRefusesLaterWork) {
  auto options = pool_options(dir_);
  // The running write below waits in its busy handler until the test lets go.
  options.timeout_seconds = std::chrono::duration<double>(kHangBound).count();
  start(options);
  ASSERT_TRUE(succeeded(exec("INSERT INTO t(id, v) VALUES (1, 'before')")));
  ASSERT_TRUE(wal_size(database()).value_or(0) > 0) << "the test needs frames in the WAL";

  // Kept open through close(): the writer is then not the file's last
  // connection, so only the pool's own checkpoint can empty the WAL.
  auto outside = open_outside(database());
  test::run(*outside, "BEGIN IMMEDIATE");

  test::Recorder work;
  pool_->execute("INSERT INTO t(id, v) VALUES (2, 'running')", {}, work, 1);
  ASSERT_TRUE(eventually([&] { return writer_stats().queued == 0; })) << "the writer never took the write";
  pool_->execute("INSERT INTO t(id, v) VALUES (3, 'queued')", {}, work, 2);
  pool_->begin_transaction(work, 3);  // queued on the writer; its gate closes
  pool_->execute("INSERT INTO t(id, v) VALUES (4, 'parked')", {}, work, 4);
  EXPECT_EQ(work->size(), 0u);
  EXPECT_EQ(writer_stats().queued, 2u);

  test::Recorder closed;
  pool_->close(closed, 9);
  EXPECT_TRUE(pool_->is_closed());
  // Queued and parked work failed within close() itself.
  ASSERT_EQ(work->size(), 3u);
  for (std::uintptr_t tag : {2u, 3u, 4u}) {
    EXPECT_TRUE(fails_with(with_tag(work->finished(), tag), ErrorKind::Programming)) << "tag " << tag;
  }
  EXPECT_EQ(closed->size(), 0u) << "close() completed while a write was still running";

  // Let the running write through: it finishes, then the pool closes.
  test::run(*outside, "ROLLBACK");
  ASSERT_TRUE(work->wait_for(4));
  EXPECT_TRUE(succeeded(with_tag(work->finished(), 1)));
  ASSERT_TRUE(closed->wait_for(1));
  EXPECT_TRUE(succeeded(closed->finished().front()));

  const auto wal = wal_size(database());
  EXPECT_TRUE(!wal.has_value() || *wal == 0) << "the WAL still holds " << *wal << " bytes after close()";
  EXPECT_EQ(test::count_rows(*outside, "t"), 2);
  EXPECT_EQ(test::scalar(*outside, "SELECT group_concat(v, ',') FROM (SELECT v FROM t ORDER BY id)"),
            Value(std::string("before,running")));

  // Everything submitted after close() fails with Programming.
  EXPECT_TRUE(fails_with(exec("INSERT INTO t(id) VALUES (5)"), ErrorKind::Programming));
  EXPECT_TRUE(fails_with(exec("SELECT count(*) FROM t"), ErrorKind::Programming));
  EXPECT_TRUE(fails_with(exec("SELECT 1"), ErrorKind::Programming));
  EXPECT_TRUE(fails_with(
      await([&](Sink sink) { pool_->execute_many("INSERT INTO t(id) VALUES (?)", {id_param(6)}, sink, 10); }),
      ErrorKind::Programming));
  EXPECT_TRUE(fails_with(await([&](Sink sink) { pool_->begin_transaction(sink, 11); }), ErrorKind::Programming));
  // A second close() has nothing left to do.
  EXPECT_TRUE(succeeded(await([&](Sink sink) { pool_->close(sink, 12); })));
  EXPECT_EQ(test::count_rows(*outside, "t"), 2);
}

TEST_F(PoolTest, CloseCheckpointsTheWalEvenWhileASnapshotHoldsAnOldReadTransaction) {
  start();
  auto outside = open_outside(database());
  ASSERT_EQ(test::count_rows(*outside, "t"), 0);

  test::Recorder sink;
  const int reader = pool_->begin_snapshot(sink, 1);
  ASSERT_GE(reader, 0);
  ASSERT_TRUE(sink->wait_for(1));
  ASSERT_TRUE(succeeded(sink->take().front()));
  // Committed after the snapshot began: the checkpoint must wait for that
  // reader to let go before it can reset the WAL.
  ASSERT_TRUE(succeeded(exec("INSERT INTO t(id) VALUES (1)")));
  ASSERT_GT(wal_size(database()).value_or(0), 0u);

  ASSERT_TRUE(succeeded(await([&](Sink next) { pool_->close(next, 2); })));
  const auto wal = wal_size(database());
  EXPECT_TRUE(!wal.has_value() || *wal == 0) << "the WAL still holds " << *wal << " bytes after close()";
  EXPECT_EQ(test::count_rows(*outside, "t"), 1);
}

// ---------------------------------------------------------------------------
// cancel()

TEST_F(PoolTest, CancelRemovesAParkedWriterOperationWhichCompletesAsCancelled) {
  start();
  test::Recorder transaction;
  const auto id = pool_->begin_transaction(transaction, 1);
  ASSERT_TRUE(transaction->wait_for(1));

  test::Recorder writes;
  pool_->execute("INSERT INTO t(id, v) VALUES (1, 'cancelled')", {}, writes, 77);
  pool_->execute("INSERT INTO t(id, v) VALUES (2, 'kept')", {}, writes, 78);
  EXPECT_EQ(writes->size(), 0u);

  EXPECT_TRUE(pool_->cancel(77));
  // Completed by cancel() itself.
  ASSERT_EQ(writes->size(), 1u);
  const auto cancelled = writes->finished().front();
  EXPECT_EQ(cancelled->tag(), 77u);
  EXPECT_TRUE(fails_with(cancelled, ErrorKind::Cancelled));
  EXPECT_FALSE(pool_->cancel(77)) << "a cancelled operation was found a second time";
  EXPECT_FALSE(pool_->cancel(12345));

  pool_->end_transaction(id, true, transaction, 2);
  ASSERT_TRUE(writes->wait_for(2));
  EXPECT_TRUE(succeeded(with_tag(writes->finished(), 78)));
  ASSERT_TRUE(transaction->wait_for(2));
  EXPECT_EQ(count("v = 'cancelled'"), 0);
  EXPECT_EQ(count("v = 'kept'"), 1);
}

// A cancelled end would never run: the writer would stay gated, and every
// later write would wait for a transaction nobody can finish.
TEST_F(PoolTest, TheEndOfATransactionRefusesCancellationAndStillLetsLaterWritesThrough) {
  start();
  test::Recorder first;
  const auto holder = begin_and_wait(first);

  // The second transaction's BEGIN and its end park behind the first.
  test::Recorder second;
  const auto parked = pool_->begin_transaction(second, 20);
  pool_->end_transaction(parked, true, second, 21);
  EXPECT_FALSE(pool_->cancel(21));
  EXPECT_EQ(second->size(), 0u) << "the parked end was completed by cancel()";

  pool_->end_transaction(holder, true, first, 2);
  ASSERT_TRUE(first->wait_for(1));
  ASSERT_TRUE(second->wait_for(2));
  for (const auto& operation : second->finished()) EXPECT_TRUE(succeeded(operation));
  EXPECT_TRUE(succeeded(exec("INSERT INTO t(id, v) VALUES (1, 'after')")));
  EXPECT_EQ(count("v = 'after'"), 1);
}

TEST_F(PoolTest, TheEndOfASnapshotRefusesCancellationAndUnpinsItsReader) {
  auto options = pool_options(dir_);
  options.size = 2;
  start(std::move(options));
  test::Recorder snapshot;
  const int reader = pool_->begin_snapshot(snapshot, 1);
  ASSERT_GE(reader, 0);
  // A long read queued first keeps the end queued behind it on the reader.
  pool_->snapshot_execute(reader,
                          "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
                          "SELECT count(*) FROM c",
                          {}, snapshot, 2);
  pool_->end_snapshot(reader, snapshot, 3);
  EXPECT_FALSE(pool_->cancel(3));
  ASSERT_TRUE(snapshot->wait_for(3));
  EXPECT_TRUE(succeeded(with_tag(snapshot->finished(), 3)));
  test::Recorder again;
  EXPECT_EQ(pool_->begin_snapshot(again, 4), reader) << "the only reader is still pinned";
  ASSERT_TRUE(again->wait_for(1));
  pool_->end_snapshot(reader, again, 5);
  ASSERT_TRUE(again->wait_for(2));
}

}  // namespace
}  // namespace aiolibsql
