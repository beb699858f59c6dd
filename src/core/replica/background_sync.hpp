// A replica's sync_interval: a sync every interval on a thread of its own,
// until stopped. A failed sync is tried again after twice the previous wait,
// up to kLongestBackoff intervals, and its failure is kept until taken, so
// the replica's next sync() reports it rather than losing it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "error.hpp"

namespace aiolibsql::replica {

inline constexpr int kLongestBackoff = 8;

class BackgroundSync {
 public:
  // Starts one sync; `done` is called once it ends, with its failure if any.
  using Done = std::function<void(std::optional<Error> failure)>;
  using Attempt = std::function<void(Done done)>;

  BackgroundSync(std::chrono::milliseconds interval, Attempt attempt);
  // Stops (see stop()).
  ~BackgroundSync();
  BackgroundSync(const BackgroundSync&) = delete;
  BackgroundSync& operator=(const BackgroundSync&) = delete;

  // No sync starts after this; returns without waiting for one under way.
  void stop();
  // The failure of the last sync, if it failed and nobody took it yet;
  // nothing in a fork() child.
  std::optional<Error> take_failure();

 private:
  // Shared with the thread and with the `done` of a sync under way, which
  // may end after the thread did.
  struct State {
    std::mutex mutex;
    std::condition_variable changed;
    bool stopping = false;
    bool attempt_running = false;
    std::optional<Error> failure;
    // In a fork() child the thread is the parent's and the lock may have been
    // held by it: the state keeps itself, and the thread record, for good.
    std::thread thread;
    std::shared_ptr<State> kept_after_fork;
  };
  static void run(const std::shared_ptr<State>& state, std::chrono::milliseconds interval, const Attempt& attempt);

  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::uint64_t generation_;
};

}  // namespace aiolibsql::replica
