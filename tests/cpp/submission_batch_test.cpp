// SubmissionBatch: what it holds, when it hands it over, and to whom.
#include "submission_batch.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace aiolibsql {
namespace {

using Handovers = std::vector<std::vector<std::uintptr_t>>;

// Records each hand-over as the tags it carried.
class RecordingTarget final : public BatchTarget {
 public:
  void submit_held(std::span<std::shared_ptr<Operation>> operations) override {
    handovers.emplace_back();
    for (const auto& operation : operations) handovers.back().push_back(operation->tag());
  }
  Handovers handovers;
};

class SubmissionBatchTest : public ::testing::Test {
 protected:
  // Offers a new operation with this tag to the thread's batch; true if held.
  bool offer(const std::shared_ptr<RecordingTarget>& to, std::uintptr_t tag) {
    auto operation = test::make_operation(nullptr, owner, tag);
    const bool held = SubmissionBatch::hold(to, operation);
    EXPECT_EQ(operation == nullptr, held) << "a held operation is taken, one not held is left";
    return held;
  }

  test::Recorder owner;  // where the offered operations complete: the batches' owner
  std::shared_ptr<RecordingTarget> target = std::make_shared<RecordingTarget>();
};

TEST_F(SubmissionBatchTest, WithoutABatchNothingIsHeld) { EXPECT_FALSE(offer(target, 1)); }

TEST_F(SubmissionBatchTest, HoldsUntilItEndsThenHandsEverythingOverInOrder) {
  {
    SubmissionBatch batch(10, owner.get());
    for (std::uintptr_t tag = 1; tag <= 3; ++tag) EXPECT_TRUE(offer(target, tag));
    EXPECT_TRUE(target->handovers.empty());
  }
  EXPECT_EQ(target->handovers, (Handovers{{1, 2, 3}}));
}

TEST_F(SubmissionBatchTest, HandsOverOnceItReachesItsLimitAndFlushHandsOverAtOnce) {
  SubmissionBatch batch(2, owner.get());
  offer(target, 1);
  EXPECT_TRUE(target->handovers.empty());
  offer(target, 2);
  EXPECT_EQ(target->handovers, (Handovers{{1, 2}}));
  offer(target, 3);
  SubmissionBatch::flush();
  EXPECT_EQ(target->handovers, (Handovers{{1, 2}, {3}}));
}

TEST_F(SubmissionBatchTest, EachRunOfNeighboursForOneTargetIsOneHandover) {
  auto other = std::make_shared<RecordingTarget>();
  {
    SubmissionBatch batch(10, owner.get());
    offer(target, 1);
    offer(target, 2);
    offer(other, 3);
    offer(target, 4);
  }
  EXPECT_EQ(target->handovers, (Handovers{{1, 2}, {4}}));
  EXPECT_EQ(other->handovers, (Handovers{{3}}));
}

TEST_F(SubmissionBatchTest, ANestedBatchHoldsNothingOfItsOwnAndALimitOfZeroNothingAtAll) {
  {
    SubmissionBatch none(0, owner.get());
    EXPECT_FALSE(offer(target, 1));
  }
  {
    SubmissionBatch outer(10, owner.get());
    {
      SubmissionBatch inner(1, owner.get());
      offer(target, 2);
      offer(target, 3);
    }
    EXPECT_TRUE(target->handovers.empty()) << "the inner batch handed over what the outer one holds";
  }
  EXPECT_EQ(target->handovers, (Handovers{{2, 3}}));
}

TEST_F(SubmissionBatchTest, TakeGivesBackAHeldOperationOnceAndOnlyForItsTarget) {
  auto other = std::make_shared<RecordingTarget>();
  {
    SubmissionBatch batch(10, owner.get());
    offer(target, 1);
    offer(target, 2);
    EXPECT_EQ(SubmissionBatch::take(other.get(), 1), nullptr);
    const auto taken = SubmissionBatch::take(target.get(), 1);
    ASSERT_NE(taken, nullptr);
    EXPECT_EQ(taken->tag(), 1u);
    EXPECT_EQ(SubmissionBatch::take(target.get(), 1), nullptr);
  }
  EXPECT_EQ(target->handovers, (Handovers{{2}}));
}

TEST_F(SubmissionBatchTest, AnOperationCompletingElsewhereThanTheOwnerIsNotHeld) {
  test::Recorder elsewhere;
  SubmissionBatch batch(10, owner.get());
  auto operation = test::make_operation(nullptr, elsewhere, 1);
  EXPECT_FALSE(SubmissionBatch::hold(target, operation));
  EXPECT_NE(operation, nullptr);
  EXPECT_TRUE(offer(target, 2));
}

TEST_F(SubmissionBatchTest, ABatchHoldsOnlyForItsOwnThread) {
  SubmissionBatch batch(10, owner.get());
  bool held_elsewhere = true;
  std::thread([&] { held_elsewhere = offer(target, 1); }).join();
  EXPECT_FALSE(held_elsewhere);
  EXPECT_TRUE(offer(target, 2));
}

}  // namespace
}  // namespace aiolibsql
