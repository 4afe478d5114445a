#include "sim/base/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/base/random.h"

namespace hooksim {
namespace {

Duration Us(int64_t us) { return Duration(us); }

TEST(LatencyHistogramTest, EmptyReportsZeros) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.Percentile(0.5), Us(0));
  EXPECT_EQ(h.min(), Us(0));
  EXPECT_EQ(h.max(), Us(0));
  EXPECT_EQ(h.mean(), Us(0));
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int v = 1; v <= 100; ++v) h.Record(Us(v));
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.Percentile(0.5), Us(50));
  EXPECT_EQ(h.Percentile(0.9), Us(90));
  EXPECT_EQ(h.Percentile(0.99), Us(99));
  EXPECT_EQ(h.Percentile(1.0), Us(100));
  EXPECT_EQ(h.Percentile(0.0), Us(1));
  EXPECT_EQ(h.min(), Us(1));
  EXPECT_EQ(h.max(), Us(100));
  EXPECT_EQ(h.mean(), Us(51));  // 50.5 rounded.
}

TEST(LatencyHistogramTest, PercentilesNeverUnderReportAndStayWithinBucket) {
  LatencyHistogram h;
  std::vector<int64_t> values;
  Random rng(42);
  for (int i = 0; i < 20000; ++i) {
    // Spread over six orders of magnitude: 1 us .. ~1 s.
    const double exponent = rng.Uniform(0.0, 6.0);
    const int64_t v = static_cast<int64_t>(std::pow(10.0, exponent));
    values.push_back(v);
    h.Record(Us(v));
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const size_t rank = static_cast<size_t>(std::ceil(q * values.size()));
    const int64_t exact = values[rank - 1];
    const int64_t got = h.Percentile(q).count();
    EXPECT_GE(got, exact) << "q=" << q;
    EXPECT_LE(got, exact + exact / 64 + 1) << "q=" << q;
  }
  EXPECT_EQ(h.max().count(), values.back());
  EXPECT_EQ(h.Percentile(1.0).count(), values.back());
}

TEST(LatencyHistogramTest, MemoryDoesNotGrowWithSamplesAndHugeValuesFit) {
  LatencyHistogram h;
  h.Record(Us(-5));  // Recorded as 0.
  h.Record(Duration(INT64_MAX));
  EXPECT_EQ(h.count(), 2u);
  EXPECT_EQ(h.min(), Us(0));
  EXPECT_EQ(h.Percentile(0.5), Us(0));
  EXPECT_EQ(h.Percentile(1.0), Duration(INT64_MAX));
}

TEST(LatencyHistogramTest, MergeAddsSamples) {
  LatencyHistogram a, b;
  for (int v = 1; v <= 50; ++v) a.Record(Us(v));
  for (int v = 51; v <= 100; ++v) b.Record(Us(v));
  a.Merge(b);
  EXPECT_EQ(a.count(), 100u);
  EXPECT_EQ(a.Percentile(0.75), Us(75));
  EXPECT_EQ(a.min(), Us(1));
  EXPECT_EQ(a.max(), Us(100));
}

}  // namespace
}  // namespace hooksim
