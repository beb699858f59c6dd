#pragma once

// A pipeline whose batches repeat an SQL text (executemany: one text, a
// step per parameter set) carries each such text once: stored with
// store_sql before the batches, referred to by id in their steps, and
// forgotten with close_sql after them, all in the same round trip.

#include <cstddef>
#include <vector>

#include "protocol.hpp"

namespace aiolibsql::hrana {

struct StoredSqlPipeline {
  // The store_sql requests, then the given requests, then the close_sql ones.
  std::vector<StreamRequest> requests;
  // Where the given requests start among `requests`.
  std::size_t first_given = 0;
};

StoredSqlPipeline store_repeated_sql(const std::vector<StreamRequest>& requests);

}  // namespace aiolibsql::hrana
