#include "sim/virtual/virtual_clock.h"

#include <gtest/gtest.h>

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
