// Read-your-writes for a replica whose writes go to the primary: each write
// is counted once it has run there, and a local read first pulls unless
// every write counted before it has been pulled already. Pulls are
// serialised here, so a read that finds one under way waits for it rather
// than reading past it.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "connection.hpp"
#include "replica_sync.hpp"

namespace aiolibsql::replica {

class CatchUp {
 public:
  // A write has run on the primary.
  void wrote() noexcept { written_.fetch_add(1, std::memory_order_acq_rel); }
  // Whether a write has not been pulled yet.
  bool behind() const noexcept {
    return pulled_.load(std::memory_order_acquire) < written_.load(std::memory_order_acquire);
  }
  // Before a local read on `connection`: pulls when behind.
  void before_read(Connection& connection, ReplicaSync& sync);
  // Runs `pull` (which pulls on some connection of the replica) and counts
  // every write made before it as pulled. Serialised with other pulls.
  template <typename Pull>
  auto pulling(Pull&& pull) {
    std::lock_guard lock(mutex_);
    const std::uint64_t mark = written_.load(std::memory_order_acquire);
    struct Busy {
      std::atomic<bool>& flag;
      explicit Busy(std::atomic<bool>& busy) : flag(busy) { flag.store(true, std::memory_order_release); }
      ~Busy() { flag.store(false, std::memory_order_release); }
    } busy(pulling_);
    auto result = pull();
    pulled_.store(std::max(pulled_.load(std::memory_order_relaxed), mark), std::memory_order_release);
    return result;
  }
  // Whether a pull or push is under way.
  bool pulling_now() const noexcept { return pulling_.load(std::memory_order_acquire); }

 private:
  std::mutex mutex_;
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> pulled_{0};
  std::atomic<bool> pulling_{false};
};

}  // namespace aiolibsql::replica
