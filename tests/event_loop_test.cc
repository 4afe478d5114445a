// The EventLoop seam (sim/engine/event_loop.h): the virtual and the real
// clock are driven the same way through the interface: timers, work posted
// and completed from other threads, Stop, and the step limit.
#include "sim/engine/event_loop.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sim/http/real_clock.h"
#include "sim/virtual/virtual_clock.h"

namespace hooksim {
namespace {

struct LoopParam {
  const char* name;
  std::function<std::unique_ptr<EventLoop>()> make;
};

const LoopParam kLoops[] = {
    {"Virtual", [] { return std::make_unique<VirtualClock>(); }},
    {"Real",
     [] {
       RealClockOptions options;
       options.time_scale = 0.001;  // 1 s of run time in 1 ms.
       return std::make_unique<RealClock>(options);
     }},
};

class EventLoopTest : public ::testing::TestWithParam<LoopParam> {};

// A bound on every run of these tests; none comes near it.
LoopLimits Limits() {
  LoopLimits limits;
  limits.max_steps = 10'000;
  limits.wall_limit = std::chrono::seconds(30);
  return limits;
}

TEST_P(EventLoopTest, RunsTimersInOrderUntilNoneIsLeft) {
  std::unique_ptr<EventLoop> loop = GetParam().make();
  std::vector<int> ran;
  loop->ScheduleAfter(Millis(300), [&] { ran.push_back(3); });
  loop->ScheduleAfter(Millis(100), [&] { ran.push_back(1); });
  loop->ScheduleAfter(Millis(200), [&] {
    ran.push_back(2);
    EXPECT_GE(ToMillis(loop->Now()), 200);
  });
  EXPECT_TRUE(loop->Run(Limits()).ok());
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
  EXPECT_GE(ToMillis(loop->Now()), 300);
}

TEST_P(EventLoopTest, ExternalWorkCompletedOnAnotherThreadRunsOnTheLoop) {
  std::unique_ptr<EventLoop> loop = GetParam().make();
  const std::thread::id loop_thread = std::this_thread::get_id();
  bool completed = false;
  std::thread worker;
  loop->ScheduleAfter(Millis(10), [&] {
    loop->BeginExternalWork();
    worker = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      loop->CompleteExternalWork([&] {
        EXPECT_EQ(std::this_thread::get_id(), loop_thread);
        completed = true;
      });
    });
  });
  // Run() waits for the outstanding work although no timer is left.
  EXPECT_TRUE(loop->Run(Limits()).ok());
  worker.join();
  EXPECT_TRUE(completed);
}

TEST_P(EventLoopTest, CompletedAttemptsRunInOrderWithTheirResults) {
  std::unique_ptr<EventLoop> loop = GetParam().make();
  const std::thread::id loop_thread = std::this_thread::get_id();
  std::vector<int> statuses;
  std::thread worker;
  loop->ScheduleAfter(Millis(1), [&] {
    for (int i = 0; i < 3; ++i) loop->BeginExternalWork();
    worker = std::thread([&] {
      std::vector<AttemptCompletion> batch;
      for (int status : {500, 200, 410}) {
        batch.push_back(AttemptCompletion{
            [&](AttemptResult r) {
              EXPECT_EQ(std::this_thread::get_id(), loop_thread);
              statuses.push_back(r.status);
            },
            AttemptResult{AttemptError::kNone, status}});
      }
      loop->CompleteAttempts(&batch);
      EXPECT_TRUE(batch.empty());
    });
  });
  // Run() returns only once all three pieces of work have completed.
  EXPECT_TRUE(loop->Run(Limits()).ok());
  worker.join();
  EXPECT_EQ(statuses, (std::vector<int>{500, 200, 410}));
}

TEST_P(EventLoopTest, PostedWorkRunsOnTheLoopThread) {
  std::unique_ptr<EventLoop> loop = GetParam().make();
  const std::thread::id loop_thread = std::this_thread::get_id();
  bool posted_ran = false;
  std::thread poster;
  // Outstanding work keeps the loop running until the post has been seen.
  loop->BeginExternalWork();
  loop->ScheduleAfter(Millis(1), [&] {
    poster = std::thread([&] {
      loop->Post([&] {
        EXPECT_EQ(std::this_thread::get_id(), loop_thread);
        posted_ran = true;
        loop->CompleteExternalWork([] {});
      });
    });
  });
  EXPECT_TRUE(loop->Run(Limits()).ok());
  poster.join();
  EXPECT_TRUE(posted_ran);
}

TEST_P(EventLoopTest, StopReturnsAndTheNextRunGoesOn) {
  std::unique_ptr<EventLoop> loop = GetParam().make();
  std::vector<int> ran;
  loop->ScheduleAfter(Millis(1), [&] {
    ran.push_back(1);
    // Scheduled after the loop read the time for this pass of due timers,
    // so not in it: the Stop() is seen first in both loops.
    loop->ScheduleAfter(Millis(1), [&] { ran.push_back(2); });
    loop->Stop();
  });
  EXPECT_TRUE(loop->Run(Limits()).ok());
  EXPECT_EQ(ran, (std::vector<int>{1}));
  EXPECT_TRUE(loop->Run(Limits()).ok());
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
}

TEST_P(EventLoopTest, TheStepLimitEndsARunWithAnError) {
  std::unique_ptr<EventLoop> loop = GetParam().make();
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    loop->ScheduleAfter(Millis(1), tick);  // Never ends by itself.
  };
  loop->ScheduleAfter(Millis(1), tick);
  LoopLimits limits = Limits();
  limits.max_steps = 20;
  const Status s = loop->Run(limits);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("20"), std::string::npos) << s.message();
  EXPECT_GE(ticks, 20);
  EXPECT_LE(ticks, 21);
}

INSTANTIATE_TEST_SUITE_P(Loops, EventLoopTest, ::testing::ValuesIn(kLoops),
                         [](const ::testing::TestParamInfo<LoopParam>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace hooksim
