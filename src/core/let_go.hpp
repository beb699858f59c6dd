// What happens to a connection or pool its user dropped without closing.
// Destroying the last reference closes it, and the last close of a database
// checkpoints its write-ahead log: on an event loop's thread that would
// stall every task for as long as the log is big, or as long as a running
// statement takes to stop. So the destruction runs on a worker thread, and
// nobody waits for it, unless it is sure to be short here.
#pragma once

#include <memory>

#include "async_connection.hpp"
#include "pool_backend.hpp"

namespace aiolibsql {

// Drops a reference to `connection`. Only an idle connection whose close is
// short (AsyncConnection::try_close_inline) is closed on the calling thread;
// so is one with user functions, whose destruction needs the interpreter,
// which a thread of ours must not take while the interpreter may be ending.
void let_go(std::shared_ptr<AsyncConnection> connection);
// Drops a reference to `pool`; an open pool is closed on a worker thread.
void let_go(std::shared_ptr<PoolBackend> pool);
// At exit: waits until every engine let go of so far is closed, so their
// logs are checkpointed as an open connection's are; engines let go of
// from then on close where they are dropped. (fork() waits for them by
// itself.)
void finish_dropped_engines_at_exit();

}  // namespace aiolibsql
