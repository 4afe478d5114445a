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

// Names are compared eight bytes at a time, folding only a word that
// differs: a pair of bytes at every position of a 19-byte name (two words
// and a tail), the rest of the name equal as bytes or as cases.
TEST(EqualsIgnoreCaseTest, AgreesWithTheFoldAtEveryPositionOfALongName) {
  const std::string base = "X-Hooksim-Delivery1";
  for (size_t pos = 0; pos < base.size(); ++pos) {
    for (int i = 0; i < 256; ++i) {
      for (int j : {i, i ^ 0x20, i ^ 0x01, int{'q'}, int{'Q'}}) {
        std::string a = base;
        std::string b = pos % 2 ? base : "x-hOOKSIM-dELIVERY1";
        a[pos] = static_cast<char>(i);
        b[pos] = static_cast<char>(j);
        const bool want = Fold(a[pos]) == Fold(b[pos]);
        ASSERT_EQ(EqualsIgnoreCase(a, b), want) << pos << " " << i << " " << j;
        ASSERT_EQ(EqualsIgnoreCase(b, a), want) << pos << " " << i << " " << j;
      }
    }
  }
}

TEST(IsJsonContentTypeTest, MediaTypeWithParametersAndAnyCase) {
  EXPECT_TRUE(IsJsonContentType("application/json"));
  EXPECT_TRUE(IsJsonContentType("Application/JSON"));
  EXPECT_TRUE(IsJsonContentType(" application/json ; charset=utf-8"));
  EXPECT_TRUE(IsJsonContentType("application/json;charset=utf-8"));
  EXPECT_FALSE(IsJsonContentType("application/jsonx"));
  EXPECT_FALSE(IsJsonContentType("text/plain"));
  EXPECT_FALSE(IsJsonContentType(""));
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
