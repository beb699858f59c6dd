#include "executor.hpp"

#include <algorithm>
#include <utility>

namespace aiolibsql {

namespace {

Error closed_error() {
  return Error{ErrorKind::Programming, -1, "the connection was closed before this operation ran"};
}

Error cancelled_error() { return Error{ErrorKind::Cancelled, -1, "the operation was cancelled"}; }

}  // namespace

void Operation::run() noexcept {
  try {
    outcome_ = work_();
  } catch (const DbError& error) {
    outcome_ = error.error();
  } catch (const std::bad_alloc&) {
    outcome_ = Error{ErrorKind::Memory, -1, "out of memory"};
  } catch (const std::exception& error) {
    outcome_ = Error{ErrorKind::Internal, -1, error.what()};
  }
  work_ = nullptr;
}

void Operation::finish(Outcome outcome) noexcept {
  outcome_ = std::move(outcome);
  work_ = nullptr;
}

void Operation::complete(std::shared_ptr<Operation> operation, Outcome outcome) noexcept {
  operation->finish(std::move(outcome));
  if (operation->sink_) {
    auto sink = operation->sink_;
    sink->complete(std::move(operation));
  }
}

Executor::Executor(std::function<void()> interrupt)
    : state_(std::make_shared<State>(std::move(interrupt))), thread_([state = state_] { work_loop(state); }) {}

Executor::~Executor() {
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
    operation->finish(closed_error());
    if (operation->sink_) operation->sink_->complete(operation);
  }
  // The last owner may let go on the worker itself (from inside an
  // operation); a thread cannot join itself, and it returns right after.
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();
  } else if (thread_.joinable()) {
    thread_.join();
  }
}

void Executor::submit(std::shared_ptr<Operation> operation) {
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->closed) {
      state_->queue.push_back(std::move(operation));
      state_->wake.notify_one();
      return;
    }
  }
  operation->finish(closed_error());
  if (operation->sink_) operation->sink_->complete(std::move(operation));
}

void Executor::close(std::shared_ptr<Operation> last) {
  std::deque<std::shared_ptr<Operation>> abandoned;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->closed) {
      abandoned.push_back(std::move(last));
    } else {
      state_->closed = true;
      abandoned.swap(state_->queue);
      state_->queue.push_back(std::move(last));
      state_->wake.notify_one();
    }
  }
  for (auto& operation : abandoned) {
    operation->finish(closed_error());
    if (operation->sink_) operation->sink_->complete(std::move(operation));
  }
}

bool Executor::cancel(std::uintptr_t tag) {
  std::shared_ptr<Operation> removed;
  {
    std::lock_guard lock(state_->mutex);
    auto& queue = state_->queue;
    const auto found =
        std::find_if(queue.begin(), queue.end(), [tag](const auto& operation) { return operation->tag() == tag; });
    if (found == queue.end()) {
      if (state_->running == nullptr || state_->running->tag() != tag) return false;
      state_->interrupt();
      return true;
    }
    removed = std::move(*found);
    queue.erase(found);
  }
  removed->finish(cancelled_error());
  if (removed->sink_) removed->sink_->complete(std::move(removed));
  return true;
}

bool Executor::is_closed() const {
  std::lock_guard lock(state_->mutex);
  return state_->closed;
}

void Executor::set_group_runner(GroupRunner runner, std::size_t largest_group, std::chrono::microseconds gather) {
  std::lock_guard lock(state_->mutex);
  state_->group_runner = std::move(runner);
  state_->largest_group = largest_group;
  state_->gather = gather;
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

void Executor::work_loop(const std::shared_ptr<State>& state) {
  std::unique_lock lock(state->mutex);
  std::vector<std::shared_ptr<Operation>> group;
  while (true) {
    state->wake.wait(lock, [&] { return state->stop || !state->queue.empty(); });
    if (state->queue.empty()) return;
    auto& queue = state->queue;
    group.push_back(std::move(queue.front()));
    queue.pop_front();
    if (group.front()->groupable() && state->group_runner) {
      const auto deadline = std::chrono::steady_clock::now() + state->gather;
      while (group.size() < state->largest_group) {
        if (queue.empty() && (state->gather.count() == 0 ||
                              !state->wake.wait_until(lock, deadline, [&] { return state->stop || !queue.empty(); }) ||
                              state->stop)) {
          break;
        }
        if (!queue.front()->groupable()) break;
        group.push_back(std::move(queue.front()));
        queue.pop_front();
      }
    }
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
        state->group_runner(group);
      }
    }
    lock.lock();
    state->running = nullptr;
    state->busy = false;
    state->stats.completed += group.size();
    if (group.size() > 1) {
      ++state->stats.groups;
      state->stats.grouped_operations += group.size();
      state->stats.largest_group = std::max(state->stats.largest_group, group.size());
    }
    lock.unlock();
    for (auto& operation : group) {
      if (operation->sink_) operation->sink_->complete(std::move(operation));
    }
    group.clear();
    lock.lock();
    if (last || state->stop) return;
  }
}

}  // namespace aiolibsql
