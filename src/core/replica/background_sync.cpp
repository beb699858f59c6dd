#include "background_sync.hpp"

#include <algorithm>
#include <utility>

#include "fork_generation.hpp"

namespace aiolibsql::replica {

BackgroundSync::BackgroundSync(std::chrono::milliseconds interval, Attempt attempt) : generation_(fork_generation()) {
  state_->thread =
      std::thread([state = state_, interval, attempt = std::move(attempt)] { run(state, interval, attempt); });
}

BackgroundSync::~BackgroundSync() { stop(); }

void BackgroundSync::stop() {
  if (fork_generation() != generation_) {
    state_->kept_after_fork = state_;
    return;
  }
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->changed.notify_all();
  auto& thread = state_->thread;
  if (!thread.joinable()) return;
  // From inside a sync's `done` it would wait for itself.
  if (thread.get_id() == std::this_thread::get_id()) {
    thread.detach();
  } else {
    thread.join();
  }
}

std::optional<Error> BackgroundSync::take_failure() {
  if (fork_generation() != generation_) return std::nullopt;
  std::lock_guard lock(state_->mutex);
  return std::exchange(state_->failure, std::nullopt);
}

void BackgroundSync::run(const std::shared_ptr<State>& state, std::chrono::milliseconds interval,
                         const Attempt& attempt) {
  int backoff = 1;
  std::unique_lock lock(state->mutex);
  // The first sync comes at once: a replica opened with sync_interval starts in step.
  while (!state->stopping) {
    state->attempt_running = true;
    lock.unlock();
    attempt([state](std::optional<Error> failure) {
      std::lock_guard done_lock(state->mutex);
      if (failure) {
        state->failure = std::move(failure);
      } else {
        state->failure.reset();
      }
      state->attempt_running = false;
      state->changed.notify_all();
    });
    lock.lock();
    state->changed.wait(lock, [&] { return state->stopping || !state->attempt_running; });
    if (state->stopping) break;
    backoff = state->failure ? std::min(backoff * 2, kLongestBackoff) : 1;
    state->changed.wait_for(lock, interval * backoff, [&] { return state->stopping; });
  }
}

}  // namespace aiolibsql::replica
