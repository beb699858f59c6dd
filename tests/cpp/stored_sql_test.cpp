#include "stored_sql.hpp"

#include <gtest/gtest.h>

#include <string>

#include "encode.hpp"

namespace aiolibsql::hrana {
namespace {

Statement statement(std::string sql, std::int64_t argument) {
  Statement result{std::move(sql), {}, false};
  result.params.positional = {argument};
  return result;
}

BatchRequest batch_of(std::vector<Statement> statements) {
  BatchRequest request;
  for (auto& each : statements) request.batch.push_back(BatchStep{nullptr, std::move(each)});
  return request;
}

TEST(StoredSql, ATextABatchRepeatsIsStoredOnceReferredToByIdAndClosedAfter) {
  const std::vector<StreamRequest> given{batch_of({statement("BEGIN", 0), statement("INSERT INTO t VALUES (?)", 1),
                                                   statement("INSERT INTO t VALUES (?)", 2), statement("COMMIT", 0)}),
                                         GetAutocommitRequest{}};
  const StoredSqlPipeline pipeline = store_repeated_sql(given);
  ASSERT_EQ(pipeline.first_given, 1u);
  ASSERT_EQ(pipeline.requests.size(), 4u);
  const auto& store = std::get<StoreSqlRequest>(pipeline.requests[0]);
  EXPECT_EQ(store.sql, "INSERT INTO t VALUES (?)");
  const auto& steps = std::get<BatchRequest>(pipeline.requests[1]).batch;
  EXPECT_EQ(std::get<std::string>(steps[0].statement.sql), "BEGIN");
  EXPECT_EQ(std::get<std::int32_t>(steps[1].statement.sql), store.sql_id);
  EXPECT_EQ(std::get<std::int32_t>(steps[2].statement.sql), store.sql_id);
  EXPECT_EQ(std::get<std::string>(steps[3].statement.sql), "COMMIT");
  EXPECT_EQ(steps[2].statement.params.positional, std::vector<Value>{std::int64_t{2}});
  EXPECT_TRUE(std::holds_alternative<GetAutocommitRequest>(pipeline.requests[2]));
  EXPECT_EQ(std::get<CloseSqlRequest>(pipeline.requests[3]).sql_id, store.sql_id);
  PipelineRequest encoded;
  encoded.requests = pipeline.requests;
  const std::string body = encode_pipeline(encoded);
  EXPECT_EQ(body.find("INSERT INTO t"), body.rfind("INSERT INTO t")) << "the text travels once: " << body;
}

TEST(StoredSql, APipelineWithoutRepeatsIsSentAsGiven) {
  const std::vector<StreamRequest> given{batch_of({statement("SELECT ?", 1), statement("SELECT ? + 1", 2)}),
                                         ExecuteRequest{statement("SELECT ?", 3)}};
  const StoredSqlPipeline pipeline = store_repeated_sql(given);
  EXPECT_EQ(pipeline.first_given, 0u);
  ASSERT_EQ(pipeline.requests.size(), 2u);
  const auto& steps = std::get<BatchRequest>(pipeline.requests[0]).batch;
  EXPECT_EQ(std::get<std::string>(steps[0].statement.sql), "SELECT ?");
  EXPECT_EQ(std::get<std::string>(steps[1].statement.sql), "SELECT ? + 1");
}

}  // namespace
}  // namespace aiolibsql::hrana
