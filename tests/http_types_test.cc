#include "sim/contract/http_types.h"

#include <gtest/gtest.h>

#include <string>

namespace hooksim {
namespace {

// The ASCII case fold by definition, one byte at a time.
char Fold(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// EqualsIgnoreCase against the definition for every pair of bytes, alone
// and inside a longer name (so the fast path for equal bytes and the check
// for the two cases of a letter are both tried at every value; '@' and
// '`', '[' and '{' differ in bit 0x20 too but are not letters).
TEST(EqualsIgnoreCaseTest, AgreesWithTheAsciiFoldOnEveryBytePair) {
  for (int i = 0; i < 256; ++i) {
    for (int j = 0; j < 256; ++j) {
      const char a = static_cast<char>(i);
      const char b = static_cast<char>(j);
      const bool want = Fold(a) == Fold(b);
      ASSERT_EQ(EqualsIgnoreCase(std::string(1, a), std::string(1, b)), want)
          << i << " " << j;
      ASSERT_EQ(EqualsIgnoreCase("X-" + std::string(1, a) + "z",
                                 "x-" + std::string(1, b) + "Z"),
                want)
          << i << " " << j;
    }
  }
}

TEST(EqualsIgnoreCaseTest, HeaderNames) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Type", "content-type"));
  EXPECT_TRUE(EqualsIgnoreCase("X-HOOKSIM-DELIVERY", kDeliveryIdHeader));
  EXPECT_FALSE(EqualsIgnoreCase("Content-Type", "Content-Typ"));
  EXPECT_FALSE(EqualsIgnoreCase("Content-Type", "Content_Type"));
  EXPECT_FALSE(EqualsIgnoreCase("a@", "a`"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
}

}  // namespace
}  // namespace hooksim
