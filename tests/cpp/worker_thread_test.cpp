#include "worker_thread.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "test_support.hpp"

using namespace aiolibsql;
using test::Gate;

namespace {

// Parking happens just after a run's end is signalled: waits for it.
bool wait_until_parked(std::size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (parked_worker_threads() < count) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

std::thread::id id_of_thread_running(std::function<void()> also = [] {}) {
  std::thread::id id;
  WorkerThread worker([&] {
    id = std::this_thread::get_id();
    also();
  });
  worker.join();
  return id;
}

}  // namespace

TEST(WorkerThread, TheNextRunReusesAThreadParkedByAFinishedOne) {
  const auto first = id_of_thread_running();
  EXPECT_NE(first, std::this_thread::get_id());
  ASSERT_TRUE(wait_until_parked(1));
  std::size_t runs_seen = 0;
  id_of_thread_running([&] { runs_seen = runs_on_this_worker_thread(); });
  // Its own run and at least one before it: the thread was parked, not made.
  EXPECT_GE(runs_seen, 2u);
}

TEST(WorkerThread, JoinWaitsUntilTheWorkReturns) {
  Gate release;
  std::atomic<bool> returned{false};
  WorkerThread worker([&] {
    release.wait();
    returned = true;
  });
  auto joined = std::async(std::launch::async, [&] { worker.join(); });
  EXPECT_EQ(joined.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  release.open();
  joined.get();
  EXPECT_TRUE(returned);
}

TEST(WorkerThread, JoinCalledByTheWorkItselfReturnsAtOnce) {
  std::promise<WorkerThread*> handle;
  auto shared = handle.get_future().share();
  Gate joined_inside;
  WorkerThread worker([&] {
    shared.get()->join();
    joined_inside.open();
  });
  handle.set_value(&worker);
  EXPECT_TRUE(joined_inside.wait());
  worker.join();
}

TEST(WorkerThread, RunsStartedTogetherRunTogetherOnTheirOwnThreads) {
  constexpr int kRuns = 20;
  std::atomic<int> arrived{0};
  Gate all_arrived;
  std::vector<WorkerThread> workers;
  for (int i = 0; i < kRuns; ++i) {
    workers.emplace_back([&] {
      if (++arrived == kRuns) all_arrived.open();
      all_arrived.wait();
    });
  }
  EXPECT_TRUE(all_arrived.wait());
  for (auto& worker : workers) worker.join();
  // Only so many park; the rest exit.
  EXPECT_LE(parked_worker_threads(), 16u);
}

TEST(WorkerThread, AChildOfForkRunsWorkOnThreadsOfItsOwn) {
  id_of_thread_running();
  ASSERT_TRUE(wait_until_parked(1));
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Guards against a hang in the child only; the test does not wait for it.
    alarm(60);
    const bool none_parked = parked_worker_threads() == 0;
    bool ran = false;
    id_of_thread_running([&] { ran = true; });
    _exit(none_parked && ran ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}
