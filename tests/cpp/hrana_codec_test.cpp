#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "base64.hpp"
#include "decode.hpp"
#include "encode.hpp"

namespace aiolibsql::hrana {
namespace {

Statement statement(std::string sql, std::vector<Value> positional = {}) {
  Statement result{std::move(sql), {}, true};
  result.params.positional = std::move(positional);
  return result;
}

PipelineRequest one_execute(Statement stmt) {
  PipelineRequest pipeline;
  pipeline.requests.emplace_back(ExecuteRequest{std::move(stmt)});
  return pipeline;
}

TEST(HranaEncode, EveryValueKindIsWrittenAsTheSpecEncodesIt) {
  const std::string body = encode_pipeline(one_execute(
      statement("SELECT ?", {Null{}, std::int64_t{(1LL << 62) + 3}, std::numeric_limits<std::int64_t>::min(), 1.5,
                             std::string("é\"\\\n\x01"), Blob{""}, Blob{std::string("\x00\xff", 2)}})));
  EXPECT_EQ(body,
            R"({"baton":null,"requests":[{"type":"execute","stmt":{"sql":"SELECT ?","args":[)"
            R"({"type":"null"},{"type":"integer","value":"4611686018427387907"},)"
            R"({"type":"integer","value":"-9223372036854775808"},{"type":"float","value":1.5},)"
            R"({"type":"text","value":"é\"\\\n\u0001"},{"type":"blob","base64":""},{"type":"blob","base64":"AP8="}],)"
            R"("want_rows":true}}]})");
}

TEST(HranaEncode, FloatsAreWrittenSoTheyReadBackExactly) {
  // A whole number keeps a decimal point: "-0" would read back as the
  // integer zero, without its sign.
  const std::string body = encode_pipeline(one_execute(statement("SELECT ?", {0.1, 1e300, -0.0, 2.0})));
  EXPECT_NE(body.find(R"({"type":"float","value":0.1},{"type":"float","value":1e+300},)"
                      R"({"type":"float","value":-0.0},{"type":"float","value":2.0})"),
            std::string::npos)
      << body;
}

TEST(HranaEncode, NanTravelsAsNullAsBindingItLocallyStores) {
  const std::string body =
      encode_pipeline(one_execute(statement("SELECT ?", {std::numeric_limits<double>::quiet_NaN()})));
  EXPECT_NE(body.find(R"("args":[{"type":"null"}])"), std::string::npos) << body;
}

TEST(HranaEncode, AnInfiniteFloatIsRefusedWithDataErrorBecauseJsonCannotCarryIt) {
  try {
    encode_pipeline(one_execute(statement("SELECT ?", {std::numeric_limits<double>::infinity()})));
    FAIL() << "expected DbError";
  } catch (const DbError& error) {
    EXPECT_EQ(error.error().kind, ErrorKind::Data);
    EXPECT_NE(std::string(error.what()).find("infinite"), std::string::npos);
  }
}

TEST(HranaEncode, NamedArgumentsStoredSqlBatonAndEveryOtherRequest) {
  PipelineRequest pipeline;
  pipeline.baton = "b1";
  Statement named{std::int32_t{7}, {}, false};
  named.params.is_named = true;
  named.params.named = {{":a", std::int64_t{1}}};
  pipeline.requests.emplace_back(StoreSqlRequest{7, "SELECT :a"});
  pipeline.requests.emplace_back(ExecuteRequest{named});
  pipeline.requests.emplace_back(SequenceRequest{"CREATE TABLE t(x); DROP TABLE t"});
  pipeline.requests.emplace_back(DescribeRequest{"SELECT :a"});
  pipeline.requests.emplace_back(CloseSqlRequest{7});
  pipeline.requests.emplace_back(GetAutocommitRequest{});
  pipeline.requests.emplace_back(CloseRequest{});
  EXPECT_EQ(
      encode_pipeline(pipeline),
      R"({"baton":"b1","requests":[{"type":"store_sql","sql_id":7,"sql":"SELECT :a"},)"
      R"({"type":"execute","stmt":{"sql_id":7,"named_args":[{"name":":a","value":{"type":"integer","value":"1"}}],)"
      R"("want_rows":false}},{"type":"sequence","sql":"CREATE TABLE t(x); DROP TABLE t"},)"
      R"({"type":"describe","sql":"SELECT :a"},{"type":"close_sql","sql_id":7},{"type":"get_autocommit"},)"
      R"({"type":"close"}]})");
}

TEST(HranaEncode, BatchConditionsNestAsTheSpecWritesThem) {
  CursorRequest cursor;
  cursor.batch.push_back(BatchStep{nullptr, statement("BEGIN")});
  cursor.batch.push_back(BatchStep{BatchCondition::ok(0), statement("INSERT INTO t DEFAULT VALUES")});
  cursor.batch.push_back(BatchStep{
      BatchCondition::all_of({BatchCondition::ok(1), BatchCondition::negation(BatchCondition::is_autocommit())}),
      statement("COMMIT")});
  cursor.batch.push_back(
      BatchStep{BatchCondition::any_of({BatchCondition::error(1), BatchCondition::error(2)}), statement("ROLLBACK")});
  EXPECT_EQ(
      encode_cursor(cursor),
      R"({"baton":null,"batch":{"steps":[{"stmt":{"sql":"BEGIN","args":[],"want_rows":true}},)"
      R"({"condition":{"type":"ok","step":0},"stmt":{"sql":"INSERT INTO t DEFAULT VALUES","args":[],"want_rows":true}},)"
      R"({"condition":{"type":"and","conds":[{"type":"ok","step":1},{"type":"not","cond":{"type":"is_autocommit"}}]},)"
      R"("stmt":{"sql":"COMMIT","args":[],"want_rows":true}},)"
      R"({"condition":{"type":"or","conds":[{"type":"error","step":1},{"type":"error","step":2}]},)"
      R"("stmt":{"sql":"ROLLBACK","args":[],"want_rows":true}}]}})");
}

TEST(HranaBase64, EveryLengthRoundTrips) {
  std::string bytes;
  for (int length = 0; length < 40; ++length) {
    std::string encoded;
    append_base64(encoded, bytes);
    EXPECT_EQ(encoded.size() % 4, 0u);
    EXPECT_EQ(decode_base64(encoded), bytes) << encoded;
    bytes += static_cast<char>(length * 37 + 11);
  }
}

TEST(HranaBase64, UnpaddedTextDecodesAndInvalidTextIsRefused) {
  EXPECT_EQ(decode_base64("AP8"), std::string("\x00\xff", 2));
  EXPECT_EQ(decode_base64("aGk"), "hi");
  EXPECT_FALSE(decode_base64("a"));
  EXPECT_FALSE(decode_base64("aGk*"));
  EXPECT_FALSE(decode_base64("a==="));
  EXPECT_FALSE(decode_base64("aGl="));  // non-zero leftover bits: not a canonical encoding
  EXPECT_FALSE(decode_base64("=aGk"));
}

const RequestType kExecute[] = {RequestType::Execute};

TEST(HranaDecode, AnExecuteResultKeepsEveryValueExactly) {
  ResponseDecoder decoder;
  const auto response = decoder.decode_pipeline(
      R"({"baton":"b2","base_url":"http://other:8080","results":[{"type":"ok","response":{"type":"execute","result":{)"
      R"("cols":[{"name":"i","decltype":"INTEGER"},{"name":"f","decltype":null},{"name":null},{"name":"b"},{"name":"n"}],)"
      R"("rows":[[{"type":"integer","value":"4611686018427387907"},{"type":"float","value":0.1},)"
      R"({"type":"text","value":"h\u00e9\u0000"},{"type":"blob","base64":"AP8="},{"type":"null"}],)"
      R"([{"type":"integer","value":"-9223372036854775808"},{"type":"float","value":3},)"
      R"({"type":"text","value":""},{"type":"blob","base64":""},{"type":"integer","value":"9223372036854775807"}]],)"
      R"("affected_row_count":0,"last_insert_rowid":"12","replication_index":"3"}}}]})",
      kExecute);
  EXPECT_EQ(response.baton, "b2");
  EXPECT_EQ(response.base_url, "http://other:8080");
  ASSERT_EQ(response.results.size(), 1u);
  const auto& result = std::get<StatementResult>(response.results[0]);
  ASSERT_TRUE(result.columns);
  EXPECT_EQ(result.columns->names, (std::vector<std::string>{"i", "f", "", "b", "n"}));
  EXPECT_EQ(result.columns->decltypes, (std::vector<std::string>{"INTEGER", "", "", "", ""}));
  const RowChunk& rows = result.rows;
  ASSERT_EQ(rows.row_count(), 2u);
  EXPECT_EQ(rows.cell(0, 0).integer, (1LL << 62) + 3);
  EXPECT_EQ(rows.cell(0, 1).real, 0.1);
  EXPECT_EQ(rows.bytes(rows.cell(0, 2)), std::string("h\xc3\xa9\x00", 4));
  EXPECT_EQ(rows.cell(0, 3).type, ValueType::Blob);
  EXPECT_EQ(rows.bytes(rows.cell(0, 3)), std::string("\x00\xff", 2));
  EXPECT_EQ(rows.cell(0, 4).type, ValueType::Null);
  EXPECT_EQ(rows.cell(1, 0).integer, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(rows.cell(1, 1).type, ValueType::Real);
  EXPECT_EQ(rows.cell(1, 1).real, 3.0);
  EXPECT_EQ(rows.cell(1, 2).type, ValueType::Text);
  EXPECT_EQ(rows.cell(1, 2).size, 0u);
  EXPECT_EQ(rows.cell(1, 3).type, ValueType::Blob);
  EXPECT_EQ(rows.cell(1, 3).size, 0u);
  EXPECT_EQ(rows.cell(1, 4).integer, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(result.last_insert_rowid, 12);
}

TEST(HranaDecode, AStatementWithoutColumnsHasNoColumnsAndItsCounts) {
  ResponseDecoder decoder;
  const auto response = decoder.decode_pipeline(
      R"({"baton":null,"base_url":null,"results":[{"type":"ok","response":{"type":"execute","result":{)"
      R"("cols":[],"rows":[],"affected_row_count":3,"last_insert_rowid":null}}}]})",
      kExecute);
  EXPECT_FALSE(response.baton);
  const auto& result = std::get<StatementResult>(response.results[0]);
  EXPECT_FALSE(result.columns);
  EXPECT_EQ(result.affected_row_count, 3u);
  EXPECT_FALSE(result.last_insert_rowid);
}

TEST(HranaDecode, EveryOtherResponseKindIsRead) {
  ResponseDecoder decoder;
  const RequestType sent[] = {RequestType::Batch,    RequestType::Describe, RequestType::GetAutocommit,
                              RequestType::StoreSql, RequestType::Sequence, RequestType::CloseSql,
                              RequestType::Close};
  const auto response = decoder.decode_pipeline(
      R"({"baton":"b","base_url":null,"results":[)"
      R"({"type":"ok","response":{"type":"batch","result":{"step_results":[{"cols":[],"rows":[],"affected_row_count":1,)"
      R"("last_insert_rowid":"1"},null,null],"step_errors":[null,{"message":"SQLite error: UNIQUE constraint failed: t.x",)"
      R"("code":"SQLITE_CONSTRAINT_UNIQUE"},null]}}},)"
      R"({"type":"ok","response":{"type":"describe","result":{"params":[{"name":":a"},{"name":null}],)"
      R"("cols":[{"name":"x","decltype":"TEXT"}],"is_explain":false,"is_readonly":true}}},)"
      R"({"type":"ok","response":{"type":"get_autocommit","is_autocommit":false}},)"
      R"({"type":"ok","response":{"type":"store_sql"}},{"type":"ok","response":{"type":"sequence"}},)"
      R"({"type":"ok","response":{"type":"close_sql"}},{"type":"ok","response":{"type":"close"}}]})",
      sent);
  const auto& batch = std::get<BatchResult>(response.results[0]);
  ASSERT_EQ(batch.step_results.size(), 3u);
  EXPECT_TRUE(batch.step_results[0]);
  EXPECT_FALSE(batch.step_results[2] || batch.step_errors[2]);
  ASSERT_TRUE(batch.step_errors[1]);
  EXPECT_EQ(batch.step_errors[1]->kind, ErrorKind::Integrity);
  EXPECT_EQ(batch.step_errors[1]->sqlite_code, 2067);
  const auto& describe = std::get<DescribeResult>(response.results[1]);
  EXPECT_EQ(describe.parameter_names, (std::vector<std::optional<std::string>>{":a", std::nullopt}));
  EXPECT_TRUE(describe.is_readonly);
  EXPECT_FALSE(std::get<AutocommitState>(response.results[2]).is_autocommit);
  EXPECT_EQ(std::get<Acknowledged>(response.results[6]).type, RequestType::Close);
}

Error decoded_error(std::string_view error_json) {
  ResponseDecoder decoder;
  const auto response = decoder.decode_pipeline(
      R"({"baton":null,"base_url":null,"results":[{"type":"error","error":)" + std::string(error_json) + "}]}",
      kExecute);
  return std::get<Error>(response.results[0]);
}

TEST(HranaDecode, ServerErrorsMapToTheDbApiClassesLocalErrorsWouldHave) {
  const Error unique =
      decoded_error(R"({"message":"UNIQUE constraint failed: t.x","code":"SQLITE_CONSTRAINT_UNIQUE"})");
  EXPECT_EQ(unique.kind, ErrorKind::Integrity);
  EXPECT_EQ(unique.sqlite_code, 2067);
  EXPECT_EQ(unique.message, "UNIQUE constraint failed: t.x");
  // sqld's code for most engine errors says nothing: the message decides.
  const Error missing = decoded_error(R"({"message":"SQLite error: no such table: nope","code":"SQLITE_UNKNOWN"})");
  EXPECT_EQ(missing.kind, ErrorKind::Operational);
  EXPECT_EQ(missing.sqlite_code, 1);
  const Error constraint =
      decoded_error(R"({"message":"SQLite error: NOT NULL constraint failed: t.x","code":"SQLITE_UNKNOWN"})");
  EXPECT_EQ(constraint.kind, ErrorKind::Integrity);
  EXPECT_EQ(constraint.sqlite_code, 19);
  const Error named = decoded_error(R"({"message":"SQLITE_CONSTRAINT_CHECK: CHECK constraint failed"})");
  EXPECT_EQ(named.sqlite_code, 275);
  EXPECT_EQ(decoded_error(R"({"message":"wrong argument count","code":"ARGS_INVALID"})").kind, ErrorKind::Programming);
  // tursodb: its own codes, and the result code at the end of the message.
  const Error prepare = decoded_error(R"({"message":"Parse error: no such table: nope","code":"PREPARE_ERROR"})");
  EXPECT_EQ(prepare.kind, ErrorKind::Operational);
  EXPECT_EQ(prepare.sqlite_code, 1);
  const Error trailing = decoded_error(
      R"json({"message":"Runtime error: UNIQUE constraint failed: t.id (2067)","code":"EXECUTE_ERROR"})json");
  EXPECT_EQ(trailing.kind, ErrorKind::Integrity);
  EXPECT_EQ(trailing.sqlite_code, 2067);
  const Error expired =
      decoded_error(R"({"message":"The stream has expired due to inactivity","code":"STREAM_EXPIRED"})");
  EXPECT_EQ(expired.kind, ErrorKind::Operational);
  EXPECT_EQ(expired.sqlite_code, -1);
}

void expect_not_hrana(std::string_view body, std::span<const RequestType> sent = kExecute) {
  ResponseDecoder decoder;
  try {
    decoder.decode_pipeline(body, sent);
    FAIL() << "accepted: " << body;
  } catch (const DbError& error) {
    EXPECT_EQ(error.error().kind, ErrorKind::Operational) << body;
    EXPECT_NE(std::string(error.what()).find("not valid Hrana"), std::string::npos) << error.what();
  }
}

constexpr std::string_view kResultStart =
    R"({"baton":null,"results":[{"type":"ok","response":{"type":"execute","result":{"cols":[{"name":"x"}],"rows":[[)";
constexpr std::string_view kResultEnd = R"(]],"affected_row_count":0,"last_insert_rowid":null}}}]})";

std::string with_cell(std::string_view cell) {
  return std::string(kResultStart) + std::string(cell) + std::string(kResultEnd);
}

TEST(HranaDecode, AnAnswerThatIsNotHranaIsOneClearOperationalError) {
  expect_not_hrana("");
  expect_not_hrana("<html>502 Bad Gateway</html>");
  expect_not_hrana(R"({"baton":null,"results":[)");
  expect_not_hrana(R"([1,2,3])");
  expect_not_hrana(R"({"baton":null})");
  expect_not_hrana(R"({"baton":7,"results":[]})", {});
  expect_not_hrana(R"({"baton":null,"results":[]})");
  expect_not_hrana(R"({"baton":null,"results":[{"type":"ok","response":{"type":"batch","result":{}}}]})");
  expect_not_hrana(R"({"baton":null,"results":[{"type":"maybe"}]})");
  expect_not_hrana(R"({"baton":null,"results":[{"type":"error","error":{"code":"X"}}]})");
  expect_not_hrana(std::string(kResultStart) + R"({"type":"null"},{"type":"null"})" + std::string(kResultEnd));
  expect_not_hrana(std::string(kResultStart).substr(0, kResultStart.size() - 1) + "]" + std::string(kResultEnd));
  expect_not_hrana(with_cell(R"({"type":"integer","value":"9223372036854775808"})"));
  expect_not_hrana(with_cell(R"({"type":"integer","value":"12abc"})"));
  expect_not_hrana(with_cell(R"({"type":"integer","value":""})"));
  expect_not_hrana(with_cell(R"({"type":"integer","value":1.5})"));
  expect_not_hrana(with_cell(R"({"type":"float","value":null})"));
  expect_not_hrana(with_cell(R"({"type":"float","value":"1.5"})"));
  expect_not_hrana(with_cell(R"({"type":"float","value":1e999})"));
  expect_not_hrana(with_cell(R"({"type":"text","value":5})"));
  expect_not_hrana(with_cell(R"({"type":"blob","base64":"!!"})"));
  expect_not_hrana(with_cell(R"({"type":"date","value":"today"})"));
  expect_not_hrana(with_cell(R"({"value":"untyped"})"));
  expect_not_hrana(with_cell(R"("bare")"));
}

TEST(HranaDecode, AnHttpErrorBodyGivesItsErrorOnlyWhenItHoldsOne) {
  ResponseDecoder decoder;
  const auto error = decoder.decode_error_body(R"({"message":"Received an invalid baton","code":"INVALID_BATON"})");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message, "Received an invalid baton");
  EXPECT_FALSE(decoder.decode_error_body("Internal Server Error"));
  EXPECT_FALSE(decoder.decode_error_body(R"({"error":"x"})"));
}

}  // namespace
}  // namespace aiolibsql::hrana
