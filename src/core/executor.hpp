// Runs one connection's operations (its OrderedQueue) in submission order on
// a worker thread of its own (started with the first operation, a parked one
// reused, see WorkerThread), and hands each finished operation to the sink
// its submitter chose.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "operation.hpp"
#include "ordered_queue.hpp"
#include "worker_thread.hpp"

namespace aiolibsql {

// What an executor has done, for pool statistics.
struct ExecutorStats {
  std::size_t queued = 0;
  std::uint64_t completed = 0;
  std::uint64_t groups = 0;
  std::uint64_t grouped_operations = 0;
  std::size_t largest_group = 0;
};

class Executor {
 public:
  // `interrupt` stops the statement running on the worker; it is called with
  // the executor's lock held and must not block.
  explicit Executor(std::function<void()> interrupt);

  // Runs consecutive groupable operations together (each one's run() inside
  // one transaction); called with the engine held, on the worker.
  using GroupRunner = std::function<void(const std::vector<std::shared_ptr<Operation>>& group)>;
  // Before any submission: group up to `largest_group` groupable operations
  // that wait in the queue (0 or 1 turns grouping off), waiting up to
  // `gather` for more to arrive once a group has started.
  void set_group_runner(GroupRunner runner, std::size_t largest_group,
                        std::chrono::microseconds gather = std::chrono::microseconds(0));
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Queues an operation; once closed, fails it at once instead.
  void submit(std::shared_ptr<Operation> operation) { submit_all(std::span(&operation, 1)); }
  // Queues several operations in order, under one lock and with one wake-up.
  void submit_all(std::span<std::shared_ptr<Operation>> operations);
  // Fails every queued operation, then runs `last` and lets the worker thread go.
  void close(std::shared_ptr<Operation> last);
  // Closes with no last operation to run: for an owner that finished its
  // last work on its own thread (while holding the engine).
  void close_idle();
  // Cancels the operation with this tag: a queued one completes as
  // Cancelled without running, a running one is interrupted. False if it is
  // neither queued nor running, or refuses cancellation.
  bool cancel(std::uintptr_t tag);
  // Interrupts the operation running now, whichever it is; does nothing
  // when none runs. Unlike sqlite3_interrupt, which stays in force while
  // any statement of the connection is open (a cursor with rows left), it
  // can never fail a later statement.
  void interrupt_running();
  // False for an executor inherited through fork(), which raises its error
  // on use instead.
  bool is_closed() const;
  // True in a child process for an executor created before fork(): its
  // worker thread does not exist there, so every operation fails at once
  // and nothing waits for, notifies or joins that thread.
  bool inherited() const noexcept;

  // Held by whoever drives the connection's engine: the worker while it
  // runs an operation, or a caller running work inline on its own thread.
  std::mutex& engine_mutex() noexcept { return state_->engine_mutex; }
  // True when nothing is queued or running.
  bool is_idle() const;
  // Set while the running operation is being cancelled; the engine checks it.
  const std::atomic<bool>& cancellation() const noexcept { return state_->cancel_running; }
  // Holds the engine for work on the calling thread, if the executor is idle
  // and open and nobody else holds it; empty otherwise.
  std::unique_lock<std::mutex> try_hold_idle_engine();
  // Counts work finished inline (while holding the engine) in the statistics.
  void count_inline_completion();
  // Operations queued or running.
  std::size_t load() const;
  ExecutorStats stats() const;

 private:
  // Shared with the worker thread, so the thread can finish its last
  // operation safely even when the executor is destroyed from inside it.
  struct State {
    explicit State(std::function<void()> interrupt);
    std::function<void()> interrupt;
    std::mutex mutex;
    std::condition_variable wake;
    OrderedQueue<> queue;
    // The lone operation running now, which cancel() may interrupt.
    const Operation* running = nullptr;
    // Set by cancel() to stop the running operation; cleared when it ends.
    std::atomic<bool> cancel_running{false};
    // Operations queued, readable without the lock by a worker that spins
    // briefly before it sleeps.
    std::atomic<std::size_t> queued{0};
    // True while the worker sleeps on `wake`: only then does a submit pay for
    // a wake-up.
    bool sleeping = false;
    bool busy = false;
    // Written under `mutex`; read without it on the inline path.
    std::atomic<bool> closed{false};
    bool stop = false;
    std::mutex engine_mutex;
    GroupRunner group_runner;
    std::size_t largest_group = 0;
    std::chrono::microseconds gather{0};
    ExecutorStats stats;
    // Work finished inline, counted without the lock; stats() adds it in.
    std::atomic<std::uint64_t> inline_completed{0};
    // The operations the worker runs next, with room for the largest group.
    std::vector<std::shared_ptr<Operation>> group;
    // In a child of fork(): the executor's thread record, which can be
    // neither joined nor detached there, and a reference to this state
    // itself, which keeps both from ever being destroyed.
    WorkerThread orphaned_thread;
    std::shared_ptr<State> self_after_fork;
  };
  static void work_loop(const std::shared_ptr<State>& state);
  void start_worker_locked();

  // The process generation (see fork_generation()) this executor was created in.
  std::uint64_t generation_;
  std::shared_ptr<State> state_;
  // Started with the first operation queued: work done entirely inline
  // (open, short reads, close) never needs a thread. Both under state_->mutex.
  WorkerThread thread_;
  bool worker_started_ = false;
};

}  // namespace aiolibsql
