#include "executor.hpp"

#include <algorithm>
#include <deque>
#include <thread>
#include <utility>

#include "fork_generation.hpp"

namespace aiolibsql {

namespace {

Error closed_error() {
  return Error{ErrorKind::Programming, -1, "the connection was closed before this operation ran"};
}

}  // namespace

Executor::Executor(std::function<void()> interrupt)
    : generation_(fork_generation()), state_(std::make_shared<State>(std::move(interrupt))) {}

void Executor::start_worker_locked() {
  if (worker_started_) return;
  thread_ = WorkerThread([state = state_] { work_loop(state); });
  worker_started_ = true;
}

Executor::State::State(std::function<void()> interrupt) : interrupt(std::move(interrupt)) {
  // The worker gathers operations here without allocating: memory running
  // out there could not be reported to anyone.
  group.reserve(1);
}

bool Executor::inherited() const noexcept { return generation_ != fork_generation(); }

Executor::~Executor() {
  if (inherited()) {
    // The worker vanished in the fork, perhaps holding the state's locks:
    // touch nothing, and leak the state with the thread record (as the
    // engine it drove is leaked) without allocating.
    state_->orphaned_thread = std::move(thread_);
    state_->self_after_fork = state_;
    return;
  }
  std::deque<std::shared_ptr<Operation>> abandoned;
  bool running = false;
  {
    std::lock_guard lock(state_->mutex);
    state_->closed.store(true, std::memory_order_release);
    state_->stop = true;
    abandoned = state_->queue.take_all();
    running = state_->busy;
    if (running) state_->interrupt();
    // The interrupt hook belongs to our owner, which is going away.
    state_->interrupt = [] {};
  }
  state_->wake.notify_one();
  OrderedQueue<>::fail_all(std::move(abandoned), closed_error());
  // An operation running now may use our owner: wait for it to end. Without
  // one the worker touches only the shared state from here on, and is not
  // waited for (it may still have to wake up to see it is stopped). The last
  // owner may let go on the worker itself, inside an operation: join() then
  // returns at once, and the work right after.
  if (running) thread_.join();
}

void Executor::submit_all(std::span<std::shared_ptr<Operation>> operations) {
  if (inherited()) {
    for (auto& operation : operations) Operation::complete(std::move(operation), inherited_error());
    return;
  }
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->closed) {
      start_worker_locked();
      for (auto& operation : operations) state_->queue.push_back(std::move(operation));
      state_->queued.store(state_->queue.size(), std::memory_order_release);
      if (state_->sleeping) state_->wake.notify_one();
      return;
    }
  }
  for (auto& operation : operations) Operation::complete(std::move(operation), closed_error());
}

void Executor::close(std::shared_ptr<Operation> last) {
  if (inherited()) {
    Operation::complete(std::move(last), inherited_error());
    return;
  }
  std::deque<std::shared_ptr<Operation>> abandoned;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->closed) {
      abandoned.push_back(std::move(last));
    } else {
      state_->closed.store(true, std::memory_order_release);
      start_worker_locked();
      abandoned = state_->queue.take_all();
      state_->queue.push_back(std::move(last));
      state_->queued.store(1, std::memory_order_release);
      state_->wake.notify_one();
    }
  }
  OrderedQueue<>::fail_all(std::move(abandoned), closed_error());
}

void Executor::close_idle() {
  if (inherited()) return;
  std::deque<std::shared_ptr<Operation>> abandoned;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->closed) return;
    state_->closed.store(true, std::memory_order_release);
    state_->stop = true;
    abandoned = state_->queue.take_all();
  }
  state_->wake.notify_one();
  OrderedQueue<>::fail_all(std::move(abandoned), closed_error());
}

bool Executor::cancel(std::uintptr_t tag) {
  if (inherited()) return false;
  std::shared_ptr<Operation> removed;
  {
    std::lock_guard lock(state_->mutex);
    switch (state_->queue.remove(tag, removed)) {
      case OrderedQueue<>::Removal::Refused:
        return false;
      case OrderedQueue<>::Removal::Removed:
        break;
      case OrderedQueue<>::Removal::NotQueued: {
        const Operation* running = state_->running;
        if (running == nullptr || running->tag() != tag || !running->cancellable()) return false;
        state_->cancel_running.store(true, std::memory_order_relaxed);
        return true;
      }
    }
  }
  Operation::complete(std::move(removed), cancelled_error());
  return true;
}

void Executor::interrupt_running() {
  std::lock_guard lock(state_->mutex);
  if (state_->running != nullptr) state_->cancel_running.store(true, std::memory_order_relaxed);
}

bool Executor::is_closed() const {
  if (inherited()) return false;
  return state_->closed.load(std::memory_order_acquire);
}

void Executor::set_group_runner(GroupRunner runner, std::size_t largest_group, std::chrono::microseconds gather) {
  std::lock_guard lock(state_->mutex);
  state_->group.reserve(largest_group);
  state_->group_runner = std::move(runner);
  state_->largest_group = largest_group;
  state_->gather = gather;
}

std::unique_lock<std::mutex> Executor::try_hold_idle_engine() {
  if (inherited()) return {};
  std::lock_guard lock(state_->mutex);
  if (state_->closed || state_->busy || !state_->queue.empty()) return {};
  // Taken under the state lock: the worker cannot start anything before we hold it.
  return std::unique_lock(state_->engine_mutex, std::try_to_lock);
}

void Executor::count_inline_completion() { state_->inline_completed.fetch_add(1, std::memory_order_relaxed); }

std::size_t Executor::load() const {
  std::lock_guard lock(state_->mutex);
  return state_->queue.size() + (state_->busy ? 1 : 0);
}

ExecutorStats Executor::stats() const {
  std::lock_guard lock(state_->mutex);
  ExecutorStats stats = state_->stats;
  stats.completed += state_->inline_completed.load(std::memory_order_relaxed);
  stats.queued = state_->queue.size();
  return stats;
}

bool Executor::is_idle() const {
  std::lock_guard lock(state_->mutex);
  return state_->queue.empty() && !state_->busy;
}

namespace {

// How long an idle worker keeps looking for work before it sleeps: a caller
// awaiting one statement after another finds it awake, which saves a thread
// wake-up (tens of microseconds) per statement.
constexpr auto kSpinBeforeSleep = std::chrono::microseconds(50);

// Waits (unlocked) up to kSpinBeforeSleep for work to be queued.
bool spin_for_work(const std::atomic<std::size_t>& queued) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinBeforeSleep;
  do {
    if (queued.load(std::memory_order_acquire) != 0) return true;
    std::this_thread::yield();
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

}  // namespace

void Executor::work_loop(const std::shared_ptr<State>& state) {
  std::unique_lock lock(state->mutex);
  auto& group = state->group;
  while (true) {
    if (state->queue.empty() && !state->stop) {
      lock.unlock();
      spin_for_work(state->queued);
      lock.lock();
    }
    state->sleeping = true;
    state->wake.wait(lock, [&] { return state->stop || !state->queue.empty(); });
    state->sleeping = false;
    if (state->queue.empty()) return;
    auto& queue = state->queue;
    group.push_back(queue.take_front());
    if (group.front()->groupable() && state->group_runner) {
      const auto deadline = std::chrono::steady_clock::now() + state->gather;
      auto more_arrived = [&] {
        state->sleeping = true;
        const bool arrived = state->wake.wait_until(lock, deadline, [&] { return state->stop || !queue.empty(); });
        state->sleeping = false;
        return arrived && !state->stop;
      };
      while (group.size() < state->largest_group) {
        if (queue.empty() && (state->gather.count() == 0 || !more_arrived())) break;
        if (!queue.front()->groupable()) break;
        group.push_back(queue.take_front());
      }
    }
    state->queued.store(queue.size(), std::memory_order_release);
    // Only a lone operation can be interrupted by cancel(): inside a group,
    // interrupting one statement would fail its neighbours too.
    state->running = group.size() == 1 ? group.front().get() : nullptr;
    state->busy = true;
    const bool last = state->closed && queue.empty();
    lock.unlock();
    {
      std::lock_guard engine(state->engine_mutex);
      if (group.size() == 1) {
        group.front()->run();
      } else {
        try {
          state->group_runner(group);
        } catch (...) {
          const Error error = current_exception_error();
          for (auto& operation : group) operation->finish(error);
        }
      }
    }
    lock.lock();
    state->running = nullptr;
    // Release: whoever sees it clear sees what the operation left behind.
    state->cancel_running.store(false, std::memory_order_release);
    state->busy = false;
    state->stats.completed += group.size();
    if (group.size() > 1) {
      ++state->stats.groups;
      state->stats.grouped_operations += group.size();
      state->stats.largest_group = std::max(state->stats.largest_group, group.size());
    }
    lock.unlock();
    Operation::deliver_all(group);
    lock.lock();
    if (last || state->stop) return;
  }
}

}  // namespace aiolibsql
