// Hrana 3 requests and responses as the client builds and reads them, apart
// from their encoding (JSON today; the shapes follow the Hrana 3 spec).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "error.hpp"
#include "result.hpp"
#include "value.hpp"

namespace aiolibsql::hrana {

// One SQL statement: its text, or the id of a text stored with store_sql.
struct Statement {
  std::variant<std::string, std::int32_t> sql;
  Params params;
  bool want_rows = true;
};

struct BatchCondition;
using BatchConditionPtr = std::shared_ptr<const BatchCondition>;

// When a batch step runs, in terms of the steps before it.
struct BatchCondition {
  enum class Kind { StepOk, StepError, Not, And, Or, IsAutocommit };
  Kind kind = Kind::StepOk;
  std::uint32_t step = 0;                   // StepOk, StepError
  std::vector<BatchConditionPtr> operands;  // Not (one), And, Or

  static BatchConditionPtr ok(std::uint32_t step) { return make(Kind::StepOk, step, {}); }
  static BatchConditionPtr error(std::uint32_t step) { return make(Kind::StepError, step, {}); }
  static BatchConditionPtr negation(BatchConditionPtr operand) { return make(Kind::Not, 0, {std::move(operand)}); }
  static BatchConditionPtr all_of(std::vector<BatchConditionPtr> operands) {
    return make(Kind::And, 0, std::move(operands));
  }
  static BatchConditionPtr any_of(std::vector<BatchConditionPtr> operands) {
    return make(Kind::Or, 0, std::move(operands));
  }
  static BatchConditionPtr is_autocommit() { return make(Kind::IsAutocommit, 0, {}); }

 private:
  static BatchConditionPtr make(Kind kind, std::uint32_t step, std::vector<BatchConditionPtr> operands) {
    return std::make_shared<const BatchCondition>(BatchCondition{kind, step, std::move(operands)});
  }
};

struct BatchStep {
  BatchConditionPtr condition;  // null: always runs
  Statement statement;
};

using Batch = std::vector<BatchStep>;

struct ExecuteRequest {
  Statement statement;
};
struct BatchRequest {
  Batch batch;
};
// Several statements in one SQL text, without results.
struct SequenceRequest {
  std::string sql;
};
struct DescribeRequest {
  std::string sql;
};
struct StoreSqlRequest {
  std::int32_t sql_id = 0;
  std::string sql;
};
struct CloseSqlRequest {
  std::int32_t sql_id = 0;
};
struct GetAutocommitRequest {};
struct CloseRequest {};

using StreamRequest = std::variant<ExecuteRequest, BatchRequest, SequenceRequest, DescribeRequest, StoreSqlRequest,
                                   CloseSqlRequest, GetAutocommitRequest, CloseRequest>;

// The request types in the order of StreamRequest's alternatives, named as
// the protocol names them.
enum class RequestType : std::uint8_t { Execute, Batch, Sequence, Describe, StoreSql, CloseSql, GetAutocommit, Close };
const char* request_type_name(RequestType type) noexcept;
inline RequestType type_of(const StreamRequest& request) noexcept { return static_cast<RequestType>(request.index()); }

// A stream is named by its baton; none opens a new stream.
struct PipelineRequest {
  std::optional<std::string> baton;
  std::vector<StreamRequest> requests;
};

struct CursorRequest {
  std::optional<std::string> baton;
  Batch batch;
};

// What one statement returned.
struct StatementResult {
  std::shared_ptr<const Columns> columns;  // null when the statement has no columns
  RowChunk rows;
  std::uint64_t affected_row_count = 0;
  std::optional<std::int64_t> last_insert_rowid;
};

struct BatchResult {
  // Per step: its result, its error, or neither when its condition skipped it.
  std::vector<std::optional<StatementResult>> step_results;
  std::vector<std::optional<Error>> step_errors;
};

struct DescribeResult {
  std::vector<std::optional<std::string>> parameter_names;
  Columns columns;
  bool is_explain = false;
  bool is_readonly = false;
};

// A request whose answer carries nothing but its success.
struct Acknowledged {
  RequestType type;
};
struct AutocommitState {
  bool is_autocommit = true;
};

using StreamResult = std::variant<Error, Acknowledged, StatementResult, BatchResult, DescribeResult, AutocommitState>;

struct PipelineResponse {
  std::optional<std::string> baton;     // none: the server closed the stream
  std::optional<std::string> base_url;  // where the stream's next request goes, if elsewhere
  std::vector<StreamResult> results;
};

}  // namespace aiolibsql::hrana
