#include "pool/writer_gate.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <utility>
#include <vector>

#include "fork_generation.hpp"

namespace aiolibsql {

Error pool_closed_error() { return Error{ErrorKind::Programming, -1, "the pool is closed"}; }

Error transaction_ended_error() { return Error{ErrorKind::Programming, -1, "the transaction is not active"}; }

namespace {

Error waited_too_long_error() {
  return Error{ErrorKind::Operational, SQLITE_BUSY,
               "timed out waiting for another transaction on the pool's writer to end"};
}

// Autocommit writes and BEGINs; a transaction's own statements and its end
// wait only for its BEGIN.
bool expires(std::uint64_t transaction, bool begins) { return transaction == 0 || begins; }

}  // namespace

WriterGate::WriterGate(std::function<void(Operations)> pass)
    : pass_(std::move(pass)), generation_(fork_generation()), state_(std::make_shared<State>()) {
  state_->timer = std::thread([state = state_.get()] { expire_waiting(*state); });
}

WriterGate::~WriterGate() {
  if (fork_generation() != generation_) {
    // A fork() child: the timer thread stayed in the parent, perhaps holding
    // the lock or waiting on the condition, so none of them is touched.
    // Destroying a joinable std::thread terminates, joining or detaching one
    // that is not in this process fails, and destroying a condition that a
    // vanished thread waits on never returns: the state is kept for good.
    state_->kept_after_fork = state_;
    return;
  }
  {
    std::lock_guard lock(state_->mutex);
    state_->closed = true;
  }
  state_->waiting_changed.notify_all();
  // A sink the timer completed may have let go of the pool on that thread.
  if (state_->timer.get_id() == std::this_thread::get_id()) {
    state_->timer.detach();
  } else {
    state_->timer.join();
  }
}

bool WriterGate::inherited() const noexcept { return fork_generation() != generation_; }

std::uint64_t WriterGate::new_transaction() {
  if (inherited()) return 0;
  std::lock_guard lock(state_->mutex);
  return ++state_->last_transaction;
}

void WriterGate::submit(Operations operations, std::uint64_t transaction, bool begins) {
  std::optional<Error> refusal = pool_closed_error();
  if (inherited()) {
    for (auto& operation : operations) Operation::complete(std::move(operation), inherited_error());
    return;
  }
  {
    std::lock_guard lock(state_->mutex);
    auto& waiting = state_->waiting;
    if (!state_->closed) {
      const bool free = state_->holder == 0 && waiting.empty();
      const bool holder = transaction != 0 && state_->holder == transaction && !begins;
      const bool may_wait = begins || transaction == 0 ||
                            std::any_of(waiting.begin(), waiting.end(), [transaction](const Waiting& entry) {
                              return entry.begins && entry.transaction == transaction;
                            });
      if ((free && (begins || transaction == 0)) || holder) {
        if (begins) state_->holder = transaction;
        pass_(operations);
        return;
      }
      if (may_wait) {
        for (auto& operation : operations) waiting.push_back(Waiting{std::move(operation), transaction, begins});
        state_->waiting_changed.notify_all();
        return;
      }
      // Its BEGIN failed or it has ended: nothing would ever let it through.
      refusal = transaction_ended_error();
    }
  }
  for (auto& operation : operations) Operation::complete(std::move(operation), *refusal);
}

void WriterGate::require_holder(std::uint64_t transaction) const {
  if (inherited()) throw DbError(inherited_error());
  std::lock_guard lock(state_->mutex);
  if (state_->holder != transaction) throw DbError(transaction_ended_error());
}

void WriterGate::open(std::uint64_t transaction) {
  if (inherited()) return;
  std::lock_guard lock(state_->mutex);
  if (state_->holder != transaction) return;
  state_->holder = 0;
  auto& waiting = state_->waiting;
  for (auto it = waiting.begin(); it != waiting.end();) {
    const bool free = state_->holder == 0;
    if (free || it->transaction == state_->holder) {
      if (free && it->begins) state_->holder = it->transaction;
      pass_(std::span(&it->operation, 1));
      it = waiting.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<std::shared_ptr<Operation>> WriterGate::take_orphans(State& state,
                                                                 std::span<const std::uint64_t> never_begun) {
  std::vector<std::shared_ptr<Operation>> orphans;
  for (auto it = state.waiting.begin(); it != state.waiting.end();) {
    if (std::find(never_begun.begin(), never_begun.end(), it->transaction) != never_begun.end()) {
      orphans.push_back(std::move(it->operation));
      it = state.waiting.erase(it);
    } else {
      ++it;
    }
  }
  return orphans;
}

OrderedQueue<>::Removal WriterGate::cancel(std::uintptr_t tag) {
  if (inherited()) return OrderedQueue<>::Removal::NotQueued;
  std::shared_ptr<Operation> cancelled;
  std::vector<std::shared_ptr<Operation>> orphans;
  {
    std::lock_guard lock(state_->mutex);
    auto& waiting = state_->waiting;
    const auto found = std::find_if(waiting.begin(), waiting.end(),
                                    [tag](const Waiting& entry) { return entry.operation->tag() == tag; });
    if (found == waiting.end()) return OrderedQueue<>::Removal::NotQueued;
    if (!found->operation->cancellable()) return OrderedQueue<>::Removal::Refused;
    const Waiting removed = std::move(*found);
    waiting.erase(found);
    cancelled = removed.operation;
    // Without its BEGIN, a transaction's waiting statements would run
    // outside any transaction: they fail instead.
    if (removed.begins) orphans = take_orphans(*state_, std::span(&removed.transaction, 1));
  }
  // Completed outside the lock: a sink may call back into the pool.
  Operation::complete(std::move(cancelled), cancelled_error());
  for (auto& operation : orphans) Operation::complete(std::move(operation), transaction_ended_error());
  return OrderedQueue<>::Removal::Removed;
}

bool WriterGate::close() {
  if (inherited()) return false;
  std::deque<Waiting> waiting;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->closed) return false;
    state_->closed = true;
    waiting.swap(state_->waiting);
  }
  state_->waiting_changed.notify_all();
  for (auto& entry : waiting) Operation::complete(std::move(entry.operation), pool_closed_error());
  return true;
}

bool WriterGate::is_closed() const {
  if (inherited()) return false;
  std::lock_guard lock(state_->mutex);
  return state_->closed;
}

void WriterGate::expire_waiting(State& state) {
  using Clock = std::chrono::steady_clock;
  std::unique_lock lock(state.mutex);
  while (!state.closed) {
    auto earliest = Clock::time_point::max();
    for (const auto& entry : state.waiting) {
      if (expires(entry.transaction, entry.begins)) earliest = std::min(earliest, entry.operation->lock_deadline());
    }
    if (earliest == Clock::time_point::max()) {
      state.waiting_changed.wait(lock);
      continue;
    }
    if (state.waiting_changed.wait_until(lock, earliest) != std::cv_status::timeout) continue;
    std::vector<std::shared_ptr<Operation>> expired;
    std::vector<std::uint64_t> never_begun;
    const auto now = Clock::now();
    for (auto it = state.waiting.begin(); it != state.waiting.end();) {
      if (expires(it->transaction, it->begins) && it->operation->lock_deadline() <= now) {
        if (it->begins) never_begun.push_back(it->transaction);
        expired.push_back(std::move(it->operation));
        it = state.waiting.erase(it);
      } else {
        ++it;
      }
    }
    // Without its BEGIN, a transaction's waiting statements fail rather than run in autocommit.
    auto orphans = take_orphans(state, never_begun);
    lock.unlock();
    for (auto& operation : orphans) Operation::complete(std::move(operation), transaction_ended_error());
    for (auto& operation : expired) Operation::complete(std::move(operation), waited_too_long_error());
    lock.lock();
  }
}

}  // namespace aiolibsql
