#include "sim/judge/attempt_oracle.h"

#include <gtest/gtest.h>

namespace hooksim {
namespace {

BehaviorSpec Fixed(int status) {
  BehaviorSpec s;
  s.answers = FixedAnswer{Answer{status, Fault::kNone}};
  return s;
}

TEST(AttemptOracleTest, AlwaysFailingGivesUpAfterSix) {
  auto d = DeriveAttempts(Fixed(500), RetryPolicy{}, TimePoint{});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->attempts.min, 6);
  EXPECT_EQ(d->attempts.max, 6);
  EXPECT_EQ(d->outcome, OutcomeExpectation::kGaveUp);
}

TEST(AttemptOracleTest, SequenceSucceedsAtItsFirst2xx) {
  BehaviorSpec s;
  s.answers = SequenceAnswer{{Answer{503, Fault::kNone},
                              Answer{0, Fault::kHang},
                              Answer{200, Fault::kNone}},
                             SequenceScope::kDelivery,
                             SequenceEnd::kRepeatLast};
  auto d = DeriveAttempts(s, RetryPolicy{}, TimePoint{});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->attempts.ToString(), "3");
  EXPECT_EQ(d->outcome, OutcomeExpectation::kDelivered);
}

TEST(AttemptOracleTest, DribbleSucceedsOnlyWithinTheTimeout) {
  BehaviorSpec s;
  s.answers = FixedAnswer{Answer{200, Fault::kDribble}};
  s.latency = LatencyFixed{Millis(500)};
  auto d = DeriveAttempts(s, RetryPolicy{}, TimePoint{});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->attempts.ToString(), "1");
  EXPECT_EQ(d->outcome, OutcomeExpectation::kDelivered);
  s.latency = LatencyFixed{RetryPolicy{}.timeout};
  d = DeriveAttempts(s, RetryPolicy{}, TimePoint{});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->attempts.ToString(), "6");
  EXPECT_EQ(d->outcome, OutcomeExpectation::kGaveUp);
}

TEST(AttemptOracleTest, CycleComesBackToTheFailure) {
  BehaviorSpec s;
  s.answers = SequenceAnswer{{Answer{500, Fault::kNone}},
                             SequenceScope::kDelivery, SequenceEnd::kCycle};
  auto d = DeriveAttempts(s, RetryPolicy{}, TimePoint{});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->outcome, OutcomeExpectation::kGaveUp);
}

TEST(AttemptOracleTest, LatencyPastTheTimeoutNeverSucceeds) {
  BehaviorSpec s = Fixed(200);
  s.latency = LatencyFixed{std::chrono::seconds(15)};
  auto d = DeriveAttempts(s, RetryPolicy{}, TimePoint{});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->outcome, OutcomeExpectation::kGaveUp);
  EXPECT_EQ(d->attempts.ToString(), "6");
}

TEST(AttemptOracleTest, TwoHourOutageIsRiddenOutAtTheFifthAttempt) {
  // Attempts start at 0, ~5 s, ~5 min 5 s, ~35 min 5 s, ~2 h 35 min: with
  // +-20 % jitter the 5th starts between 2 h 4 min and 3 h 6 min, always
  // after the outage ends at 2 h; the 4th always before it.
  BehaviorSpec s = Fixed(200);
  s.outages = {OutageWindow{AtMillis(0), AtMillis(7'200'000),
                            Answer{503, Fault::kNone}}};
  auto d = DeriveAttempts(s, RetryPolicy{}, TimePoint{});
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->attempts.ToString(), "5");
  EXPECT_EQ(d->outcome, OutcomeExpectation::kDelivered);
}

TEST(AttemptOracleTest, AnOutageEdgeInsideTheJitterWindowGivesARange) {
  // Event at 1 h 10 min: the 4th attempt lands somewhere in
  // [1 h 38 min, 1 h 52 min]... with the outage ending at 1 h 45 min it may
  // or may not be inside it.
  BehaviorSpec s = Fixed(200);
  s.outages = {OutageWindow{AtMillis(0), AtMillis(6'300'000),
                            Answer{503, Fault::kNone}}};
  auto d = DeriveAttempts(s, RetryPolicy{}, AtMillis(4'200'000));
  ASSERT_TRUE(d.has_value());
  EXPECT_LT(d->attempts.min, d->attempts.max);
  EXPECT_EQ(d->outcome, OutcomeExpectation::kDelivered);
}

TEST(AttemptOracleTest, RandomBehavioursAreNotDerived) {
  BehaviorSpec weighted;
  weighted.answers = WeightedAnswer{{{Answer{200, Fault::kNone}, 0.5},
                                     {Answer{500, Fault::kNone}, 0.5}}};
  EXPECT_FALSE(DeriveAttempts(weighted, RetryPolicy{}, TimePoint{}));

  BehaviorSpec per_receiver;
  per_receiver.answers =
      SequenceAnswer{{Answer{500, Fault::kNone}, Answer{200, Fault::kNone}},
                     SequenceScope::kReceiver, SequenceEnd::kRepeatLast};
  EXPECT_FALSE(DeriveAttempts(per_receiver, RetryPolicy{}, TimePoint{}));

  BehaviorSpec random_latency = Fixed(200);
  random_latency.latency = LatencyUniform{Millis(1), Millis(20'000)};
  EXPECT_FALSE(DeriveAttempts(random_latency, RetryPolicy{}, TimePoint{}));
}

TEST(AttemptOracleTest, RefusedHooksGiveUpAfterMaxAttempts) {
  RetryPolicy p;
  p.max_reattempts = 2;
  const DerivedAttempts d = DeriveRefusedAttempts(p);
  EXPECT_EQ(d.attempts.ToString(), "3");
  EXPECT_EQ(d.outcome, OutcomeExpectation::kGaveUp);
}

}  // namespace
}  // namespace hooksim
