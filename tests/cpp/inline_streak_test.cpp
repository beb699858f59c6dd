// The cap on work that finishes without suspending the awaiting task, on
// explicit times.
#include "inline_streak.hpp"

#include <gtest/gtest.h>

namespace aiolibsql {
namespace {

using std::chrono::microseconds;
using Clock = InlineStreak::Clock;

// Runs pieces of work of `length` with `pause` between them until the
// streak refuses one; how many it allowed (capped at 10,000).
int allowed_before_the_cap(InlineStreak& streak, microseconds length, microseconds pause) {
  auto at = Clock::time_point{} + std::chrono::seconds(1);
  for (int allowed = 0; allowed < 10'000; ++allowed) {
    if (!streak.allows_another(at, at)) return allowed;
    at += length;
    streak.work_ended(at);
    at += pause;
  }
  return 10'000;
}

TEST(InlineStreak, QuickWorkBackToBackIsCappedAtOneMillisecond) {
  InlineStreak streak;
  const int allowed = allowed_before_the_cap(streak, microseconds(5), microseconds(5));
  EXPECT_GE(allowed, 99);
  EXPECT_LE(allowed, 101);
}

TEST(InlineStreak, WorkLongerThanTheBreakIsStillCapped) {
  // Each piece takes longer than a pause that starts a new streak: only the
  // pauses between them may count as the loop running other work.
  InlineStreak streak;
  EXPECT_LE(allowed_before_the_cap(streak, microseconds(300), microseconds(10)), 4);
}

TEST(InlineStreak, WorkReportedWhenItEndsIsCappedToo) {
  // An open or a close asks after it ran: it says when it started.
  InlineStreak streak;
  auto at = Clock::time_point{} + std::chrono::seconds(1);
  int allowed = 0;
  while (allowed < 100) {
    const auto started = at;
    at += microseconds(300);
    if (!streak.allows_another(started, at)) break;
    ++allowed;
    at += microseconds(10);
  }
  EXPECT_LE(allowed, 4);
}

TEST(InlineStreak, APauseLongerThanTheBreakStartsANewStreak) {
  InlineStreak streak;
  EXPECT_EQ(allowed_before_the_cap(streak, microseconds(100), microseconds(250)), 10'000);
}

TEST(InlineStreak, OverTheCapEveryOperationSaysNoUntilTheCallerSuspends) {
  InlineStreak streak;
  auto at = Clock::time_point{} + std::chrono::seconds(1);
  ASSERT_TRUE(streak.allows_another(at, at));
  at += microseconds(1500);
  streak.work_ended(at);
  EXPECT_FALSE(streak.allows_another(at, at));
  EXPECT_TRUE(streak.owes_suspension());
  at += microseconds(500);  // a pause does not pay what is owed
  EXPECT_FALSE(streak.allows_another(at, at));
  streak.suspending(at);
  EXPECT_FALSE(streak.owes_suspension());
  EXPECT_TRUE(streak.allows_another(at, at));
}

}  // namespace
}  // namespace aiolibsql
