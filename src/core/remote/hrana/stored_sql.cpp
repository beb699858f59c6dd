#include "stored_sql.hpp"

#include <string>
#include <unordered_map>

namespace aiolibsql::hrana {

namespace {

const std::string* text_of(const BatchStep& step) { return std::get_if<std::string>(&step.statement.sql); }

}  // namespace

StoredSqlPipeline store_repeated_sql(const std::vector<StreamRequest>& requests) {
  std::unordered_map<std::string_view, int> uses;
  for (const auto& request : requests) {
    if (const auto* batch = std::get_if<BatchRequest>(&request)) {
      for (const auto& step : batch->batch) {
        if (const auto* text = text_of(step)) ++uses[*text];
      }
    }
  }
  std::unordered_map<std::string_view, std::int32_t> ids;
  std::vector<StreamRequest> stores;
  std::vector<StreamRequest> closes;
  for (const auto& [text, count] : uses) {
    if (count < 2) continue;
    const auto id = static_cast<std::int32_t>(ids.size() + 1);
    ids.emplace(text, id);
    stores.emplace_back(StoreSqlRequest{id, std::string(text)});
    closes.emplace_back(CloseSqlRequest{id});
  }
  StoredSqlPipeline pipeline;
  pipeline.first_given = stores.size();
  pipeline.requests = std::move(stores);
  pipeline.requests.reserve(pipeline.first_given + requests.size() + closes.size());
  for (const auto& request : requests) {
    pipeline.requests.push_back(request);
    auto* batch = std::get_if<BatchRequest>(&pipeline.requests.back());
    if (batch == nullptr || ids.empty()) continue;
    for (auto& step : batch->batch) {
      const auto* text = text_of(step);
      if (text == nullptr) continue;
      if (const auto found = ids.find(*text); found != ids.end()) step.statement.sql = found->second;
    }
  }
  for (auto& close : closes) pipeline.requests.push_back(std::move(close));
  return pipeline;
}

}  // namespace aiolibsql::hrana
