// The threads executors run on. A thread whose work has returned parks for a
// while, and the next executor's work runs on it: opening a connection then
// costs no thread creation, and closing one no thread exit and join. Parked
// threads are named "aiolibsql-idle" and running ones "aiolibsql-db".
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

namespace aiolibsql {

class WorkerThread {
 public:
  // Runs `work` on a parked thread, or on a new one when none is parked.
  explicit WorkerThread(std::function<void()> work);
  WorkerThread() = default;
  WorkerThread(WorkerThread&&) noexcept = default;
  WorkerThread& operator=(WorkerThread&&) noexcept = default;
  // Does not wait for the work: join() does.
  ~WorkerThread() = default;

  // Waits until the work has returned. Called from the work itself, it
  // returns at once: a thread cannot wait for itself.
  void join();

  struct Run;

 private:
  std::shared_ptr<Run> run_;
};

// Threads parked now, waiting for work.
std::size_t parked_worker_threads();
// Runs started on the calling worker thread so far, this one included; 0
// on any other thread.
std::size_t runs_on_this_worker_thread() noexcept;

}  // namespace aiolibsql
