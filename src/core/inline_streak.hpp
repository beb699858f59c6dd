// Work that finishes without suspending the awaiting task (reads run inline,
// opens and closes on the loop's thread, results handed over by the hand-off
// wait) keeps the event loop from running other tasks. A streak of such work
// is capped: past the cap, the next operation must truly suspend its task.
#pragma once

#include <chrono>

namespace aiolibsql {

class InlineStreak {
 public:
  using Clock = std::chrono::steady_clock;

  // Longest streak before a task must truly suspend.
  static constexpr auto kLongest = std::chrono::microseconds(1000);
  // A pause this long between the end of one piece of work and the start of
  // the next means the loop ran other work: a new streak starts.
  static constexpr auto kBreak = std::chrono::microseconds(200);

  // Whether work that started at `started` may finish, at `now`, without
  // suspending the caller. Once the streak is over it says no until
  // suspending() is called. The work is taken to end at `now`; work that
  // runs after this call reports its end with work_ended(), or its length
  // would count as a pause.
  bool allows_another(Clock::time_point started, Clock::time_point now) noexcept;
  bool allows_another() noexcept {
    const auto now = Clock::now();
    return allows_another(now, now);
  }
  void work_ended(Clock::time_point now = Clock::now()) noexcept { last_end_ = now; }
  // The caller is about to await a future: the owed suspension happens.
  void suspending(Clock::time_point now = Clock::now()) noexcept;
  bool owes_suspension() const noexcept { return suspension_owed_; }

 private:
  bool suspension_owed_ = false;
  Clock::time_point start_{};
  Clock::time_point last_end_{};
};

// The streak of the calling thread, an event loop's. Every connection and
// pool it drives shares it: what matters is how long that loop has gone
// without running other tasks, whichever connections did the work.
InlineStreak& inline_streak() noexcept;

}  // namespace aiolibsql
