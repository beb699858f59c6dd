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
    : interrupt_(std::move(interrupt)), thread_([this] { work_loop(); }) {}

Executor::~Executor() {
  std::vector<std::shared_ptr<Operation>> abandoned;
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    stop_ = true;
    abandoned.assign(queue_.begin(), queue_.end());
    queue_.clear();
    if (running_ != nullptr) interrupt_();
  }
  wake_.notify_one();
  for (auto& operation : abandoned) {
    operation->finish(closed_error());
    if (operation->sink_) operation->sink_->complete(operation);
  }
  if (thread_.joinable()) thread_.join();
}

void Executor::submit(std::shared_ptr<Operation> operation) {
  {
    std::lock_guard lock(mutex_);
    if (!closed_) {
      queue_.push_back(std::move(operation));
      wake_.notify_one();
      return;
    }
  }
  operation->finish(closed_error());
  if (operation->sink_) operation->sink_->complete(std::move(operation));
}

void Executor::close(std::shared_ptr<Operation> last) {
  std::deque<std::shared_ptr<Operation>> abandoned;
  {
    std::lock_guard lock(mutex_);
    if (closed_) {
      abandoned.push_back(std::move(last));
    } else {
      closed_ = true;
      abandoned.swap(queue_);
      queue_.push_back(std::move(last));
      wake_.notify_one();
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
    std::lock_guard lock(mutex_);
    const auto found =
        std::find_if(queue_.begin(), queue_.end(), [tag](const auto& operation) { return operation->tag() == tag; });
    if (found == queue_.end()) {
      if (running_ == nullptr || running_->tag() != tag) return false;
      interrupt_();
      return true;
    }
    removed = std::move(*found);
    queue_.erase(found);
  }
  removed->finish(cancelled_error());
  if (removed->sink_) removed->sink_->complete(std::move(removed));
  return true;
}

bool Executor::is_closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

bool Executor::is_idle() const {
  std::lock_guard lock(mutex_);
  return queue_.empty() && running_ == nullptr;
}

void Executor::work_loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;
    auto operation = std::move(queue_.front());
    queue_.pop_front();
    running_ = operation.get();
    const bool last = closed_ && queue_.empty();
    lock.unlock();
    {
      std::lock_guard engine(engine_mutex_);
      operation->run();
    }
    lock.lock();
    running_ = nullptr;
    lock.unlock();
    if (operation->sink_) operation->sink_->complete(std::move(operation));
    lock.lock();
    if (last) return;
  }
}

}  // namespace aiolibsql
