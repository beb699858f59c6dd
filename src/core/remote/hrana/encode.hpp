// Hrana requests as the JSON bodies of POST v3/pipeline and v3/cursor.
#pragma once

#include <string>

#include "protocol.hpp"

namespace aiolibsql::hrana {

// Throws DbError (DataError) for a value JSON cannot carry: an infinite REAL.
// A NaN travels as NULL, which is what binding it locally stores.
std::string encode_pipeline(const PipelineRequest& pipeline);
std::string encode_cursor(const CursorRequest& cursor);

}  // namespace aiolibsql::hrana
