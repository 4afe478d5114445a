#include "sim/virtual/virtual_clock.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hooksim {
namespace {

TEST(VirtualClockTest, RunsTimersInTimeOrderAndJumpsTime) {
  VirtualClock clock;
  std::vector<std::pair<int, int64_t>> ran;
  clock.ScheduleAfter(Millis(300), [&] { ran.push_back({3, ToMillis(clock.Now())}); });
  clock.ScheduleAfter(Millis(100), [&] { ran.push_back({1, ToMillis(clock.Now())}); });
  clock.ScheduleAfter(Millis(200), [&] { ran.push_back({2, ToMillis(clock.Now())}); });
  EXPECT_TRUE(clock.Run(100).ok());
  ASSERT_EQ(ran.size(), 3u);
  EXPECT_EQ(ran[0], std::make_pair(1, int64_t{100}));
  EXPECT_EQ(ran[1], std::make_pair(2, int64_t{200}));
  EXPECT_EQ(ran[2], std::make_pair(3, int64_t{300}));
  EXPECT_EQ(ToMillis(clock.Now()), 300);
}

TEST(VirtualClockTest, BreaksTiesByInsertionOrder) {
  VirtualClock clock;
  std::vector<int> ran;
  for (int i = 0; i < 50; ++i) {
    clock.ScheduleAfter(Millis(5), [&ran, i] { ran.push_back(i); });
  }
  ASSERT_TRUE(clock.Run(1000).ok());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(ran[i], i);
}

TEST(VirtualClockTest, CallbacksCanScheduleMoreAndNeverRunInline) {
  VirtualClock clock;
  std::vector<int64_t> times;
  bool inside = false;
  std::function<void()> tick = [&] {
    times.push_back(ToMillis(clock.Now()));
    if (times.size() < 5) {
      const size_t before = times.size();
      inside = true;
      clock.ScheduleAfter(Millis(10), tick);
      EXPECT_EQ(times.size(), before);  // The new timer did not run inline.
      inside = false;
    }
  };
  clock.ScheduleAfter(Duration::zero(), [&] {
    EXPECT_FALSE(inside);
    tick();
  });
  ASSERT_TRUE(clock.Run(100).ok());
  EXPECT_EQ(times, (std::vector<int64_t>{0, 10, 20, 30, 40}));
}

// Timers due at once and timers due later keep one order: time, then the
// order they were scheduled in, whichever way each was scheduled.
TEST(VirtualClockTest, ZeroDelaysAndDelaysDueAtOneTimeKeepScheduleOrder) {
  VirtualClock clock;
  std::vector<std::string> ran;
  auto note = [&](std::string name) {
    ran.push_back(name + "@" + std::to_string(ToMillis(clock.Now())));
  };
  clock.ScheduleAfter(Millis(10), [&] {
    note("x");
    // Due now, but after z (due now too, scheduled earlier by y).
    clock.ScheduleAfter(Duration::zero(), [&] {
      note("w");
      clock.ScheduleAfter(Duration::zero(), [&] { note("w2"); });
    });
    clock.ScheduleAfter(Millis(-1), [&] { note("w1"); });
  });
  clock.ScheduleAfter(Duration::zero(), [&] {
    note("y");
    clock.ScheduleAfter(Millis(10), [&] { note("z"); });
    clock.ScheduleAfter(Duration::zero(), [&] { note("y1"); });
  });
  clock.ScheduleAfter(Duration::zero(), [&] { note("y0"); });
  EXPECT_EQ(clock.pending(), 3u);
  ASSERT_TRUE(clock.Run(100).ok());
  EXPECT_EQ(ran, (std::vector<std::string>{"y@0", "y0@0", "y1@0", "x@10",
                                           "z@10", "w@10", "w1@10",
                                           "w2@10"}));
  EXPECT_EQ(clock.pending(), 0u);
}

// A step limit met among timers due at once leaves the rest pending, and
// the next Run goes on with them in order.
TEST(VirtualClockTest, StepLimitAmongZeroDelaysResumesInOrder) {
  VirtualClock clock;
  std::vector<int> ran;
  for (int i = 0; i < 5; ++i) {
    clock.ScheduleAfter(Duration::zero(), [&ran, i] { ran.push_back(i); });
  }
  EXPECT_FALSE(clock.Run(2).ok());
  EXPECT_EQ(clock.pending(), 3u);
  ASSERT_TRUE(clock.Run(10).ok());
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(VirtualClockTest, NegativeDelayCountsAsZero) {
  VirtualClock clock;
  int64_t at = -1;
  clock.ScheduleAfter(Millis(-50), [&] { at = ToMillis(clock.Now()); });
  ASSERT_TRUE(clock.Run(10).ok());
  EXPECT_EQ(at, 0);
}

TEST(VirtualClockTest, StepLimitStopsAnEndlessLoop) {
  VirtualClock clock;
  std::function<void()> forever = [&] {
    clock.ScheduleAfter(Millis(1), forever);
  };
  clock.ScheduleAfter(Millis(1), forever);
  Status s = clock.Run(1000);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("1000 timers"), std::string::npos);
  EXPECT_EQ(clock.steps(), 1000u);
}

}  // namespace
}  // namespace hooksim
