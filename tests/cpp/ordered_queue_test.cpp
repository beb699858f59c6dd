// What every connection's and stream's queue guarantees, whatever executes it.
#include "ordered_queue.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "test_support.hpp"

namespace aiolibsql {
namespace {

using test::error_in;

std::shared_ptr<Operation> operation(std::shared_ptr<CompletionSink> sink, std::uintptr_t tag) {
  return std::make_shared<Operation>([] { return Outcome{}; }, std::move(sink), tag);
}

TEST(OrderedQueue, HandsOperationsOutInSubmissionOrder) {
  test::Recorder sink;
  OrderedQueue<> queue;
  for (std::uintptr_t tag = 1; tag <= 3; ++tag) queue.push_back(operation(sink, tag));
  EXPECT_EQ(queue.size(), 3u);
  for (std::uintptr_t tag = 1; tag <= 3; ++tag) EXPECT_EQ(queue.take_front()->tag(), tag);
  EXPECT_TRUE(queue.empty());
}

TEST(OrderedQueue, CancellingTakesOutOnlyTheOperationWithThatTagAndKeepsTheOthersInOrder) {
  test::Recorder sink;
  OrderedQueue<> queue;
  for (std::uintptr_t tag = 1; tag <= 3; ++tag) queue.push_back(operation(sink, tag));
  std::shared_ptr<Operation> removed;
  EXPECT_EQ(queue.remove(2, removed), OrderedQueue<>::Removal::Removed);
  EXPECT_EQ(removed->tag(), 2u);
  EXPECT_EQ(queue.take_front()->tag(), 1u);
  EXPECT_EQ(queue.take_front()->tag(), 3u);
}

TEST(OrderedQueue, AnOperationThatMustRunIsNotCancelledAndStaysQueued) {
  test::Recorder sink;
  OrderedQueue<> queue;
  auto must_run = operation(sink, 1);
  must_run->refuse_cancellation();
  queue.push_back(must_run);
  std::shared_ptr<Operation> removed;
  EXPECT_EQ(queue.remove(1, removed), OrderedQueue<>::Removal::Refused);
  EXPECT_EQ(removed, nullptr);
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.remove(7, removed), OrderedQueue<>::Removal::NotQueued);
}

TEST(OrderedQueue, ClosingFailsEverythingQueuedWithTheGivenError) {
  test::Recorder sink;
  struct Entry {
    std::shared_ptr<Operation> operation;
    std::string plan;
  };
  OrderedQueue<Entry> queue;
  queue.push_back(Entry{operation(sink, 1), "first"});
  queue.push_back(Entry{operation(sink, 2), "second"});
  OrderedQueue<Entry>::fail_all(queue.take_all(), Error{ErrorKind::Programming, -1, "closed"});
  EXPECT_TRUE(queue.empty());
  ASSERT_EQ(sink->size(), 2u);
  for (const auto& failed : sink->finished()) {
    ASSERT_NE(error_in(*failed), nullptr);
    EXPECT_EQ(error_in(*failed)->message, "closed");
  }
}

}  // namespace
}  // namespace aiolibsql
