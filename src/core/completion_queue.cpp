#include "completion_queue.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>
#include <thread>
#include <utility>

#ifdef __linux__
#include <sys/eventfd.h>
#endif

namespace aiolibsql {

CompletionQueue::CompletionQueue() {
#ifdef __linux__
  read_fd_ = write_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (read_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
#else
  int fds[2];
  if (pipe(fds) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  for (int fd : fds) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  read_fd_ = fds[0];
  write_fd_ = fds[1];
#endif
}

CompletionQueue::~CompletionQueue() {
  close(read_fd_);
  if (write_fd_ != read_fd_) close(write_fd_);
}

void CompletionQueue::complete(std::shared_ptr<Operation> operation) {
  bool was_empty;
  {
    std::lock_guard lock(mutex_);
    was_empty = ready_.empty();
    ready_.push_back(std::move(operation));
  }
  if (was_empty) signal();
}

void CompletionQueue::complete_all(std::span<std::shared_ptr<Operation>> operations) {
  bool was_empty;
  {
    std::lock_guard lock(mutex_);
    was_empty = ready_.empty();
    for (auto& operation : operations) ready_.push_back(std::move(operation));
  }
  if (was_empty) signal();
}

std::vector<std::shared_ptr<Operation>> CompletionQueue::drain() {
  // Clear the signal before taking the queue: a completion that lands in
  // between is taken now, and one that lands after signals again.
  clear_signal();
  std::vector<std::shared_ptr<Operation>> ready;
  std::lock_guard lock(mutex_);
  ready.swap(ready_);
  return ready;
}

void CompletionQueue::signal() noexcept {
  const std::uint64_t one = 1;
  // A full pipe or counter already means "readable": nothing is lost.
  [[maybe_unused]] auto written = write(write_fd_, &one, write_fd_ == read_fd_ ? sizeof one : 1);
}

void CompletionQueue::clear_signal() noexcept {
  std::uint64_t buffer[8];
  while (read(read_fd_, buffer, sizeof buffer) > 0 && write_fd_ != read_fd_) {
  }
}

std::shared_ptr<CompletionSink> all_of(std::size_t count, std::shared_ptr<Operation> outer) {
  struct Progress {
    std::mutex mutex;
    std::size_t remaining;
    Outcome first_error;
    std::shared_ptr<Operation> outer;
  };
  auto progress = std::make_shared<Progress>();
  progress->remaining = count;
  progress->outer = std::move(outer);
  if (count == 0) Operation::complete(std::move(progress->outer), {});
  return std::make_shared<CallbackSink>([progress](std::shared_ptr<Operation> finished) {
    std::shared_ptr<Operation> outer;
    Outcome outcome;
    {
      std::lock_guard lock(progress->mutex);
      if (std::holds_alternative<Error>(finished->outcome()) && !std::holds_alternative<Error>(progress->first_error)) {
        progress->first_error = finished->outcome();
      }
      if (--progress->remaining > 0) return;
      outer = std::move(progress->outer);
      outcome = std::move(progress->first_error);
    }
    Operation::complete(std::move(outer), std::move(outcome));
  });
}

void Handoff::complete(std::shared_ptr<Operation> operation) {
  {
    std::lock_guard lock(mutex_);
    if (!forwarding_) {
      finished_ = std::move(operation);
      finished_flag_.store(true, std::memory_order_release);
      return;
    }
  }
  fallback_->complete(std::move(operation));
}

std::shared_ptr<Operation> Handoff::wait_briefly(std::chrono::microseconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (!finished_flag_.load(std::memory_order_acquire)) {
    if (std::chrono::steady_clock::now() >= deadline) return nullptr;
    std::this_thread::yield();
  }
  std::lock_guard lock(mutex_);
  return std::move(finished_);
}

std::shared_ptr<Operation> Handoff::give_up(const std::shared_ptr<Operation>& operation, std::uintptr_t tag) {
  std::lock_guard lock(mutex_);
  if (finished_) return std::move(finished_);
  operation->set_tag(tag);
  forwarding_ = true;
  return nullptr;
}

void CompletionWaiter::complete(std::shared_ptr<Operation> operation) {
  // Notified under the lock: the waiter may destroy this as soon as it can
  // take the lock after wait() returns.
  std::lock_guard lock(mutex_);
  finished_ = std::move(operation);
  done_.notify_one();
}

std::shared_ptr<Operation> CompletionWaiter::wait() {
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return finished_ != nullptr; });
  return std::move(finished_);
}

}  // namespace aiolibsql
