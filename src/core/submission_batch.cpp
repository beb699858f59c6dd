#include "submission_batch.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace aiolibsql {

namespace {

struct Held {
  std::shared_ptr<BatchTarget> target;
  std::shared_ptr<Operation> operation;
};

struct ThreadBatch {
  std::vector<Held> held;
  std::size_t limit = 0;  // 0: no batch is active on this thread
  const CompletionSink* owner = nullptr;
};

thread_local ThreadBatch this_thread_batch;

}  // namespace

SubmissionBatch::SubmissionBatch(std::size_t limit, const CompletionSink* owner) {
  if (limit > 0 && this_thread_batch.limit == 0) {
    this_thread_batch.limit = limit;
    this_thread_batch.owner = owner;
    owner_ = true;
  }
}

SubmissionBatch::~SubmissionBatch() {
  if (!owner_) return;
  flush();
  this_thread_batch.limit = 0;
  this_thread_batch.owner = nullptr;
}

bool SubmissionBatch::hold(const std::shared_ptr<BatchTarget>& target, std::shared_ptr<Operation>& operation) {
  ThreadBatch& batch = this_thread_batch;
  if (batch.limit == 0 || operation->sink() != batch.owner) return false;
  batch.held.push_back(Held{target, std::move(operation)});
  if (batch.held.size() >= batch.limit) flush();
  return true;
}

void SubmissionBatch::flush() noexcept {
  // Taken out first: a target may submit more while it takes these.
  std::vector<Held> held = std::move(this_thread_batch.held);
  this_thread_batch.held.clear();
  std::vector<std::shared_ptr<Operation>> run;
  for (std::size_t start = 0; start < held.size();) {
    BatchTarget* target = held[start].target.get();
    run.clear();
    while (start < held.size() && held[start].target.get() == target) run.push_back(std::move(held[start++].operation));
    target->submit_held(run);
  }
}

std::shared_ptr<Operation> SubmissionBatch::take(const BatchTarget* target, std::uintptr_t tag) {
  auto& held = this_thread_batch.held;
  const auto found = std::find_if(held.begin(), held.end(), [&](const Held& entry) {
    return entry.target.get() == target && entry.operation->tag() == tag;
  });
  if (found == held.end()) return nullptr;
  auto operation = std::move(found->operation);
  held.erase(found);
  return operation;
}

}  // namespace aiolibsql
