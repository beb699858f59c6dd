// Everything still open when the interpreter exits gets closed first, so no
// worker thread outlives the interpreter or calls into it while it finalizes.
#pragma once

#include <memory>

#include "async_connection.hpp"
#include "pool/pool.hpp"

namespace aiolibsql::py {

void close_at_exit(const std::shared_ptr<AsyncConnection>& connection);
void close_at_exit(const std::shared_ptr<Pool>& pool);
// Closes every connection and pool still open, waiting with the GIL released.
void close_everything_still_open();

}  // namespace aiolibsql::py
