// Finished operations waiting for an event loop, with a file descriptor that
// becomes readable when the queue goes from empty to non-empty: one wake-up
// for however many completions arrive before the loop drains them.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "executor.hpp"

namespace aiolibsql {

class CompletionQueue final : public CompletionSink {
 public:
  CompletionQueue();
  ~CompletionQueue() override;
  CompletionQueue(const CompletionQueue&) = delete;
  CompletionQueue& operator=(const CompletionQueue&) = delete;

  void complete(std::shared_ptr<Operation> operation) override;
  void complete_all(std::span<std::shared_ptr<Operation>> operations) override;
  // The descriptor to watch for readability.
  int fd() const noexcept { return read_fd_; }
  // Everything finished so far, in completion order; clears the wake-up.
  std::vector<std::shared_ptr<Operation>> drain();

 private:
  void signal() noexcept;
  void clear_signal() noexcept;

  int read_fd_ = -1;
  int write_fd_ = -1;
  std::mutex mutex_;
  std::vector<std::shared_ptr<Operation>> ready_;
};

// Calls a function with each finished operation, on the finishing thread.
class CallbackSink final : public CompletionSink {
 public:
  explicit CallbackSink(std::function<void(std::shared_ptr<Operation>)> callback) : callback_(std::move(callback)) {}
  void complete(std::shared_ptr<Operation> operation) override { callback_(std::move(operation)); }

 private:
  std::function<void(std::shared_ptr<Operation>)> callback_;
};

// A sink that completes `outer` once `count` operations have completed into
// it, with the first error among them if any.
std::shared_ptr<CompletionSink> all_of(std::size_t count, std::shared_ptr<Operation> outer);

// Completes one operation either to its submitter, waiting briefly on its
// own thread, or, once the submitter stops waiting, into a fallback sink.
// A caller that awaits one statement after another thus skips the thread
// wake-ups of the fallback path when the worker is quick.
class Handoff final : public CompletionSink {
 public:
  explicit Handoff(std::shared_ptr<CompletionSink> fallback) : fallback_(std::move(fallback)) {}
  void complete(std::shared_ptr<Operation> operation) override;
  // The finished operation if it finishes within `patience`; nullptr otherwise.
  std::shared_ptr<Operation> wait_briefly(std::chrono::microseconds patience);
  // Stops waiting: tags `operation` and lets it complete into the fallback
  // sink, unless it has finished meanwhile, in which case it is returned.
  std::shared_ptr<Operation> give_up(const std::shared_ptr<Operation>& operation, std::uintptr_t tag);

 private:
  std::shared_ptr<CompletionSink> fallback_;
  std::atomic<bool> finished_flag_{false};
  std::mutex mutex_;
  std::shared_ptr<Operation> finished_;
  bool forwarding_ = false;
};

// Blocks a thread until its operation completes: for blocking callers.
class CompletionWaiter final : public CompletionSink {
 public:
  void complete(std::shared_ptr<Operation> operation) override;
  // Returns the finished operation.
  std::shared_ptr<Operation> wait();

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  std::shared_ptr<Operation> finished_;
};

}  // namespace aiolibsql
