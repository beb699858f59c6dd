// Executor (ordering, cancel, close, destruction), the completion sinks, and
// AsyncConnection driving a Connection through them.
#include "executor.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "async_connection.hpp"
#include "completion_queue.hpp"
#include "connection.hpp"
#include "test_support.hpp"

namespace aiolibsql {
namespace {

using namespace std::chrono_literals;
using test::error_in;
using test::eventually;
using test::Gate;
using test::kHangBound;
using test::make_operation;

Outcome nothing() { return std::monostate{}; }

bool is_readable(int fd) {
  pollfd watched{fd, POLLIN, 0};
  return ::poll(&watched, 1, 0) == 1 && (watched.revents & POLLIN) != 0;
}

bool becomes_readable(int fd) {
  pollfd watched{fd, POLLIN, 0};
  const int bound_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(kHangBound).count());
  return ::poll(&watched, 1, bound_ms) == 1 && (watched.revents & POLLIN) != 0;
}

// A user function that reports, once per call, that the statement using it
// has started stepping: the only moment at which an interrupt is sure to land.
std::shared_ptr<ScalarFunction> started_marker(std::atomic<bool>& started) {
  return test::make_function([&started](const std::vector<Value>&) -> Value {
    started = true;
    return std::int64_t{1};
  });
}

std::string marked_counting_query() {
  return "WITH RECURSIVE c(x) AS (SELECT mark_started() UNION ALL SELECT x + 1 FROM c WHERE x < 4611686018427387904) "
         "SELECT count(*) FROM c";
}

// ---------------------------------------------------------------------------
// Executor: order and threads

TEST(Executor, RunsOperationsInSubmissionOrder) {
  test::Recorder sink;
  std::vector<int> ran;  // touched only by the worker until every op completed
  {
    Executor executor([] {});
    for (int i = 0; i < 200; ++i) {
      executor.submit(make_operation(
          [&ran, i]() -> Outcome {
            ran.push_back(i);
            return std::int64_t{i};
          },
          sink, static_cast<std::uintptr_t>(i + 1)));
    }
    ASSERT_TRUE(sink->wait_for(200));
  }
  const auto finished = sink->finished();
  ASSERT_EQ(finished.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(ran[static_cast<std::size_t>(i)], i);
    EXPECT_EQ(finished[static_cast<std::size_t>(i)]->tag(), static_cast<std::uintptr_t>(i + 1));
    EXPECT_EQ(std::get<std::int64_t>(finished[static_cast<std::size_t>(i)]->outcome()), i);
  }
}

TEST(Executor, RunsEveryOperationOnOneWorkerThreadOfItsOwn) {
  test::Recorder sink;
  std::vector<std::thread::id> threads(10);
  Executor executor([] {});
  for (std::size_t i = 0; i < threads.size(); ++i) {
    executor.submit(make_operation(
        [&threads, i]() -> Outcome {
          threads[i] = std::this_thread::get_id();
          return nothing();
        },
        sink));
  }
  ASSERT_TRUE(sink->wait_for(threads.size()));
  for (const auto& id : threads) {
    EXPECT_EQ(id, threads.front());
    EXPECT_NE(id, std::this_thread::get_id());
  }
}

TEST(Executor, HoldsTheEngineMutexWhileAnOperationRuns) {
  test::Recorder sink;
  Gate started;
  Gate release;
  Executor executor([] {});
  executor.submit(make_operation(
      [&]() -> Outcome {
        started.open();
        release.wait();
        return nothing();
      },
      sink));
  ASSERT_TRUE(started.wait());
  EXPECT_FALSE(executor.engine_mutex().try_lock());
  release.open();
  ASSERT_TRUE(sink->wait_for(1));
  ASSERT_TRUE(executor.engine_mutex().try_lock());
  executor.engine_mutex().unlock();
}

TEST(Executor, IsIdleOnlyWhenNothingIsQueuedOrRunning) {
  test::Recorder sink;
  Gate release;
  Executor executor([] {});
  EXPECT_TRUE(executor.is_idle());
  executor.submit(make_operation(
      [&]() -> Outcome {
        release.wait();
        return nothing();
      },
      sink));
  EXPECT_FALSE(executor.is_idle());
  release.open();
  ASSERT_TRUE(sink->wait_for(1));
  // The worker forgets the operation before handing it to the sink.
  EXPECT_TRUE(executor.is_idle());
}

TEST(Executor, OperationsWithoutASinkStillRun) {
  test::Recorder sink;
  std::atomic<bool> ran{false};
  Executor executor([] {});
  executor.submit(make_operation(
      [&]() -> Outcome {
        ran = true;
        return nothing();
      },
      nullptr));
  executor.submit(make_operation(nothing, sink));
  ASSERT_TRUE(sink->wait_for(1));
  EXPECT_TRUE(ran);
}

TEST(Executor, ExceptionsThrownByWorkBecomeErrorOutcomes) {
  test::Recorder sink;
  Executor executor([] {});
  executor.submit(make_operation(
      []() -> Outcome {
        throw DbError(Error{ErrorKind::Integrity, SQLITE_CONSTRAINT_UNIQUE, "dup"});
      },
      sink));
  executor.submit(make_operation([]() -> Outcome { throw std::runtime_error("plain failure"); }, sink));
  executor.submit(make_operation([]() -> Outcome { throw std::bad_alloc(); }, sink));
  ASSERT_TRUE(sink->wait_for(3));
  const auto finished = sink->finished();

  const Error* db_error = error_in(*finished[0]);
  ASSERT_NE(db_error, nullptr);
  EXPECT_EQ(db_error->kind, ErrorKind::Integrity);
  EXPECT_EQ(db_error->sqlite_code, SQLITE_CONSTRAINT_UNIQUE);
  EXPECT_EQ(db_error->message, "dup");

  const Error* plain = error_in(*finished[1]);
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->kind, ErrorKind::Internal);
  EXPECT_EQ(plain->message, "plain failure");

  const Error* memory = error_in(*finished[2]);
  ASSERT_NE(memory, nullptr);
  EXPECT_EQ(memory->kind, ErrorKind::Memory);
}

TEST(Executor, AGroupRunnerOutOfMemoryFailsItsGroupAndTheWorkerCarriesOn) {
  test::Recorder sink;
  Executor executor([] {});
  executor.set_group_runner([](const auto&) { throw std::bad_alloc(); }, 8);
  Gate started;
  Gate release;
  executor.submit(make_operation(
      [&]() -> Outcome {
        started.open();
        release.wait();
        return {};
      },
      sink));
  ASSERT_TRUE(started.wait());
  for (int i = 0; i < 2; ++i) {
    auto operation = make_operation([]() -> Outcome { return std::int64_t{1}; }, sink);
    operation->set_groupable(true);
    executor.submit(operation);
  }
  release.open();
  executor.submit(make_operation([]() -> Outcome { return std::int64_t{2}; }, sink));
  ASSERT_TRUE(sink->wait_for(4));
  const auto finished = sink->finished();
  for (int i = 1; i <= 2; ++i) {
    const Error* error = error_in(*finished[i]);
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(error->kind, ErrorKind::Memory);
  }
  EXPECT_EQ(std::get<std::int64_t>(finished[3]->outcome()), 2);
}

// ---------------------------------------------------------------------------
// Executor: cancel

TEST(ExecutorCancel, RemovesAQueuedOperationWhichCompletesAsCancelledWithoutRunning) {
  test::Recorder sink;
  Gate started;
  Gate release;
  std::atomic<bool> cancelled_ran{false};
  Executor executor([] {});
  executor.submit(make_operation(
      [&]() -> Outcome {
        started.open();
        release.wait();
        return nothing();
      },
      sink, 1));
  executor.submit(make_operation(
      [&]() -> Outcome {
        cancelled_ran = true;
        return nothing();
      },
      sink, 2));
  executor.submit(make_operation(nothing, sink, 3));
  ASSERT_TRUE(started.wait());

  EXPECT_TRUE(executor.cancel(2));
  // Completed by cancel() itself, while the first operation still runs.
  ASSERT_EQ(sink->size(), 1u);
  const auto cancelled = sink->finished().front();
  EXPECT_EQ(cancelled->tag(), 2u);
  const Error* error = error_in(*cancelled);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->kind, ErrorKind::Cancelled);
  EXPECT_EQ(error->sqlite_code, -1);

  release.open();
  ASSERT_TRUE(sink->wait_for(3));
  const auto finished = sink->finished();
  EXPECT_EQ(finished[1]->tag(), 1u);
  EXPECT_EQ(finished[2]->tag(), 3u);
  EXPECT_FALSE(cancelled_ran);
}

TEST(ExecutorCancel, ReturnsFalseForUnknownAndFinishedOperations) {
  test::Recorder sink;
  std::atomic<int> interrupts{0};
  Executor executor([&] { ++interrupts; });
  EXPECT_FALSE(executor.cancel(99));
  executor.submit(make_operation(nothing, sink, 7));
  ASSERT_TRUE(sink->wait_for(1));
  EXPECT_FALSE(executor.cancel(7));
  EXPECT_EQ(interrupts, 0);
}

TEST(ExecutorCancel, RaisesTheCancellationFlagForTheRunningOperationOnly) {
  test::Recorder sink;
  Gate started;
  Executor executor([] {});
  const auto& cancelled = executor.cancellation();
  executor.submit(make_operation(
      [&]() -> Outcome {
        started.open();
        const bool seen = eventually([&] { return cancelled.load(); });
        return Outcome{std::int64_t{seen ? 1 : 0}};
      },
      sink, 5));
  executor.submit(
      make_operation([&]() -> Outcome { return Outcome{std::int64_t{cancelled.load() ? 1 : 0}}; }, sink, 6));
  ASSERT_TRUE(started.wait());
  EXPECT_TRUE(executor.cancel(5));
  ASSERT_TRUE(sink->wait_for(2));
  EXPECT_EQ(std::get<std::int64_t>(sink->finished()[0]->outcome()), 1);
  EXPECT_EQ(std::get<std::int64_t>(sink->finished()[1]->outcome()), 0) << "the flag outlived the cancelled operation";
}

TEST(ExecutorCancel, InterruptsARunningLongQuery) {
  auto connection = test::open_memory();
  std::atomic<bool> started{false};
  connection->create_function("mark_started", 0, false, started_marker(started));
  test::Recorder sink;
  Executor executor([&] { connection->interrupt(); });
  connection->watch_cancellation(&executor.cancellation());
  executor.submit(make_operation(
      [&]() -> Outcome { return connection->execute(marked_counting_query(), {}, test::kEverything); }, sink, 9));
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  ASSERT_TRUE(eventually([&] {
    executor.cancel(9);
    return sink->size() == 1;
  }));
  const Error* error = error_in(*sink->finished().front());
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->kind, ErrorKind::Operational);
  EXPECT_EQ(error->sqlite_code, SQLITE_INTERRUPT);
  EXPECT_FALSE(executor.cancel(9));
}

// A cancel that lands after the operation is dequeued but before its
// statement steps (waiting for the engine, preparing, between the statements
// of a script) must still stop it.
TEST(ExecutorCancel, CancelAcceptedBeforeTheStatementStartsIsNotLost) {
  auto connection = test::open_memory();
  test::Recorder sink;
  Gate reached;
  Gate proceed;
  Executor executor([&] { connection->interrupt(); });
  connection->watch_cancellation(&executor.cancellation());
  executor.submit(make_operation(
      [&]() -> Outcome {
        reached.open();
        proceed.wait();
        return connection->execute(test::counting_query(300'000), {}, test::kEverything);
      },
      sink, 3));
  ASSERT_TRUE(reached.wait());
  ASSERT_TRUE(executor.cancel(3)) << "the operation is running, so cancel() must accept it";
  proceed.open();
  ASSERT_TRUE(sink->wait_for(1));
  EXPECT_NE(error_in(*sink->finished().front()), nullptr)
      << "cancel() returned true for the running operation, yet it ran to completion";
}

// ---------------------------------------------------------------------------
// Executor: close and destruction

TEST(ExecutorClose, FailsQueuedOperationsWithProgrammingThenRunsTheLastOne) {
  test::Recorder sink;
  Gate started;
  Gate release;
  std::atomic<int> queued_runs{0};
  Executor executor([] {});
  executor.submit(make_operation(
      [&]() -> Outcome {
        started.open();
        release.wait();
        return nothing();
      },
      sink, 1));
  for (std::uintptr_t tag : {2u, 3u}) {
    executor.submit(make_operation(
        [&]() -> Outcome {
          ++queued_runs;
          return nothing();
        },
        sink, tag));
  }
  ASSERT_TRUE(started.wait());
  executor.close(make_operation([]() -> Outcome { return std::int64_t{42}; }, sink, 4));
  EXPECT_TRUE(executor.is_closed());

  // The queued operations were failed by close() itself.
  ASSERT_EQ(sink->size(), 2u);
  for (const auto& operation : sink->finished()) {
    const Error* error = error_in(*operation);
    ASSERT_NE(error, nullptr);
    EXPECT_EQ(error->kind, ErrorKind::Programming);
  }
  release.open();
  ASSERT_TRUE(sink->wait_for(4));
  const auto finished = sink->finished();
  EXPECT_EQ(finished[0]->tag(), 2u);
  EXPECT_EQ(finished[1]->tag(), 3u);
  EXPECT_EQ(finished[2]->tag(), 1u);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(finished[2]->outcome()));
  EXPECT_EQ(finished[3]->tag(), 4u);
  EXPECT_EQ(std::get<std::int64_t>(finished[3]->outcome()), 42);
  EXPECT_EQ(queued_runs, 0);
}

TEST(ExecutorClose, LaterSubmitsFailImmediatelyWithProgramming) {
  test::Recorder sink;
  std::atomic<bool> ran{false};
  Executor executor([] {});
  executor.close(make_operation(nothing, sink, 1));
  ASSERT_TRUE(sink->wait_for(1));
  executor.submit(make_operation(
      [&]() -> Outcome {
        ran = true;
        return nothing();
      },
      sink, 2));
  // Failed on the submitting thread, before submit() returned.
  ASSERT_EQ(sink->size(), 2u);
  const auto late = sink->finished().back();
  const Error* error = error_in(*late);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->kind, ErrorKind::Programming);
  EXPECT_FALSE(ran);
}

TEST(ExecutorClose, ASecondCloseFailsItsLastOperation) {
  test::Recorder sink;
  Executor executor([] {});
  executor.close(make_operation(nothing, sink, 1));
  executor.close(make_operation(nothing, sink, 2));
  ASSERT_TRUE(sink->wait_for(2));
  for (const auto& operation : sink->finished()) {
    if (operation->tag() == 1) {
      EXPECT_EQ(error_in(*operation), nullptr);
    } else {
      EXPECT_NE(error_in(*operation), nullptr);
    }
  }
}

TEST(ExecutorDestructor, WithQueuedWorkNeitherHangsNorCrashes) {
  test::Recorder sink;
  Gate started;
  Gate interrupted;
  auto executor = std::make_unique<Executor>([&] { interrupted.open(); });
  executor->submit(make_operation(
      [&]() -> Outcome {
        started.open();
        interrupted.wait();
        return nothing();
      },
      sink, 1));
  for (std::uintptr_t tag = 2; tag <= 5; ++tag) executor->submit(make_operation(nothing, sink, tag));
  ASSERT_TRUE(started.wait());
  executor.reset();

  ASSERT_EQ(sink->size(), 5u);
  for (const auto& operation : sink->finished()) {
    if (operation->tag() == 1) {
      EXPECT_EQ(error_in(*operation), nullptr);
    } else {
      const Error* error = error_in(*operation);
      ASSERT_NE(error, nullptr) << operation->tag();
      EXPECT_EQ(error->kind, ErrorKind::Programming);
    }
  }
}

TEST(ExecutorDestructor, MayRunOnTheWorkerInsideAnOperation) {
  test::Recorder sink;
  auto executor = std::make_unique<Executor>([] {});
  Executor& worker = *executor;
  // The operation owns the executor: the last owner letting go on the worker
  // is what happens when a connection is dropped from inside its own work.
  worker.submit(make_operation(
      [owner = std::make_shared<std::unique_ptr<Executor>>(std::move(executor))]() mutable -> Outcome {
        owner->reset();
        return nothing();
      },
      sink));
  ASSERT_TRUE(sink->wait_for(1));
  EXPECT_EQ(error_in(*sink->finished().front()), nullptr);
}

TEST(ExecutorDestructor, ReturnsWhenIdleOrAlreadyClosed) {
  {
    Executor idle([] {});
  }
  test::Recorder sink;
  {
    Executor closed([] {});
    closed.close(make_operation(nothing, sink));
  }
  // Destroyed before or after its last operation ran: either way it completed.
  EXPECT_EQ(sink->size(), 1u);
}

TEST(ExecutorAfterFork, AnInheritedExecutorFailsItsWorkAtOnceAndIsDestroyedWithoutItsThread) {
  auto executor = std::make_unique<Executor>([] {});
  Gate release;
  executor->submit(make_operation(
      [&]() -> Outcome {
        release.wait();
        return {};
      },
      nullptr));
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Guards against a hang in the child only; the test does not wait for it.
    alarm(60);
    test::Recorder sink;
    executor->submit(make_operation([]() -> Outcome { return std::int64_t{1}; }, sink));
    const auto finished = sink->finished();
    const Error* error = finished.size() == 1 ? error_in(*finished[0]) : nullptr;
    const bool refused =
        error != nullptr && error->kind == ErrorKind::Interface && error->message.find("fork()") != std::string::npos;
    const bool unusable = executor->try_hold_idle_engine().owns_lock() == false && !executor->cancel(0);
    executor.reset();
    _exit(refused && unusable ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  release.open();
}

// ---------------------------------------------------------------------------
// CompletionQueue and CompletionWaiter

TEST(CompletionQueue, FdBecomesReadableOnceForSeveralCompletions) {
  CompletionQueue queue;
  EXPECT_FALSE(is_readable(queue.fd()));
  std::vector<std::shared_ptr<Operation>> operations;
  for (std::uintptr_t tag = 1; tag <= 3; ++tag) {
    operations.push_back(make_operation(nothing, nullptr, tag));
    queue.complete(operations.back());
    EXPECT_TRUE(is_readable(queue.fd()));
  }
#ifdef __linux__
  // The eventfd counts wake-ups: one, however many completions arrived.
  std::uint64_t wakeups = 0;
  ASSERT_EQ(::read(queue.fd(), &wakeups, sizeof wakeups), static_cast<ssize_t>(sizeof wakeups));
  EXPECT_EQ(wakeups, 1u);
#endif
  const auto drained = queue.drain();
  ASSERT_EQ(drained.size(), 3u);
  for (std::size_t i = 0; i < drained.size(); ++i) EXPECT_EQ(drained[i], operations[i]);
}

TEST(CompletionQueue, DrainReturnsCompletionsInOrderAndClearsReadability) {
  CompletionQueue queue;
  for (std::uintptr_t tag = 1; tag <= 4; ++tag) queue.complete(make_operation(nothing, nullptr, tag));
  ASSERT_TRUE(is_readable(queue.fd()));
  const auto drained = queue.drain();
  ASSERT_EQ(drained.size(), 4u);
  for (std::uintptr_t tag = 1; tag <= 4; ++tag) EXPECT_EQ(drained[tag - 1]->tag(), tag);
  EXPECT_FALSE(is_readable(queue.fd()));
  EXPECT_TRUE(queue.drain().empty());
}

TEST(CompletionQueue, CompletionAfterADrainSignalsAgain) {
  CompletionQueue queue;
  queue.complete(make_operation(nothing, nullptr, 1));
  ASSERT_EQ(queue.drain().size(), 1u);
  ASSERT_FALSE(is_readable(queue.fd()));
  queue.complete(make_operation(nothing, nullptr, 2));
  EXPECT_TRUE(is_readable(queue.fd()));
  const auto drained = queue.drain();
  ASSERT_EQ(drained.size(), 1u);
  EXPECT_EQ(drained.front()->tag(), 2u);
}

// Records how operations arrive: one entry per hand-over, with their tags.
class RecordingSink final : public CompletionSink {
 public:
  void complete(std::shared_ptr<Operation> operation) override { handovers.push_back({operation->tag()}); }
  void complete_all(std::span<std::shared_ptr<Operation>> operations) override {
    handovers.emplace_back();
    for (const auto& operation : operations) handovers.back().push_back(operation->tag());
  }
  std::vector<std::vector<std::uintptr_t>> handovers;
};

TEST(OperationDeliverAll, HandsEachRunOfNeighboursWithOneSinkOverAtOnceInOrder) {
  auto first = std::make_shared<RecordingSink>();
  auto second = std::make_shared<RecordingSink>();
  std::vector<std::shared_ptr<Operation>> finished{
      make_operation(nothing, first, 1), make_operation(nothing, first, 2), make_operation(nothing, second, 3),
      make_operation(nothing, first, 4), make_operation(nothing, nullptr, 5)};
  Operation::deliver_all(finished);
  EXPECT_TRUE(finished.empty());
  using Handovers = std::vector<std::vector<std::uintptr_t>>;
  EXPECT_EQ(first->handovers, (Handovers{{1, 2}, {4}}));
  EXPECT_EQ(second->handovers, (Handovers{{3}}));
}

TEST(CompletionQueue, AGroupCompletedAtOnceSignalsOnceAndDrainsInOrder) {
  auto queue = std::make_shared<CompletionQueue>();
  std::vector<std::shared_ptr<Operation>> group;
  for (std::uintptr_t tag = 1; tag <= 3; ++tag) group.push_back(make_operation(nothing, queue, tag));
  Operation::deliver_all(group);
#ifdef __linux__
  std::uint64_t wakeups = 0;
  ASSERT_EQ(::read(queue->fd(), &wakeups, sizeof wakeups), static_cast<ssize_t>(sizeof wakeups));
  EXPECT_EQ(wakeups, 1u);
#endif
  const auto drained = queue->drain();
  ASSERT_EQ(drained.size(), 3u);
  for (std::uintptr_t tag = 1; tag <= 3; ++tag) EXPECT_EQ(drained[tag - 1]->tag(), tag);
}

TEST(CompletionQueue, CollectsExecutorCompletionsFromTheWorkerThreadInOrder) {
  auto queue = std::make_shared<CompletionQueue>();
  Executor executor([] {});
  constexpr std::uintptr_t kCount = 50;
  for (std::uintptr_t tag = 1; tag <= kCount; ++tag) executor.submit(make_operation(nothing, queue, tag));
  std::vector<std::uintptr_t> tags;
  while (tags.size() < kCount) {
    ASSERT_TRUE(becomes_readable(queue->fd()));
    for (const auto& operation : queue->drain()) tags.push_back(operation->tag());
  }
  for (std::uintptr_t tag = 1; tag <= kCount; ++tag) EXPECT_EQ(tags[tag - 1], tag);
}

TEST(CompletionWaiter, WaitReturnsTheOperationCompletedOnAnotherThread) {
  auto waiter = std::make_shared<CompletionWaiter>();
  Executor executor([] {});
  executor.submit(make_operation([]() -> Outcome { return std::int64_t{7}; }, waiter, 11));
  const auto finished = waiter->wait();
  ASSERT_NE(finished, nullptr);
  EXPECT_EQ(finished->tag(), 11u);
  EXPECT_EQ(std::get<std::int64_t>(finished->outcome()), 7);
}

// A waiter that returns from wait() and drops the operation (and with it the
// last reference to the waiter) must not destroy the condition variable while
// the worker still notifies it. Rarely visible in a plain build;
// ThreadSanitizer shows it on the first iteration when it is wrong.
TEST(CompletionWaiter, MayBeDroppedAsSoonAsWaitReturns) {
  Executor executor([] {});
  for (int i = 0; i < 200; ++i) {
    auto waiter = std::make_shared<CompletionWaiter>();
    executor.submit(make_operation(nothing, waiter));
    EXPECT_NE(waiter->wait(), nullptr);
  }
}

// ---------------------------------------------------------------------------
// AsyncConnection

// Submits through `submit` and waits, boundedly, for the one completion.
template <class Submit>
std::shared_ptr<Operation> await(Submit submit) {
  test::Recorder sink;
  submit(std::shared_ptr<CompletionSink>(sink));
  if (!sink->wait_for(1)) throw std::runtime_error("the operation never completed");
  return sink->take().front();
}

const QueryResult& result_of(const std::shared_ptr<Operation>& operation) {
  if (const Error* error = error_in(*operation)) {
    throw std::runtime_error("operation failed: " + error->message);
  }
  return std::get<QueryResult>(operation->outcome());
}

// A connection to a new in-memory database.
std::shared_ptr<AsyncConnection> memory_connection() {
  return std::make_shared<AsyncConnection>(test::memory_options());
}

void open_async(AsyncConnection& connection) {
  const auto opened = await([&](auto sink) { connection.open(sink, 1); });
  if (const Error* error = error_in(*opened)) throw std::runtime_error("open failed: " + error->message);
}

TEST(AsyncConnection, ExecutesFetchesAndClosesOnItsWorker) {
  auto owner = memory_connection();
  AsyncConnection& connection = *owner;
  open_async(connection);
  auto script = await([&](auto sink) {
    connection.execute_script(
        "CREATE TABLE t(x);"
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) INSERT INTO t SELECT x FROM c;",
        sink, 2);
  });
  ASSERT_EQ(error_in(*script), nullptr);

  const auto first = await([&](auto sink) { connection.execute("SELECT x FROM t ORDER BY x", {}, sink, 3); });
  const QueryResult& head = result_of(first);
  EXPECT_EQ(head.rows.row_count(), kFirstChunk.max_rows);
  ASSERT_NE(head.cursor_id, 0u);

  ASSERT_NE(head.open_cursor, nullptr);
  const auto second = await([&](auto sink) { head.open_cursor->fetch(head.open_cursor, sink, 4); });
  const QueryResult& tail = result_of(second);
  EXPECT_EQ(tail.rows.row_count(), 1000 - kFirstChunk.max_rows);
  EXPECT_EQ(tail.cursor_id, 0u);
  EXPECT_EQ(tail.open_cursor, nullptr);
  EXPECT_EQ(test::value_at(tail.rows, tail.rows.row_count() - 1, 0), Value(std::int64_t{1000}));

  const auto closed = await([&](auto sink) { connection.close(sink, 5); });
  EXPECT_EQ(error_in(*closed), nullptr);
  EXPECT_TRUE(connection.is_closed());
  const auto late = await([&](auto sink) { connection.execute("SELECT 1", {}, sink, 6); });
  ASSERT_NE(error_in(*late), nullptr);
  EXPECT_EQ(error_in(*late)->kind, ErrorKind::Programming);
}

TEST(AsyncConnection, OperationsSubmittedBackToBackRunInOrder) {
  auto owner = memory_connection();
  AsyncConnection& connection = *owner;
  test::Recorder sink;
  connection.open(sink, 1);
  connection.execute("CREATE TABLE t(x)", {}, sink, 2);
  connection.execute_many("INSERT INTO t VALUES (?)",
                          {test::positional({std::int64_t{1}}), test::positional({std::int64_t{2}})}, sink, 3);
  connection.commit(sink, 4);
  connection.execute("SELECT sum(x) FROM t", {}, sink, 5);
  ASSERT_TRUE(sink->wait_for(5));
  const auto finished = sink->finished();
  for (std::size_t i = 0; i < finished.size(); ++i) {
    EXPECT_EQ(finished[i]->tag(), i + 1);
    EXPECT_EQ(error_in(*finished[i]), nullptr) << "operation " << i + 1;
  }
  EXPECT_EQ(std::get<std::int64_t>(finished[2]->outcome()), 2);
  EXPECT_EQ(test::value_at(result_of(finished[4]).rows, 0, 0), Value(std::int64_t{3}));
  EXPECT_FALSE(connection.in_transaction());
  EXPECT_EQ(connection.total_changes(), 2);
}

TEST(AsyncConnection, BacksUpIntoAnotherAsyncConnection) {
  auto source_owner = memory_connection();
  AsyncConnection& source = *source_owner;
  auto target = memory_connection();
  open_async(source);
  open_async(*target);
  ASSERT_EQ(error_in(*await([&](auto sink) {
              source.execute_script("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3);", sink, 2);
            })),
            nullptr);
  const auto backup = await([&](auto sink) { source.backup_to(target, "main", -1, sink, 3); });
  ASSERT_EQ(error_in(*backup), nullptr);
  const auto count = await([&](auto sink) { target->execute("SELECT count(*) FROM t", {}, sink, 4); });
  EXPECT_EQ(test::value_at(result_of(count).rows, 0, 0), Value(std::int64_t{3}));
}

TEST(AsyncConnection, CancelInterruptsARunningQueryAndTheConnectionStaysUsable) {
  auto owner = memory_connection();
  AsyncConnection& connection = *owner;
  open_async(connection);
  std::atomic<bool> started{false};
  ASSERT_EQ(error_in(*await([&](auto sink) {
              connection.create_function("mark_started", 0, false, started_marker(started), sink, 2);
            })),
            nullptr);
  test::Recorder sink;
  connection.execute(marked_counting_query(), {}, sink, 3);
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  ASSERT_TRUE(eventually([&] {
    connection.cancel(3);
    return sink->size() == 1;
  }));
  const Error* error = error_in(*sink->finished().front());
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->sqlite_code, SQLITE_INTERRUPT);

  const auto after = await([&](auto next) { connection.execute("SELECT 1", {}, next, 4); });
  EXPECT_EQ(error_in(*after), nullptr);
}

// sqlite3_interrupt() would be the wrong tool for cancel(): the engine only
// clears it when a statement starts while no other is active, so with a
// cursor open it would fail every later statement too.
TEST(AsyncConnection, CancellingARunningQueryDoesNotFailLaterStatementsWhileACursorIsOpen) {
  auto owner = memory_connection();
  AsyncConnection& connection = *owner;
  open_async(connection);
  std::atomic<bool> started{false};
  ASSERT_EQ(error_in(*await([&](auto sink) {
              connection.create_function("mark_started", 0, false, started_marker(started), sink, 2);
            })),
            nullptr);
  const auto cursor = await([&](auto sink) { connection.execute(test::numbers_query(1000), {}, sink, 3); });
  ASSERT_NE(result_of(cursor).cursor_id, 0u);

  test::Recorder sink;
  connection.execute(marked_counting_query(), {}, sink, 4);
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  ASSERT_TRUE(eventually([&] {
    connection.cancel(4);
    return sink->size() == 1;
  }));
  ASSERT_NE(error_in(*sink->finished().front()), nullptr);

  const auto after = await([&](auto next) { connection.execute("SELECT 1", {}, next, 5); });
  const Error* error = error_in(*after);
  EXPECT_EQ(error, nullptr) << "an unrelated statement after the cancelled one failed: " << error->message;
}

TEST(AsyncConnection, KeepsTheEngineCursorWhileAChunkHoldsItAndReleasesItAfter) {
  auto owner = memory_connection();
  AsyncConnection& connection = *owner;
  open_async(connection);
  ASSERT_EQ(error_in(*await([&](auto sink) {
              connection.execute_script(
                  "CREATE TABLE t(x);"
                  "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) "
                  "INSERT INTO t SELECT x FROM c;",
                  sink, 2);
            })),
            nullptr);
  auto head = await([&](auto sink) { connection.execute("SELECT x FROM t", {}, sink, 3); });
  ASSERT_NE(result_of(head).open_cursor, nullptr);

  // While the first chunk is held, the statement stays open and locks the table.
  const auto locked = await([&](auto sink) { connection.execute("DROP TABLE t", {}, sink, 4); });
  ASSERT_NE(error_in(*locked), nullptr);
  EXPECT_EQ(error_in(*locked)->sqlite_code & 0xff, SQLITE_LOCKED);

  // Letting go of the only chunk queues the release ahead of the next operation.
  head.reset();
  const auto dropped = await([&](auto sink) { connection.execute("DROP TABLE t", {}, sink, 5); });
  EXPECT_EQ(error_in(*dropped), nullptr) << error_in(*dropped)->message;
}

TEST(AsyncConnection, DestroyingItWithQueuedWorkFailsThatWork) {
  test::Recorder sink;
  {
    auto connection = memory_connection();
    connection->open(sink, 1);
    for (std::uintptr_t tag = 2; tag <= 20; ++tag) connection->execute("SELECT 1", {}, sink, tag);
  }
  // Every operation completed, either by running or by failing as abandoned.
  ASSERT_EQ(sink->size(), 20u);
  for (const auto& operation : sink->finished()) {
    if (const Error* error = error_in(*operation)) {
      EXPECT_EQ(error->kind, ErrorKind::Programming);
    }
  }
}

}  // namespace
}  // namespace aiolibsql
