#include "sim/base/delivery_id.h"

#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <sstream>
#include <string>

#include "sim/base/random.h"

namespace hooksim {
namespace {

std::string Printf(uint64_t number) {
  char text[32];
  std::snprintf(text, sizeof(text), "dlv_%016" PRIx64, number);
  return text;
}

TEST(DeliveryIdTest, FormatsAsPrintfAndParsesBack) {
  uint64_t state = 42;
  for (int i = 0; i < 20'000; ++i) {
    // Random numbers, and every nibble value in every place.
    const uint64_t number =
        i < 256 ? (static_cast<uint64_t>(i & 15) << ((i >> 4) * 4))
                : SplitMix64(state);
    const std::string text(DeliveryIdText(number).view());
    ASSERT_EQ(text, Printf(number));
    uint64_t parsed = 0;
    ASSERT_TRUE(ParseDeliveryId(text, &parsed)) << text;
    ASSERT_EQ(parsed, number) << text;
  }
  EXPECT_EQ(DeliveryIdText(~uint64_t{0}).view(), "dlv_ffffffffffffffff");
  EXPECT_EQ(DeliveryIdText(0).view(), "dlv_0000000000000000");
}

TEST(DeliveryIdTest, ParsesOnlyTheCanonicalForm) {
  const std::string good = "dlv_0123456789abcdef";
  uint64_t number = 0;
  ASSERT_TRUE(ParseDeliveryId(good, &number));
  EXPECT_EQ(number, 0x0123456789abcdefULL);
  // Every character of a digit's place swapped for each byte that is not a
  // lowercase hex digit is refused, and so are other lengths and prefixes.
  for (size_t place = 4; place < good.size(); ++place) {
    for (int c = 0; c < 256; ++c) {
      if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) continue;
      std::string bad = good;
      bad[place] = static_cast<char>(c);
      ASSERT_FALSE(ParseDeliveryId(bad, &number)) << place << " " << c;
    }
  }
  for (const char* bad : {"", "dlv_", "dlv_0123456789abcde", "dlv_0123456789abcdef0",
                          "DLV_0123456789abcdef", "dlx_0123456789abcdef",
                          "body:0123456789abcdef"}) {
    EXPECT_FALSE(ParseDeliveryId(bad, &number)) << bad;
  }
}

TEST(DeliveryIdTest, IdsKeepEitherFormAndCompareByText) {
  const DeliveryId number(0xabcULL);
  EXPECT_TRUE(number.canonical());
  EXPECT_EQ(number.str(), "dlv_0000000000000abc");
  const DeliveryId parsed = DeliveryId::FromText("dlv_0000000000000abc");
  EXPECT_TRUE(parsed.canonical());
  EXPECT_TRUE(parsed == number);
  const DeliveryId text = DeliveryId::FromText("dlv_0000000000000ABC");
  EXPECT_FALSE(text.canonical());
  EXPECT_EQ(text.number(), 0u);
  EXPECT_FALSE(text == number);
  EXPECT_TRUE(text == "dlv_0000000000000ABC");
  EXPECT_FALSE(number == "dlv_0000000000000ABC");
  char scratch[kDeliveryIdSize];
  EXPECT_EQ(number.View(scratch), "dlv_0000000000000abc");
  EXPECT_EQ(text.View(scratch), "dlv_0000000000000ABC");
  std::ostringstream out;
  out << number << " " << text;
  EXPECT_EQ(out.str(), "dlv_0000000000000abc dlv_0000000000000ABC");
  DeliveryId copy;
  copy = text;
  EXPECT_TRUE(copy == text);
  copy = number;
  EXPECT_TRUE(copy.canonical());
  EXPECT_TRUE(copy == number);
}

}  // namespace
}  // namespace hooksim
