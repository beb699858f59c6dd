#include "worker_thread.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace aiolibsql {

namespace {

// How long a parked thread waits for new work before it exits.
constexpr auto kParkedLifetime = std::chrono::seconds(5);
// Threads beyond this many exit instead of parking.
constexpr std::size_t kMostParked = 16;

// One thread's place in the car park.
struct Slot {
  std::condition_variable wake;
  std::shared_ptr<WorkerThread::Run> next;  // work handed to it while parked
};

struct Parking {
  std::mutex mutex;
  std::vector<Slot*> parked;  // the most recently parked last: it is the warmest
};

// Parked threads keep the car park alive, so it outlives static destruction
// while they wait.
std::shared_ptr<Parking> parking() {
  static const std::shared_ptr<Parking> instance = [] {
    auto made = std::make_shared<Parking>();
    // Across fork() the lock is held, so the child finds it in a known
    // state; the threads parked in the parent do not exist in the child.
    pthread_atfork([] { parking()->mutex.lock(); }, [] { parking()->mutex.unlock(); },
                   [] {
                     parking()->parked.clear();
                     parking()->mutex.unlock();
                   });
    return made;
  }();
  return instance;
}

}  // namespace

struct WorkerThread::Run {
  explicit Run(std::function<void()> work) : work(std::move(work)) {}
  std::function<void()> work;
  std::mutex mutex;
  std::condition_variable finished_signal;
  std::thread::id thread;  // set by the thread before the work starts
  bool finished = false;
};

namespace {

thread_local std::size_t runs_started = 0;

void run_to_end(const std::shared_ptr<WorkerThread::Run>& run) {
  ++runs_started;
  {
    std::lock_guard lock(run->mutex);
    run->thread = std::this_thread::get_id();
  }
  run->work();
  // What the work captured goes before anyone is told it has returned.
  run->work = nullptr;
  {
    std::lock_guard lock(run->mutex);
    run->finished = true;
  }
  run->finished_signal.notify_all();
}

// Named so a debugger or /proc shows whose threads these are, and whether
// one is running a connection or parked.
void name_this_thread([[maybe_unused]] const char* name) {
#ifdef __linux__
  pthread_setname_np(pthread_self(), name);
#endif
}

void thread_main(std::shared_ptr<Parking> park, std::shared_ptr<WorkerThread::Run> run) {
#ifdef __linux__
  // A little below the event loop's priority: when the cores are busy, the
  // loop (which serves every task) is scheduled first and stays responsive.
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 5);
#endif
  Slot slot;
  while (run) {
    name_this_thread("aiolibsql-db");
    run_to_end(run);
    run.reset();
    name_this_thread("aiolibsql-idle");
    std::unique_lock lock(park->mutex);
    if (park->parked.size() >= kMostParked) return;
    park->parked.push_back(&slot);
    if (!slot.wake.wait_for(lock, kParkedLifetime, [&] { return slot.next != nullptr; })) {
      std::erase(park->parked, &slot);
      return;
    }
    run = std::move(slot.next);
  }
}

}  // namespace

WorkerThread::WorkerThread(std::function<void()> work) : run_(std::make_shared<Run>(std::move(work))) {
  auto park = parking();
  {
    std::lock_guard lock(park->mutex);
    if (!park->parked.empty()) {
      Slot* slot = park->parked.back();
      park->parked.pop_back();
      slot->next = run_;
      slot->wake.notify_one();
      return;
    }
  }
  std::thread(thread_main, std::move(park), run_).detach();
}

void WorkerThread::join() {
  if (!run_) return;
  std::unique_lock lock(run_->mutex);
  if (run_->thread == std::this_thread::get_id()) return;
  run_->finished_signal.wait(lock, [&] { return run_->finished; });
}

std::size_t runs_on_this_worker_thread() noexcept { return runs_started; }

std::size_t parked_worker_threads() {
  auto park = parking();
  std::lock_guard lock(park->mutex);
  return park->parked.size();
}

}  // namespace aiolibsql
