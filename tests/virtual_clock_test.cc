#include "sim/virtual/virtual_clock.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "sim/base/random.h"

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

// Many timers, scheduled before and while the clock runs, with delays from
// zero to hours and many ties: every one runs exactly once, in order of
// due time, then of scheduling (the order a binary heap keyed by both
// gave), however far apart the times are.
TEST(VirtualClockTest, ManyTimersRunByDueTimeThenScheduleOrder) {
  VirtualClock clock;
  Random rng(42);
  struct Ran {
    int64_t due;
    int id;
    int64_t at;
  };
  std::vector<Ran> ran;
  std::vector<int64_t> due_of;
  int children_left = 20000;
  std::function<void(Duration)> schedule = [&](Duration delay) {
    const int id = static_cast<int>(due_of.size());
    due_of.push_back(clock.Now().time_since_epoch().count() + delay.count());
    clock.ScheduleAfter(delay, [&, id] {
      ran.push_back({due_of[id], id, clock.Now().time_since_epoch().count()});
      // Some timers schedule one or two more, due now or later.
      for (int k = 0; k < 2 && children_left > 0; ++k) {
        if (!rng.Bernoulli(0.6)) continue;
        --children_left;
        const int kind = static_cast<int>(rng.UniformInt(0, 3));
        const int64_t us = kind == 0   ? 0
                           : kind == 1 ? rng.UniformInt(1, 3) * 1000
                           : kind == 2 ? rng.UniformInt(1, 1'000'000)
                                       : rng.UniformInt(1, 3) * 3'600'000'000LL;
        schedule(Duration(us));
      }
    });
  };
  for (int i = 0; i < 5000; ++i) {
    // Ties on purpose: a few hundred distinct times for 5,000 timers.
    schedule(Millis(rng.UniformInt(0, 300) * 7));
  }
  ASSERT_TRUE(clock.Run(1'000'000).ok());
  ASSERT_EQ(ran.size(), due_of.size());
  EXPECT_EQ(clock.pending(), 0u);
  for (size_t i = 0; i < ran.size(); ++i) {
    EXPECT_EQ(ran[i].at, ran[i].due) << "timer " << ran[i].id;
    if (i > 0) {
      ASSERT_LT(std::tie(ran[i - 1].due, ran[i - 1].id),
                std::tie(ran[i].due, ran[i].id))
          << "at position " << i;
    }
  }
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
