#include "sim/base/random.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace hooksim {
namespace {

TEST(RandomTest, SameSeedSameStreamAndForksAreIndependentOfDraws) {
  Random a(42), b(42), c(43);
  EXPECT_EQ(a.Next(), b.Next());
  EXPECT_NE(Random(42).Next(), c.Next());
  Random fresh(42);
  Random drawn(42);
  for (int i = 0; i < 10; ++i) drawn.Next();
  EXPECT_EQ(fresh.Fork("x").Next(), drawn.Fork("x").Next());
  EXPECT_NE(fresh.Fork("x").Next(), fresh.Fork("y").Next());
}

TEST(RandomTest, DistributionsStayInRange) {
  Random r(7);
  for (int i = 0; i < 10000; ++i) {
    const double d = r.NextDouble();
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
    const int64_t k = r.UniformInt(-3, 3);
    ASSERT_GE(k, -3);
    ASSERT_LE(k, 3);
  }
  EXPECT_FALSE(r.Bernoulli(0));
  EXPECT_TRUE(r.Bernoulli(1));
  EXPECT_EQ(r.Uniform(5, 5), 5);
}

TEST(RandomTest, Hash64SeesEveryByteAndTheLength) {
  std::string body(1000, 'a');
  const uint64_t base = Hash64(body);
  std::set<uint64_t> seen = {base};
  for (size_t i = 0; i < body.size(); ++i) {
    std::string changed = body;
    changed[i] = 'b';
    ASSERT_TRUE(seen.insert(Hash64(changed)).second) << "byte " << i;
  }
  // Prefixes of every length (all tail and stripe paths) differ.
  for (size_t n = 0; n < 100; ++n) {
    ASSERT_TRUE(seen.insert(Hash64(std::string_view(body).substr(0, n))).second)
        << "length " << n;
  }
  EXPECT_EQ(Hash64(body), base);  // Stable.
  EXPECT_NE(Hash64(body, 1), base);  // Seeded.
  EXPECT_EQ(Hash64(std::string_view()), Hash64(""));
}

}  // namespace
}  // namespace hooksim
