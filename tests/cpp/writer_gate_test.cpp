// The pool writer's gate on its own: who passes, who waits, and in what order.
#include "pool/writer_gate.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "test_support.hpp"

namespace aiolibsql {
namespace {

using test::error_in;

// Records the tags of what passed, in order.
class PassedToWriter {
 public:
  std::function<void(WriterGate::Operations)> pass() {
    return [this](WriterGate::Operations operations) {
      std::lock_guard lock(mutex_);
      for (const auto& operation : operations) tags_.push_back(operation->tag());
    };
  }
  std::vector<std::uintptr_t> tags() const {
    std::lock_guard lock(mutex_);
    return tags_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::uintptr_t> tags_;
};

class WriterGateTest : public ::testing::Test {
 protected:
  void submit(std::uintptr_t tag, std::uint64_t transaction, bool begins = false,
              std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max()) {
    auto operation = std::make_shared<Operation>([] { return Outcome{}; }, sink_, tag);
    operation->set_lock_deadline(deadline);
    gate_.submit(std::span(&operation, 1), transaction, begins);
  }

  PassedToWriter writer_;
  test::Recorder sink_;
  WriterGate gate_{writer_.pass()};
};

TEST_F(WriterGateTest, AutocommitWritesPassWhileNoTransactionHoldsTheWriter) {
  submit(1, 0);
  submit(2, 0);
  EXPECT_EQ(writer_.tags(), (std::vector<std::uintptr_t>{1, 2}));
}

TEST_F(WriterGateTest, ATransactionHoldsTheWriterAndOthersWaitInOrderUntilItEnds) {
  const auto transaction = gate_.new_transaction();
  submit(1, transaction, true);
  submit(2, 0);
  submit(3, transaction);
  const auto next = gate_.new_transaction();
  submit(4, next, true);
  submit(5, 0);
  EXPECT_EQ(writer_.tags(), (std::vector<std::uintptr_t>{1, 3}));
  EXPECT_NO_THROW(gate_.require_holder(transaction));
  EXPECT_THROW(gate_.require_holder(next), DbError);
  gate_.open(transaction);
  // The autocommit write, then the next BEGIN, which holds the writer again.
  EXPECT_EQ(writer_.tags(), (std::vector<std::uintptr_t>{1, 3, 2, 4}));
  gate_.open(next);
  EXPECT_EQ(writer_.tags(), (std::vector<std::uintptr_t>{1, 3, 2, 4, 5}));
}

TEST_F(WriterGateTest, CancellingAWaitingBeginFailsItsTransactionsWaitingWork) {
  const auto holder = gate_.new_transaction();
  submit(1, holder, true);
  const auto waiting = gate_.new_transaction();
  submit(2, waiting, true);
  submit(3, waiting);
  EXPECT_EQ(gate_.cancel(2), OrderedQueue<>::Removal::Removed);
  ASSERT_EQ(sink_->size(), 2u);
  const auto finished = sink_->finished();
  EXPECT_EQ(error_in(*finished[0])->kind, ErrorKind::Cancelled);
  EXPECT_EQ(error_in(*finished[1])->message, transaction_ended_error().message);
  // Work of a transaction that never began is refused from now on.
  submit(4, waiting);
  EXPECT_EQ(error_in(*sink_->finished().back())->message, transaction_ended_error().message);
  EXPECT_EQ(gate_.cancel(99), OrderedQueue<>::Removal::NotQueued);
}

TEST_F(WriterGateTest, AWriteThatWaitsPastItsDeadlineFailsAsBusy) {
  const auto holder = gate_.new_transaction();
  submit(1, holder, true);
  submit(2, 0, false, std::chrono::steady_clock::now() + std::chrono::milliseconds(10));
  ASSERT_TRUE(sink_->wait_for(1));
  const Error* error = error_in(*sink_->finished().front());
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->kind, ErrorKind::Operational);
  EXPECT_EQ(error->sqlite_code, 5);  // SQLITE_BUSY
  EXPECT_EQ(writer_.tags(), (std::vector<std::uintptr_t>{1}));
}

TEST_F(WriterGateTest, ClosingFailsWhatWaitsAndEverythingAfter) {
  const auto holder = gate_.new_transaction();
  submit(1, holder, true);
  submit(2, 0);
  EXPECT_TRUE(gate_.close());
  EXPECT_FALSE(gate_.close());
  submit(3, 0);
  ASSERT_EQ(sink_->size(), 2u);
  for (const auto& failed : sink_->finished()) EXPECT_EQ(error_in(*failed)->message, pool_closed_error().message);
  EXPECT_TRUE(gate_.is_closed());
}

}  // namespace
}  // namespace aiolibsql
