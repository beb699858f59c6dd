#include "protocol.hpp"

namespace aiolibsql::hrana {

const char* request_type_name(RequestType type) noexcept {
  switch (type) {
    case RequestType::Execute:
      return "execute";
    case RequestType::Batch:
      return "batch";
    case RequestType::Sequence:
      return "sequence";
    case RequestType::Describe:
      return "describe";
    case RequestType::StoreSql:
      return "store_sql";
    case RequestType::CloseSql:
      return "close_sql";
    case RequestType::GetAutocommit:
      return "get_autocommit";
    case RequestType::Close:
      return "close";
  }
  return "unknown";
}

}  // namespace aiolibsql::hrana
