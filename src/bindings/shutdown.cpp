#include "shutdown.hpp"

#include <nanobind/nanobind.h>

#include <mutex>
#include <vector>

#include "completion_queue.hpp"
#include "let_go.hpp"

namespace aiolibsql::py {

namespace nb = nanobind;

namespace {

std::mutex registry_mutex;
std::vector<std::weak_ptr<AsyncConnection>> connections;
std::vector<std::weak_ptr<Pool>> pools;

template <typename T>
void remember(std::vector<std::weak_ptr<T>>& registry, const std::shared_ptr<T>& item) {
  std::lock_guard lock(registry_mutex);
  std::erase_if(registry, [](const auto& weak) { return weak.expired(); });
  registry.push_back(item);
}

template <typename T>
std::vector<std::shared_ptr<T>> take_live(std::vector<std::weak_ptr<T>>& registry) {
  std::vector<std::shared_ptr<T>> live;
  for (auto& weak : registry) {
    if (auto item = weak.lock()) live.push_back(std::move(item));
  }
  registry.clear();
  return live;
}

void close_and_wait(auto& closeable) {
  auto waiter = std::make_shared<CompletionWaiter>();
  closeable.close(waiter, 0);
  waiter->wait();
}

}  // namespace

void close_at_exit(const std::shared_ptr<AsyncConnection>& connection) { remember(connections, connection); }

void close_at_exit(const std::shared_ptr<Pool>& pool) { remember(pools, pool); }

void close_everything_still_open() {
  std::vector<std::shared_ptr<AsyncConnection>> open_connections;
  std::vector<std::shared_ptr<Pool>> open_pools;
  {
    std::lock_guard lock(registry_mutex);
    open_connections = take_live(connections);
    open_pools = take_live(pools);
  }
  nb::gil_scoped_release released;
  // Nothing left to wait for: a running statement would hold up the exit
  // for as long as it runs or waits for a lock.
  for (auto& pool : open_pools) {
    pool->interrupt_permanently();
    close_and_wait(*pool);
  }
  for (auto& connection : open_connections) {
    connection->interrupt_permanently();
    close_and_wait(*connection);
  }
  finish_dropped_engines_at_exit();
}

}  // namespace aiolibsql::py
