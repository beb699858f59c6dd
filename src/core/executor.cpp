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
    if (state_->running != nullptr) state_->interrupt();
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

bool Executor::is_idle() const {
  std::lock_guard lock(state_->mutex);
  return state_->queue.empty() && state_->running == nullptr;
}

void Executor::work_loop(const std::shared_ptr<State>& state) {
  std::unique_lock lock(state->mutex);
  while (true) {
    state->wake.wait(lock, [&] { return state->stop || !state->queue.empty(); });
    if (state->queue.empty()) return;
    auto operation = std::move(state->queue.front());
    state->queue.pop_front();
    state->running = operation.get();
    const bool last = state->closed && state->queue.empty();
    lock.unlock();
    {
      std::lock_guard engine(state->engine_mutex);
      operation->run();
    }
    lock.lock();
    state->running = nullptr;
    lock.unlock();
    if (operation->sink_) operation->sink_->complete(std::move(operation));
    lock.lock();
    if (last || state->stop) return;
  }
}

}  // namespace aiolibsql
