#include "sim/engine/retry_policy.h"

#include <gtest/gtest.h>

namespace hooksim {
namespace {

TEST(RetryPolicyTest, DefaultsFollowTheContract) {
  RetryPolicy p;
  EXPECT_EQ(p.max_reattempts, 5);
  EXPECT_EQ(p.max_attempts(), 6);
  EXPECT_EQ(p.BaseDelay(1), std::chrono::seconds(5));
  EXPECT_EQ(p.BaseDelay(2), std::chrono::minutes(5));
  EXPECT_EQ(p.BaseDelay(3), std::chrono::minutes(30));
  EXPECT_EQ(p.BaseDelay(4), std::chrono::hours(2));
  EXPECT_EQ(p.BaseDelay(5), std::chrono::hours(5));
  EXPECT_EQ(p.BaseDelay(9), std::chrono::hours(5));  // Last one repeats.
  EXPECT_EQ(p.timeout, std::chrono::seconds(10));
  EXPECT_DOUBLE_EQ(p.jitter, 0.2);
  EXPECT_TRUE(p.Validate().ok());
}

TEST(RetryPolicyTest, WithAttemptsOfTakesOnlyTheLimitFromTheProfile) {
  Contract github = DivshotContract();
  github.max_reattempts = 0;
  github.jitter = 0.5;
  const RetryPolicy p = RetryPolicy::WithAttemptsOf(
      github, {Millis(10), Millis(20)}, 0.0, Millis(300));
  EXPECT_EQ(p.max_attempts(), 1);
  EXPECT_EQ(p.BaseDelay(1), Millis(10));
  EXPECT_EQ(p.BaseDelay(2), Millis(20));
  EXPECT_DOUBLE_EQ(p.jitter, 0.0);
  EXPECT_EQ(p.timeout, Millis(300));
}

TEST(RetryPolicyTest, JitterStaysWithinBoundsAndVaries) {
  RetryPolicy p;
  Random rng(42);
  const auto [lo, hi] = p.DelayBounds(2);
  EXPECT_EQ(lo, std::chrono::minutes(4));
  EXPECT_EQ(hi, std::chrono::minutes(6));
  Duration min = Duration::max(), max = Duration::min();
  for (int i = 0; i < 10000; ++i) {
    const Duration d = p.DelayBefore(2, rng);
    ASSERT_GE(d, lo);
    ASSERT_LE(d, hi);
    min = std::min(min, d);
    max = std::max(max, d);
  }
  // The draws spread over most of the window.
  EXPECT_LT(min, std::chrono::seconds(250));
  EXPECT_GT(max, std::chrono::seconds(350));
}

TEST(RetryPolicyTest, SameSeedSameDelays) {
  RetryPolicy p;
  Random a(7), b(7), c(8);
  bool differs = false;
  for (int k = 1; k <= 5; ++k) {
    const Duration da = p.DelayBefore(k, a);
    EXPECT_EQ(da, p.DelayBefore(k, b));
    differs |= da != p.DelayBefore(k, c);
  }
  EXPECT_TRUE(differs);
}

TEST(RetryPolicyTest, ZeroJitterGivesExactDelays) {
  RetryPolicy p;
  p.jitter = 0;
  Random rng(1);
  EXPECT_EQ(p.DelayBefore(1, rng), std::chrono::seconds(5));
  EXPECT_EQ(p.DelayBefore(4, rng), std::chrono::hours(2));
}

TEST(RetryPolicyTest, ValidateNamesTheBadField) {
  RetryPolicy p;
  p.max_reattempts = -1;
  ASSERT_FALSE(p.Validate().ok());
  EXPECT_EQ(p.Validate().path(), "/max_reattempts");

  p = RetryPolicy{};
  p.schedule = {Millis(10), Millis(-5)};
  ASSERT_FALSE(p.Validate().ok());
  EXPECT_EQ(p.Validate().path(), "/schedule_ms/1");

  p = RetryPolicy{};
  p.jitter = 1.5;
  EXPECT_EQ(p.Validate().path(), "/jitter");

  p = RetryPolicy{};
  p.timeout = Duration::zero();
  EXPECT_EQ(p.Validate().path(), "/timeout_ms");

  p = RetryPolicy{};
  p.schedule.clear();
  EXPECT_EQ(p.Validate().path(), "/schedule_ms");
}

}  // namespace
}  // namespace hooksim
