#include "inline_streak.hpp"

namespace aiolibsql {

bool InlineStreak::allows_another(Clock::time_point started, Clock::time_point now) noexcept {
  if (started - last_end_ > kBreak) start_ = started;
  last_end_ = now;
  if (suspension_owed_) return false;
  if (now - start_ <= kLongest) return true;
  suspension_owed_ = true;
  return false;
}

void InlineStreak::suspending(Clock::time_point now) noexcept {
  suspension_owed_ = false;
  start_ = now;
}

InlineStreak& inline_streak() noexcept {
  thread_local InlineStreak streak;
  return streak;
}

}  // namespace aiolibsql
