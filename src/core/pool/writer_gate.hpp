// Who may use a pool's writer now. Autocommit writes pass while no explicit
// transaction holds it; a transaction's BEGIN waits until the writer is
// free, then holds it until the transaction's end opens the gate again, and
// meanwhile only that transaction's own work passes. Whatever cannot pass
// waits here in order, and fails when its time to wait (its lock deadline)
// runs out or the pool closes, on a timer thread of the gate's own.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>

#include "operation.hpp"
#include "ordered_queue.hpp"

namespace aiolibsql {

Error pool_closed_error();
Error transaction_ended_error();

class WriterGate {
 public:
  using Operations = std::span<std::shared_ptr<Operation>>;
  // `pass` hands operations to the writer's queue. It is called with the
  // gate's lock held, so the writer runs them in the order they passed.
  explicit WriterGate(std::function<void(Operations)> pass);
  ~WriterGate();
  WriterGate(const WriterGate&) = delete;
  WriterGate& operator=(const WriterGate&) = delete;

  // A new explicit transaction's id, never 0 (0 means autocommit).
  std::uint64_t new_transaction();
  // Lets `operations` pass, keeps them waiting, or fails them: all of them
  // autocommit writes (transaction 0), or all work of one transaction, its
  // BEGIN when `begins`.
  void submit(Operations operations, std::uint64_t transaction, bool begins);
  // Throws the error of a transaction that does not hold the writer (it
  // ended, or its BEGIN failed or was cancelled).
  void require_holder(std::uint64_t transaction) const;
  // After `transaction` ended: lets waiting work through, up to the next
  // transaction's BEGIN and that transaction's own work.
  void open(std::uint64_t transaction);
  // A waiting operation with `tag` completes as cancelled (and, if it was a
  // BEGIN, its transaction's waiting work fails).
  OrderedQueue<>::Removal cancel(std::uintptr_t tag);
  // Fails everything waiting, and everything submitted from now on. False
  // when it was closed already.
  bool close();
  bool is_closed() const;

  // In a fork() child every call answers without the lock, which a thread
  // of the parent (the timer, a background sync) may have held at the fork:
  // work fails with the error of an inherited object.

 private:
  struct Waiting {
    std::shared_ptr<Operation> operation;
    std::uint64_t transaction = 0;
    bool begins = false;
  };
  // Shared with the timer thread; in a fork() child, where that thread does
  // not exist and may have held the lock, it is never destroyed.
  struct State {
    std::mutex mutex;
    std::condition_variable waiting_changed;
    std::deque<Waiting> waiting;
    std::uint64_t holder = 0;
    std::uint64_t last_transaction = 0;
    bool closed = false;
    std::thread timer;
    std::shared_ptr<State> kept_after_fork;
  };
  static void expire_waiting(State& state);
  // With the lock held: takes out the waiting work of each transaction in
  // `never_begun`, whose BEGIN will not run.
  static std::vector<std::shared_ptr<Operation>> take_orphans(State& state, std::span<const std::uint64_t> never_begun);

  bool inherited() const noexcept;

  std::function<void(Operations)> pass_;
  std::uint64_t generation_;
  std::shared_ptr<State> state_;
};

}  // namespace aiolibsql
