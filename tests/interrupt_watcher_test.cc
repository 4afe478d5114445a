#include "sim/os/interrupt_watcher.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace hooksim {
namespace {

TEST(InterruptWatcherTest, SigintCallsBackOnceOnItsThreadAndOnlyOneInstalls) {
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  {
    InterruptWatcher watcher([&] {
      std::lock_guard<std::mutex> lock(mu);
      ++calls;
      cv.notify_all();
    });
    ASSERT_TRUE(watcher.installed());
    InterruptWatcher second([] {});
    EXPECT_FALSE(second.installed());
    ASSERT_EQ(raise(SIGINT), 0);
    ASSERT_EQ(raise(SIGINT), 0);  // Ignored: the first one counts.
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(
        cv.wait_for(lock, std::chrono::seconds(20), [&] { return calls > 0; }));
    EXPECT_TRUE(watcher.interrupted());
  }
  EXPECT_EQ(calls, 1);
  // The previous disposition is back.
  struct sigaction now {};
  sigaction(SIGINT, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
}

}  // namespace
}  // namespace hooksim
