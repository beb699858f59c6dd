#include "executor.hpp"

#include <pthread.h>

#include <algorithm>
#include <utility>
#ifdef __linux__
#include <sys/resource.h>
#include <unistd.h>
#endif

#include "fork_generation.hpp"

namespace aiolibsql {

namespace {

Error closed_error() {
  return Error{ErrorKind::Programming, -1, "the connection was closed before this operation ran"};
}

Error cancelled_error() { return Error{ErrorKind::Cancelled, -1, "the operation was cancelled"}; }

// The error outcome for the exception being handled.
Error current_exception_error() noexcept {
  try {
    throw;
  } catch (const DbError& error) {
    return error.error();
  } catch (const std::bad_alloc&) {
    return Error{ErrorKind::Memory, -1, "out of memory"};
  } catch (const std::exception& error) {
    return Error{ErrorKind::Internal, -1, error.what()};
  } catch (...) {
    return Error{ErrorKind::Internal, -1, "unknown error"};
  }
}

}  // namespace

void Operation::run() noexcept {
  try {
    outcome_ = work_();
  } catch (...) {
    outcome_ = current_exception_error();
  }
}

void Operation::finish(Outcome outcome) noexcept {
  outcome_ = std::move(outcome);
  work_ = nullptr;
}

void Operation::complete(std::shared_ptr<Operation> operation, Outcome outcome) noexcept {
  operation->finish(std::move(outcome));
  deliver(std::move(operation));
}

void Operation::deliver(std::shared_ptr<Operation> operation) noexcept {
  // The sink must outlive its own complete(), even if the operation it
  // receives held the last reference to it.
  if (auto sink = operation->sink_) sink->complete(std::move(operation));
}

void Operation::deliver_all(std::vector<std::shared_ptr<Operation>>& operations) noexcept {
  std::span<std::shared_ptr<Operation>> rest(operations);
  while (!rest.empty()) {
    auto sink = rest.front()->sink_;
    std::size_t run = 1;
    while (run < rest.size() && rest[run]->sink_ == sink) ++run;
    if (sink) sink->complete_all(rest.first(run));
    rest = rest.subspan(run);
  }
  operations.clear();
}

Executor::Executor(std::function<void()> interrupt)
    : generation_(fork_generation()),
      state_(std::make_shared<State>(std::move(interrupt))),
      thread_([state = state_] { work_loop(state); }) {}

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
  std::vector<std::shared_ptr<Operation>> abandoned;
  {
    std::lock_guard lock(state_->mutex);
    state_->closed = true;
    state_->stop = true;
    abandoned.assign(state_->queue.begin(), state_->queue.end());
    state_->queue.clear();
    if (state_->busy) state_->interrupt();
    // The interrupt hook belongs to our owner, which is going away.
    state_->interrupt = [] {};
  }
  state_->wake.notify_one();
  for (auto& operation : abandoned) {
    Operation::complete(std::move(operation), closed_error());
  }
  // The last owner may let go on the worker itself (from inside an
  // operation); a thread cannot join itself, and it returns right after.
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();
  } else if (thread_.joinable()) {
    thread_.join();
  }
}

void Executor::submit_all(std::span<std::shared_ptr<Operation>> operations) {
  if (inherited()) {
    for (auto& operation : operations) Operation::complete(std::move(operation), inherited_error());
    return;
  }
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->closed) {
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
      state_->closed = true;
      abandoned.swap(state_->queue);
      state_->queue.push_back(std::move(last));
      state_->queued.store(1, std::memory_order_release);
      state_->wake.notify_one();
    }
  }
  for (auto& operation : abandoned) {
    Operation::complete(std::move(operation), closed_error());
  }
}

bool Executor::cancel(std::uintptr_t tag) {
  if (inherited()) return false;
  std::shared_ptr<Operation> removed;
  {
    std::lock_guard lock(state_->mutex);
    auto& queue = state_->queue;
    const auto found =
        std::find_if(queue.begin(), queue.end(), [tag](const auto& operation) { return operation->tag() == tag; });
    if (found != queue.end() && !(*found)->cancellable()) return false;
    if (found == queue.end()) {
      const Operation* running = state_->running;
      if (running == nullptr || running->tag() != tag || !running->cancellable()) return false;
      state_->cancel_running.store(true, std::memory_order_relaxed);
      return true;
    }
    removed = std::move(*found);
    queue.erase(found);
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
  std::lock_guard lock(state_->mutex);
  return state_->closed;
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

void Executor::count_inline_completion() {
  std::lock_guard lock(state_->mutex);
  ++state_->stats.completed;
}

std::size_t Executor::load() const {
  std::lock_guard lock(state_->mutex);
  return state_->queue.size() + (state_->busy ? 1 : 0);
}

ExecutorStats Executor::stats() const {
  std::lock_guard lock(state_->mutex);
  ExecutorStats stats = state_->stats;
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
#ifdef __linux__
  // Named so a debugger or /proc shows whose threads these are.
  pthread_setname_np(pthread_self(), "aiolibsql-db");
  // A little below the event loop's priority: when the cores are busy, the
  // loop (which serves every task) is scheduled first and stays responsive.
  setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 5);
#endif
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
    group.push_back(std::move(queue.front()));
    queue.pop_front();
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
        group.push_back(std::move(queue.front()));
        queue.pop_front();
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
