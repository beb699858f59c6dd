#include "let_go.hpp"

#include <utility>

#include "worker_thread.hpp"

namespace aiolibsql {

namespace {

template <typename Engine, typename ClosedQuicklyHere>
void let_go_unless(std::shared_ptr<Engine> engine, ClosedQuicklyHere closed_quickly_here) {
  // Another owner (a replica holding its local file, the exit registry
  // closing it) keeps it alive: nothing closes here.
  if (!engine || engine.use_count() > 1 || closed_quickly_here(*engine)) return;
  WorkerThread([engine = std::move(engine)]() mutable { engine.reset(); });
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

}  // namespace aiolibsql
