#include "catch_up.hpp"

namespace aiolibsql::replica {

void CatchUp::before_read(Connection& connection, ReplicaSync& sync) {
  // While a result of this connection is open, its read transaction holds
  // the WAL: the pull waits for a later read.
  if (!behind() || connection.open_results() != 0) return;
  pulling([&] { return sync.pull(connection); });
}

}  // namespace aiolibsql::replica
