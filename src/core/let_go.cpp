#include "let_go.hpp"

#include <pthread.h>

#include <condition_variable>
#include <mutex>
#include <utility>

#include "worker_thread.hpp"

namespace aiolibsql {

namespace {

// Engines being destroyed on a worker thread. A fork() waits for them, as
// a fork would have if the dropping thread had destroyed them: a child
// made while one is closing would inherit the engine's locks half-held by
// a thread it does not have.
struct Dropped {
  std::mutex mutex;
  std::condition_variable none_left;
  std::size_t closing = 0;
  // Set at exit: the process is ending and no event loop runs any more, so
  // an engine dropped from then on closes where it is dropped.
  bool exiting = false;
};

// A worker closing an engine keeps the state alive, so it outlives static
// destruction while the process exits.
const std::shared_ptr<Dropped>& dropped() {
  static const std::shared_ptr<Dropped> instance = [] {
    auto made = std::make_shared<Dropped>();
    pthread_atfork(
        [] {
          std::unique_lock lock(dropped()->mutex);
          dropped()->none_left.wait(lock, [] { return dropped()->closing == 0; });
          lock.release();  // held across the fork, unlocked on both sides
        },
        [] { dropped()->mutex.unlock(); }, [] { dropped()->mutex.unlock(); });
    return made;
  }();
  return instance;
}

template <typename Engine, typename ClosedQuicklyHere>
void let_go_unless(std::shared_ptr<Engine> engine, ClosedQuicklyHere closed_quickly_here) {
  // Another owner (a replica holding its local file, the exit registry
  // closing it) keeps it alive: nothing closes here.
  if (!engine || engine.use_count() > 1 || closed_quickly_here(*engine)) return;
  std::shared_ptr<Dropped> state = dropped();
  {
    std::lock_guard lock(state->mutex);
    if (state->exiting) return;
    ++state->closing;
  }
  WorkerThread([engine = std::move(engine), state]() mutable {
    engine.reset();
    {
      std::lock_guard lock(state->mutex);
      --state->closing;
    }
    state->none_left.notify_all();
  });
}

}  // namespace

void let_go(std::shared_ptr<AsyncConnection> connection) {
  let_go_unless(std::move(connection), [](AsyncConnection& engine) {
    return engine.is_closed() || engine.is_inherited() || engine.has_user_functions() || engine.try_close_inline();
  });
}

void let_go(std::shared_ptr<PoolBackend> pool) {
  let_go_unless(std::move(pool), [](PoolBackend& engine) { return engine.is_closed(); });
}

void finish_dropped_engines_at_exit() {
  const auto& state = dropped();
  std::unique_lock lock(state->mutex);
  state->exiting = true;
  state->none_left.wait(lock, [&] { return state->closing == 0; });
}

}  // namespace aiolibsql
