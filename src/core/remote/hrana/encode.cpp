#include "encode.hpp"

#include <charconv>
#include <cmath>

#include "base64.hpp"
#include "json_writer.hpp"

namespace aiolibsql::hrana {

namespace {

template <class... Handlers>
struct Overloaded : Handlers... {
  using Handlers::operator()...;
};
template <class... Handlers>
Overloaded(Handlers...) -> Overloaded<Handlers...>;

void write_value(JsonWriter& json, const Value& value) {
  json.begin_object();
  json.key("type");
  std::visit(Overloaded{
                 [&](const Null&) { json.string("null"); },
                 [&](std::int64_t integer) {
                   json.string("integer");
                   json.key("value");
                   // A string: JSON readers that hold numbers as doubles would round it.
                   char digits[24];
                   const auto end = std::to_chars(digits, digits + sizeof digits, integer).ptr;
                   json.string(std::string_view(digits, end - digits));
                 },
                 [&](double real) {
                   if (std::isnan(real)) {
                     json.string("null");
                     return;
                   }
                   if (std::isinf(real)) {
                     throw DbError(ErrorKind::Data,
                                   "an infinite REAL cannot be sent to a remote database: "
                                   "Hrana's JSON has no infinity");
                   }
                   json.string("float");
                   json.key("value");
                   json.finite_number(real);
                 },
                 [&](const std::string& text) {
                   json.string("text");
                   json.key("value");
                   json.string(text);
                 },
                 [&](const Blob& blob) {
                   json.string("blob");
                   json.key("base64");
                   json.unescaped_string([&](std::string& out) { append_base64(out, blob.bytes); });
                 },
             },
             value);
  json.end_object();
}

void write_sql(JsonWriter& json, const std::variant<std::string, std::int32_t>& sql) {
  if (const auto* text = std::get_if<std::string>(&sql)) {
    json.key("sql");
    json.string(*text);
  } else {
    json.key("sql_id");
    json.integer(std::get<std::int32_t>(sql));
  }
}

void write_statement(JsonWriter& json, const Statement& statement) {
  json.begin_object();
  write_sql(json, statement.sql);
  if (statement.params.is_named) {
    json.key("named_args");
    json.begin_array();
    for (const auto& [name, value] : statement.params.named) {
      json.begin_object();
      json.key("name");
      json.string(name);
      json.key("value");
      write_value(json, value);
      json.end_object();
    }
    json.end_array();
  } else {
    json.key("args");
    json.begin_array();
    for (const auto& value : statement.params.positional) write_value(json, value);
    json.end_array();
  }
  json.key("want_rows");
  json.boolean(statement.want_rows);
  json.end_object();
}

void write_condition(JsonWriter& json, const BatchCondition& condition) {
  using Kind = BatchCondition::Kind;
  json.begin_object();
  json.key("type");
  switch (condition.kind) {
    case Kind::StepOk:
    case Kind::StepError:
      json.string(condition.kind == Kind::StepOk ? "ok" : "error");
      json.key("step");
      json.integer(condition.step);
      break;
    case Kind::Not:
      json.string("not");
      json.key("cond");
      write_condition(json, *condition.operands.at(0));
      break;
    case Kind::And:
    case Kind::Or:
      json.string(condition.kind == Kind::And ? "and" : "or");
      json.key("conds");
      json.begin_array();
      for (const auto& operand : condition.operands) write_condition(json, *operand);
      json.end_array();
      break;
    case Kind::IsAutocommit:
      json.string("is_autocommit");
      break;
  }
  json.end_object();
}

void write_batch(JsonWriter& json, const Batch& batch) {
  json.begin_object();
  json.key("steps");
  json.begin_array();
  for (const auto& step : batch) {
    json.begin_object();
    if (step.condition) {
      json.key("condition");
      write_condition(json, *step.condition);
    }
    json.key("stmt");
    write_statement(json, step.statement);
    json.end_object();
  }
  json.end_array();
  json.end_object();
}

void write_request(JsonWriter& json, const StreamRequest& request) {
  json.begin_object();
  json.key("type");
  json.string(request_type_name(type_of(request)));
  std::visit(Overloaded{
                 [&](const ExecuteRequest& execute) {
                   json.key("stmt");
                   write_statement(json, execute.statement);
                 },
                 [&](const BatchRequest& batch) {
                   json.key("batch");
                   write_batch(json, batch.batch);
                 },
                 [&](const SequenceRequest& sequence) {
                   json.key("sql");
                   json.string(sequence.sql);
                 },
                 [&](const DescribeRequest& describe) {
                   json.key("sql");
                   json.string(describe.sql);
                 },
                 [&](const StoreSqlRequest& store) {
                   json.key("sql_id");
                   json.integer(store.sql_id);
                   json.key("sql");
                   json.string(store.sql);
                 },
                 [&](const CloseSqlRequest& close) {
                   json.key("sql_id");
                   json.integer(close.sql_id);
                 },
                 [](const GetAutocommitRequest&) {},
                 [](const CloseRequest&) {},
             },
             request);
  json.end_object();
}

void write_baton(JsonWriter& json, const std::optional<std::string>& baton) {
  json.key("baton");
  if (baton) {
    json.string(*baton);
  } else {
    json.null();
  }
}

}  // namespace

std::string encode_pipeline(const PipelineRequest& pipeline) {
  std::string out;
  JsonWriter json(out);
  json.begin_object();
  write_baton(json, pipeline.baton);
  json.key("requests");
  json.begin_array();
  for (const auto& request : pipeline.requests) write_request(json, request);
  json.end_array();
  json.end_object();
  return out;
}

std::string encode_cursor(const CursorRequest& cursor) {
  std::string out;
  JsonWriter json(out);
  json.begin_object();
  write_baton(json, cursor.baton);
  json.key("batch");
  write_batch(json, cursor.batch);
  json.end_object();
  return out;
}

}  // namespace aiolibsql::hrana
