#include "mock-receivers/short_bytes.h"

#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace hooksim {
namespace {

// SameBytes and CopyBytes agree with memcmp and memcpy for every length up
// to past their short paths, and a difference at any position is seen.
TEST(ShortBytesTest, AgreeWithMemcmpAndMemcpy) {
  std::string source(64, '\0');
  for (size_t i = 0; i < source.size(); ++i) {
    source[i] = static_cast<char>('a' + i % 26);
  }
  for (size_t n = 0; n <= 40; ++n) {
    std::string copy(n + 2, '#');
    CopyBytes(copy.data() + 1, source.data(), n);
    EXPECT_EQ(copy.substr(1, n), source.substr(0, n)) << n;
    EXPECT_EQ(copy.front(), '#') << n;  // Nothing written outside.
    EXPECT_EQ(copy.back(), '#') << n;
    EXPECT_TRUE(SameBytes(copy.data() + 1, source.data(), n)) << n;
    for (size_t at = 0; at < n; ++at) {
      std::string other = source.substr(0, n);
      other[at] = '!';
      EXPECT_FALSE(SameBytes(other.data(), source.data(), n)) << n << " " << at;
    }
  }
}

TEST(ShortBytesTest, SetTextReplacesOnlyWhatDiffers) {
  std::string out = "POST";
  const char* buffer = out.data();
  SetText(out, "POST");
  EXPECT_EQ(out, "POST");
  EXPECT_EQ(out.data(), buffer);
  SetText(out, "PUT");
  EXPECT_EQ(out, "PUT");
  SetText(out, "");
  EXPECT_EQ(out, "");
  SetText(out, std::string_view());
  EXPECT_EQ(out, "");
  SetText(out, "application/json; charset=utf-8");
  EXPECT_EQ(out, "application/json; charset=utf-8");
}

}  // namespace
}  // namespace hooksim
