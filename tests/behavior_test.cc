#include "mock-receivers/behavior.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace hooksim {
namespace {

const Answer kOk{200, Fault::kNone};
const Answer k500{500, Fault::kNone};
const Answer k503{503, Fault::kNone};
const Answer kReset{200, Fault::kReset};

const HttpRequest kRequest{"POST", "/hook", {}, "{}"};

Reply DecideAt(const ReceiverBehavior& b, int delivery_attempt,
               uint64_t request_index, TimePoint now, Random& rng) {
  DecisionContext ctx;
  ctx.delivery_attempt = delivery_attempt;
  ctx.request_index = request_index;
  return b.Decide(kRequest, ctx, now, rng);
}

Reply DecideAt(const ReceiverBehavior& b, int delivery_attempt,
               uint64_t request_index = 0) {
  Random rng(1);
  return DecideAt(b, delivery_attempt, request_index, AtMillis(0), rng);
}

BehaviorSpec Sequence(std::vector<Answer> answers, SequenceScope per,
                      SequenceEnd then) {
  BehaviorSpec spec;
  spec.answers = SequenceAnswer{std::move(answers), per, then};
  return spec;
}

TEST(BehaviorFaultTest, NamesRoundTrip) {
  for (Fault f : {Fault::kNone, Fault::kHang, Fault::kReset, Fault::kEmpty,
                  Fault::kGarbage}) {
    EXPECT_EQ(ParseFault(FaultName(f)), f);
  }
  EXPECT_EQ(FaultName(Fault::kHang), "hang");
  EXPECT_EQ(FaultName(Fault::kGarbage), "garbage");
  EXPECT_EQ(ParseFault("explode"), std::nullopt);
  EXPECT_EQ(ParseFault("Reset"), std::nullopt);
}

TEST(BehaviorFaultTest, DescribeAnswer) {
  EXPECT_EQ(DescribeAnswer(kOk), "200");
  EXPECT_EQ(DescribeAnswer(k503), "503");
  EXPECT_EQ(DescribeAnswer(kReset), "reset");
  EXPECT_EQ(DescribeAnswer(Answer{200, Fault::kHang}), "hang");
  EXPECT_TRUE(kOk.IsSuccess());
  EXPECT_FALSE(kReset.IsSuccess());
}

TEST(BehaviorTest, DefaultAnswers200WithoutDelay) {
  ReceiverBehavior b{BehaviorSpec{}};
  Reply r = DecideAt(b, 1);
  EXPECT_EQ(r.answer, kOk);
  EXPECT_EQ(r.latency, Duration(0));
  EXPECT_TRUE(b.IsDeterministic());
}

TEST(BehaviorTest, FixedStatusAndFault) {
  BehaviorSpec spec;
  spec.answers = FixedAnswer{k503};
  ReceiverBehavior b(spec);
  for (int attempt = 1; attempt <= 7; ++attempt) {
    EXPECT_EQ(DecideAt(b, attempt, attempt * 3).answer, k503);
  }
  spec.answers = FixedAnswer{Answer{200, Fault::kHang}};
  ReceiverBehavior hang(spec);
  EXPECT_EQ(DecideAt(hang, 1).answer.fault, Fault::kHang);
}

TEST(BehaviorTest, SequencePerDeliveryRepeatsLast) {
  ReceiverBehavior b(Sequence({k503, k503, kOk}, SequenceScope::kDelivery,
                              SequenceEnd::kRepeatLast));
  // request_index must not matter for a per-delivery sequence.
  EXPECT_EQ(DecideAt(b, 1, 40).answer, k503);
  EXPECT_EQ(DecideAt(b, 2, 41).answer, k503);
  EXPECT_EQ(DecideAt(b, 3, 0).answer, kOk);
  EXPECT_EQ(DecideAt(b, 4, 7).answer, kOk);
  EXPECT_EQ(DecideAt(b, 100, 7).answer, kOk);
  EXPECT_TRUE(b.IsDeterministic());
}

TEST(BehaviorTest, SequencePerDeliveryCycles) {
  ReceiverBehavior b(Sequence({k503, kReset, kOk}, SequenceScope::kDelivery,
                              SequenceEnd::kCycle));
  const std::vector<Answer> want = {k503, kReset, kOk, k503, kReset, kOk, k503};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(DecideAt(b, static_cast<int>(i) + 1).answer, want[i]) << i;
  }
}

TEST(BehaviorTest, SequencePerReceiverUsesRequestIndex) {
  ReceiverBehavior repeat(Sequence({k503, kOk}, SequenceScope::kReceiver,
                                   SequenceEnd::kRepeatLast));
  // delivery_attempt must not matter for a per-receiver sequence.
  EXPECT_EQ(DecideAt(repeat, 1, 0).answer, k503);
  EXPECT_EQ(DecideAt(repeat, 1, 1).answer, kOk);
  EXPECT_EQ(DecideAt(repeat, 1, 2).answer, kOk);
  EXPECT_EQ(DecideAt(repeat, 5, 1'000'000).answer, kOk);

  ReceiverBehavior cycle(Sequence({k503, kOk}, SequenceScope::kReceiver,
                                  SequenceEnd::kCycle));
  EXPECT_EQ(DecideAt(cycle, 1, 0).answer, k503);
  EXPECT_EQ(DecideAt(cycle, 1, 1).answer, kOk);
  EXPECT_EQ(DecideAt(cycle, 1, 2).answer, k503);
  EXPECT_EQ(DecideAt(cycle, 1, 1'000'001).answer, kOk);
}

TEST(BehaviorTest, SequenceTreatsAttemptBelowOneAsFirst) {
  ReceiverBehavior b(Sequence({k503, kOk}, SequenceScope::kDelivery,
                              SequenceEnd::kRepeatLast));
  EXPECT_EQ(DecideAt(b, 0).answer, k503);
  EXPECT_EQ(DecideAt(b, -3).answer, k503);
}

BehaviorSpec Weighted() {
  BehaviorSpec spec;
  spec.answers = WeightedAnswer{{{kOk, 0.7}, {k500, 0.2}, {kReset, 0.1}}};
  return spec;
}

TEST(BehaviorTest, WeightedFrequenciesFollowWeights) {
  ReceiverBehavior b(Weighted());
  EXPECT_FALSE(b.IsDeterministic());
  Random rng(42);
  std::map<std::string, int> counts;
  constexpr int kDraws = 10'000;
  for (int i = 0; i < kDraws; ++i) {
    ++counts[DescribeAnswer(DecideAt(b, 1, i, AtMillis(0), rng).answer)];
  }
  EXPECT_EQ(counts.size(), 3u);
  // Three standard deviations of a binomial(10000, p) are at most 1.4 %.
  EXPECT_NEAR(counts["200"] / double(kDraws), 0.7, 0.02);
  EXPECT_NEAR(counts["500"] / double(kDraws), 0.2, 0.02);
  EXPECT_NEAR(counts["reset"] / double(kDraws), 0.1, 0.02);
}

TEST(BehaviorTest, WeightedSameSeedSameAnswers) {
  ReceiverBehavior b(Weighted());
  Random a(7), c(7), other(8);
  std::vector<Answer> first, second, third;
  for (int i = 0; i < 200; ++i) {
    first.push_back(DecideAt(b, 1, i, AtMillis(0), a).answer);
    second.push_back(DecideAt(b, 1, i, AtMillis(0), c).answer);
    third.push_back(DecideAt(b, 1, i, AtMillis(0), other).answer);
  }
  EXPECT_EQ(first, second);
  EXPECT_NE(first, third);
}

TEST(BehaviorTest, WeightedDrawsOnceAndLastChoiceCatchesRounding) {
  BehaviorSpec spec;
  // Weights summing to slightly under 1: a draw past the sum takes the last.
  spec.answers = WeightedAnswer{{{kOk, 0.0}, {k503, 0.9999999}}};
  ReceiverBehavior b(spec);
  Random rng(3);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(DecideAt(b, 1, i, AtMillis(0), rng).answer, k503);
  }
  // Exactly one NextDouble() per decision.
  Random used(11), reference(11);
  DecideAt(b, 1, 0, AtMillis(0), used);
  reference.NextDouble();
  EXPECT_EQ(used.Next(), reference.Next());
}

TEST(BehaviorTest, FixedLatency) {
  BehaviorSpec spec;
  spec.latency = LatencyFixed{Millis(50)};
  ReceiverBehavior b(spec);
  EXPECT_EQ(DecideAt(b, 1).latency, Millis(50));
  EXPECT_TRUE(b.IsDeterministic());
}

TEST(BehaviorTest, UniformLatencyStaysInRange) {
  BehaviorSpec spec;
  spec.latency = LatencyUniform{Millis(10), Millis(200)};
  ReceiverBehavior b(spec);
  EXPECT_FALSE(b.IsDeterministic());
  Random rng(5);
  Duration lo = Millis(1000), hi = Duration(0);
  for (int i = 0; i < 5000; ++i) {
    const Duration d = DecideAt(b, 1, i, AtMillis(0), rng).latency;
    ASSERT_GE(d, Millis(10));
    ASSERT_LE(d, Millis(200));
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_LT(lo, Millis(15));
  EXPECT_GT(hi, Millis(195));
}

TEST(BehaviorTest, UniformLatencyWithEqualBoundsIsDeterministic) {
  BehaviorSpec spec;
  spec.latency = LatencyUniform{Millis(30), Millis(30)};
  ReceiverBehavior b(spec);
  EXPECT_TRUE(b.IsDeterministic());
  Random rng(9), untouched(9);
  EXPECT_EQ(DecideAt(b, 1, 0, AtMillis(0), rng).latency, Millis(30));
  EXPECT_EQ(rng.Next(), untouched.Next());
}

TEST(BehaviorTest, LogNormalLatencyCentersOnMedianAndIsCapped) {
  BehaviorSpec spec;
  spec.latency = LatencyLogNormal{Millis(50), 1.0, Millis(200)};
  ReceiverBehavior b(spec);
  EXPECT_FALSE(b.IsDeterministic());
  Random rng(13);
  std::vector<Duration> draws;
  int at_cap = 0;
  for (int i = 0; i < 10'000; ++i) {
    const Duration d = DecideAt(b, 1, i, AtMillis(0), rng).latency;
    ASSERT_GE(d, Duration(0));
    ASSERT_LE(d, Millis(200));
    if (d == Millis(200)) ++at_cap;
    draws.push_back(d);
  }
  std::sort(draws.begin(), draws.end());
  const double median_ms = draws[draws.size() / 2].count() / 1000.0;
  EXPECT_NEAR(median_ms, 50.0, 5.0);
  // P(Z > ln 4) for sigma 1 is about 8.3 %: those draws are cut to the cap.
  EXPECT_NEAR(at_cap / 10'000.0, 0.083, 0.015);
}

TEST(BehaviorTest, LogNormalWithZeroSigmaGivesMedian) {
  BehaviorSpec spec;
  spec.latency = LatencyLogNormal{Millis(50), 0.0, Millis(50)};
  ReceiverBehavior b(spec);
  EXPECT_FALSE(b.IsDeterministic());  // It still draws.
  Random rng(1);
  EXPECT_EQ(DecideAt(b, 1, 0, AtMillis(0), rng).latency, Millis(50));
}

TEST(BehaviorTest, OutageWindowWinsInsideHalfOpenInterval) {
  BehaviorSpec spec;
  spec.answers = FixedAnswer{kOk};
  spec.latency = LatencyFixed{Millis(20)};
  spec.outages = {{AtMillis(1000), AtMillis(2000), k503},
                  {AtMillis(1500), AtMillis(3000), kReset}};
  ReceiverBehavior b(spec);
  Random rng(1);
  auto at = [&](int64_t ms) {
    return DecideAt(b, 1, 0, AtMillis(ms), rng);
  };
  EXPECT_EQ(at(999).answer, kOk);
  EXPECT_EQ(at(1000).answer, k503);  // from is inside.
  EXPECT_EQ(at(1500).answer, k503);  // First matching window wins.
  EXPECT_EQ(at(1999).answer, k503);
  EXPECT_EQ(at(2000).answer, kReset);  // to is outside the first window.
  EXPECT_EQ(at(2999).answer, kReset);
  EXPECT_EQ(at(3000).answer, kOk);
  EXPECT_EQ(at(1000).latency, Millis(20));  // Latency still applies.
  EXPECT_EQ(DecideAt(b, 1, 0, AtMillis(1000) - Duration(1), rng).answer, kOk);
  EXPECT_TRUE(b.IsDeterministic());
}

TEST(BehaviorTest, OutageOverridesSequenceAndWeightedKeepsDrawing) {
  BehaviorSpec spec = Weighted();
  spec.latency = LatencyUniform{Millis(1), Millis(9)};
  spec.outages = {{AtMillis(0), AtMillis(100), k503}};
  ReceiverBehavior b(spec);
  // Same draws inside and outside the outage: the stream never shifts.
  Random inside(21), outside(21);
  for (int i = 0; i < 50; ++i) {
    const Reply in = DecideAt(b, 1, i, AtMillis(50), inside);
    const Reply out = DecideAt(b, 1, i, AtMillis(500), outside);
    EXPECT_EQ(in.answer, k503);
    EXPECT_EQ(in.latency, out.latency);
  }
  EXPECT_EQ(inside.Next(), outside.Next());
}

TEST(BehaviorTest, SameSeedGivesSameReplies) {
  BehaviorSpec spec = Weighted();
  spec.latency = LatencyLogNormal{Millis(40), 0.7, Millis(1000)};
  ReceiverBehavior b(spec);
  Random r1(99), r2(99);
  for (int i = 0; i < 500; ++i) {
    const Reply a = DecideAt(b, 1 + i % 6, i, AtMillis(i), r1);
    const Reply c = DecideAt(b, 1 + i % 6, i, AtMillis(i), r2);
    ASSERT_EQ(a.answer, c.answer);
    ASSERT_EQ(a.latency, c.latency);
  }
}

}  // namespace
}  // namespace hooksim
