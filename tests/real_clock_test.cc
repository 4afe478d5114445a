#include "sim/http/real_clock.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
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
  EXPECT_TRUE(clock.Run().ok());
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
  EXPECT_TRUE(clock.Run().ok());
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
    EXPECT_TRUE(clock.Run().ok());
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
  EXPECT_TRUE(clock.Run().ok());
  EXPECT_EQ(ticks, 5);
}

TEST(RealClockTest, RunReturnsWhenIdle) {
  RealClock clock;
  EXPECT_TRUE(clock.Run().ok());  // Nothing queued at all.
  int ran = 0;
  clock.ScheduleAfter(Millis(1), [&] { ++ran; });
  EXPECT_TRUE(clock.Run().ok());
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
  EXPECT_TRUE(clock.Run().ok());
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
  EXPECT_TRUE(clock.Run().ok());
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
  EXPECT_TRUE(clock.Run().ok());
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
  EXPECT_TRUE(clock.Run().ok());
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
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("wall-time limit"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("1 timers queued"), std::string::npos)
      << s.message();
}

// A poller that waits on a pipe: Wake() writes a byte to it.
class PipePoller : public RealClockPoller {
 public:
  PipePoller() { EXPECT_EQ(pipe2(fds_, O_CLOEXEC | O_NONBLOCK), 0); }
  ~PipePoller() override {
    close(fds_[0]);
    close(fds_[1]);
  }
  void Poll(std::chrono::steady_clock::time_point until) override {
    ++polls;
    const auto left = until - std::chrono::steady_clock::now();
    const int ms = static_cast<int>(std::clamp<int64_t>(
        std::chrono::ceil<std::chrono::milliseconds>(left).count(), 0, 60'000));
    pollfd fd{fds_[0], POLLIN, 0};
    if (poll(&fd, 1, ms) > 0) {
      char buf[64];
      [[maybe_unused]] const ssize_t n = read(fds_[0], buf, sizeof(buf));
    }
  }
  void Wake() override {
    ++wakes;
    const char byte = 'w';
    [[maybe_unused]] const ssize_t n = write(fds_[1], &byte, 1);
  }
  std::atomic<int> polls{0};
  std::atomic<int> wakes{0};

 private:
  int fds_[2] = {-1, -1};
};

TEST(RealClockTest, WaitsInThePollerWhichOtherThreadsWake) {
  RealClock clock;
  PipePoller poller;
  ASSERT_TRUE(clock.SetPoller(&poller));
  std::atomic<bool> timer_ran{false};
  bool completion_ran = false;
  clock.ScheduleAfter(Millis(5), [&] { timer_ran = true; });
  clock.BeginExternalWork();
  // Completed from another thread once the loop waits in the poller (the
  // wait has no timer left to end it: only the wake-up can).
  std::thread worker([&] {
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!timer_ran && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    clock.CompleteExternalWork([&] { completion_ran = true; });
  });
  const Status s =
      clock.Run(RealRunLimits{.wall_limit = std::chrono::seconds(60)});
  worker.join();
  EXPECT_TRUE(s.ok());
  EXPECT_TRUE(timer_ran);
  EXPECT_TRUE(completion_ran);
  EXPECT_GE(poller.polls.load(), 1);
  EXPECT_GE(poller.wakes.load(), 1);
  clock.SetPoller(nullptr);
}

TEST(RealClockTest, CompletionsMadeInsidePollNeedNoWakeUp) {
  RealClock clock;
  struct InlinePoller : RealClockPoller {
    explicit InlinePoller(RealClock& c) : clock(c) {}
    void Poll(std::chrono::steady_clock::time_point) override {
      ++polls;
      clock.CompleteExternalWork([this] { ++completed; });
    }
    void Wake() override { ++wakes; }
    RealClock& clock;
    int polls = 0;
    int completed = 0;
    int wakes = 0;
  } poller(clock), other(clock);
  ASSERT_TRUE(clock.SetPoller(&poller));
  EXPECT_FALSE(clock.SetPoller(&other)) << "one poller at a time";
  for (int i = 0; i < 3; ++i) clock.BeginExternalWork();
  EXPECT_TRUE(clock.Run().ok());
  EXPECT_EQ(poller.polls, 3);
  EXPECT_EQ(poller.completed, 3);
  EXPECT_EQ(poller.wakes, 0);
  clock.SetPoller(nullptr);
}

}  // namespace
}  // namespace hooksim
