#include "sim/real_clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace hooksim {
namespace {

// These tests assert order and lower bounds ("not before"), never speed:
// an upper bound on how late a timer fires would depend on the machine.

TEST(RealClockTest, RunsTimersByDueTimeThenInsertion) {
  RealClock clock;
  std::vector<int> ran;
  clock.ScheduleAfter(Millis(30), [&] { ran.push_back(3); });
  clock.ScheduleAfter(Millis(10), [&] { ran.push_back(1); });
  clock.ScheduleAfter(Millis(20), [&] { ran.push_back(2); });
  EXPECT_FALSE(clock.Run().has_value());
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
}

TEST(RealClockTest, BreaksTiesByInsertionOrder) {
  RealClock clock;
  std::vector<int> ran;
  // Zero delays due "now": each is scheduled after the previous one, so
  // their due times are non-decreasing and equal ones keep insertion order.
  for (int i = 0; i < 100; ++i) {
    clock.ScheduleAfter(Duration::zero(), [&ran, i] { ran.push_back(i); });
  }
  EXPECT_FALSE(clock.Run().has_value());
  ASSERT_EQ(ran.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(ran[i], i);
}

TEST(RealClockTest, TimerNeverRunsBeforeItsDueTime) {
  for (double scale : {1.0, 0.01}) {
    RealClock clock(RealClockOptions{.time_scale = scale});
    std::vector<std::pair<TimePoint, TimePoint>> due_and_ran;
    for (int ms : {0, 1, 5, 20, 50}) {
      const TimePoint due = clock.Now() + Millis(ms);
      clock.ScheduleAfter(Millis(ms), [&, due] {
        due_and_ran.push_back({due, clock.Now()});
      });
    }
    EXPECT_FALSE(clock.Run().has_value());
    ASSERT_EQ(due_and_ran.size(), 5u);
    for (const auto& [due, ran] : due_and_ran) {
      EXPECT_GE(ran, due) << "scale " << scale;
    }
  }
}

TEST(RealClockTest, CallbacksNeverRunInlineAndMayScheduleMore) {
  RealClock clock;
  bool inside = false;
  int ticks = 0;
  std::function<void()> tick = [&] {
    EXPECT_FALSE(inside);
    ++ticks;
    if (ticks < 5) {
      inside = true;
      clock.ScheduleAfter(Duration::zero(), tick);
      inside = false;
    }
  };
  clock.ScheduleAfter(Duration::zero(), tick);
  EXPECT_FALSE(clock.Run().has_value());
  EXPECT_EQ(ticks, 5);
}

TEST(RealClockTest, RunReturnsWhenIdle) {
  RealClock clock;
  EXPECT_FALSE(clock.Run().has_value());  // Nothing queued at all.
  int ran = 0;
  clock.ScheduleAfter(Millis(1), [&] { ++ran; });
  EXPECT_FALSE(clock.Run().has_value());
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(clock.pending_timers(), 0u);
}

TEST(RealClockTest, ExternalWorkKeepsRunAliveUntilCompletedFromAnotherThread) {
  RealClock clock;
  std::atomic<bool> completed_by_worker{false};
  bool completion_ran = false;
  std::thread worker;
  std::thread::id loop_thread = std::this_thread::get_id();
  clock.ScheduleAfter(Duration::zero(), [&] {
    clock.BeginExternalWork();
    worker = std::thread([&] {
      // No timer is queued while this sleeps: only the outstanding work
      // keeps Run() waiting.
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      completed_by_worker = true;
      clock.CompleteExternalWork([&] {
        EXPECT_EQ(std::this_thread::get_id(), loop_thread);
        completion_ran = true;
      });
    });
  });
  EXPECT_FALSE(clock.Run().has_value());
  EXPECT_TRUE(completed_by_worker);
  EXPECT_TRUE(completion_ran);
  EXPECT_EQ(clock.outstanding_external_work(), 0);
  worker.join();
}

TEST(RealClockTest, CompletionCanStartMoreWork) {
  RealClock clock;
  std::vector<std::thread> workers;
  int rounds = 0;
  std::function<void()> start = [&] {
    clock.BeginExternalWork();
    workers.emplace_back([&] {
      clock.CompleteExternalWork([&] {
        if (++rounds < 3) start();
      });
    });
  };
  clock.ScheduleAfter(Duration::zero(), start);
  EXPECT_FALSE(clock.Run().has_value());
  EXPECT_EQ(rounds, 3);
  for (auto& w : workers) w.join();
}

TEST(RealClockTest, StopFromAnotherThreadEndsRunAndKeepsTimers) {
  RealClock clock;
  bool far_timer_ran = false;
  clock.ScheduleAfter(std::chrono::hours(1), [&] { far_timer_ran = true; });
  clock.BeginExternalWork();  // Never completed: Run would wait for it.
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    clock.Stop();
  });
  EXPECT_FALSE(clock.Run().has_value());
  stopper.join();
  EXPECT_FALSE(far_timer_ran);
  EXPECT_EQ(clock.pending_timers(), 1u);
  EXPECT_EQ(clock.outstanding_external_work(), 1);
}

TEST(RealClockTest, StopBeforeRunMakesTheNextRunReturnAtOnce) {
  RealClock clock;
  bool ran = false;
  clock.ScheduleAfter(std::chrono::hours(1), [&] { ran = true; });
  clock.Stop();
  EXPECT_FALSE(clock.Run().has_value());
  EXPECT_FALSE(ran);
}

TEST(RealClockTest, ToWallScales) {
  RealClock full;
  EXPECT_EQ(full.ToWall(Millis(250)), std::chrono::milliseconds(250));
  EXPECT_EQ(full.ToWall(Duration::zero()), std::chrono::nanoseconds(0));
  EXPECT_EQ(full.ToWall(Millis(-5)), std::chrono::nanoseconds(0));

  RealClock fast(RealClockOptions{.time_scale = 0.001});
  EXPECT_EQ(fast.ToWall(std::chrono::minutes(5)),
            std::chrono::milliseconds(300));
  EXPECT_EQ(fast.time_scale(), 0.001);
  // A positive duration never becomes zero wall time.
  EXPECT_EQ(fast.ToWall(Duration(1)), std::chrono::microseconds(1));
  // Rounded up, never down.
  RealClock third(RealClockOptions{.time_scale = 1.0 / 3.0});
  EXPECT_GE(third.ToWall(Duration(1000)) * 3, std::chrono::microseconds(1000));
  // No overflow on huge durations.
  EXPECT_GT(full.ToWall(Duration::max()), std::chrono::hours(24 * 365));
}

TEST(RealClockTest, NowAdvancesScaledAndNeverBackwards) {
  RealClock clock(RealClockOptions{.time_scale = 0.01});
  const TimePoint a = clock.Now();
  const auto wall_start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto wall = std::chrono::steady_clock::now() - wall_start;
  const TimePoint b = clock.Now();
  EXPECT_GE(b, a);
  // 5 ms of wall time or more is at least 500 ms of run time at 0.01.
  EXPECT_GE(b - a,
            std::chrono::duration_cast<Duration>(wall) * 100 - Millis(1));
}

TEST(RealClockTest, WallLimitIsAnError) {
  RealClock clock;
  clock.ScheduleAfter(std::chrono::hours(1), [] {});
  const Status s =
      clock.Run(RealRunLimits{.wall_limit = std::chrono::milliseconds(20)});
  ASSERT_TRUE(s.has_value());
  EXPECT_NE(s->message.find("wall-time limit"), std::string::npos)
      << s->message;
  EXPECT_NE(s->message.find("1 timers queued"), std::string::npos)
      << s->message;
}

}  // namespace
}  // namespace hooksim
