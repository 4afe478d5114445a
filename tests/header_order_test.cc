// The event core files a request's fields in cpp-httplib's order
// (header_order.h): by name ignoring ASCII case, equal names in arrival
// order. The word-keyed insertion sort must give exactly what a stable sort
// with cpp-httplib's own compare (::tolower per byte) gives.
#include "mock-receivers/http/header_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace hooksim {
namespace {

// cpp-httplib 0.11's detail::ci, as it is written there.
bool HttplibCi(const std::string& s1, const std::string& s2) {
  return std::lexicographical_compare(
      s1.begin(), s1.end(), s2.begin(), s2.end(),
      [](unsigned char c1, unsigned char c2) {
        return ::tolower(c1) < ::tolower(c2);
      });
}

using Field = std::pair<std::string, int>;  // Name, arrival index.

std::vector<Field> Reference(std::vector<Field> fields) {
  std::stable_sort(fields.begin(), fields.end(),
                   [](const Field& a, const Field& b) {
                     return HttplibCi(a.first, b.first);
                   });
  return fields;
}

std::vector<Field> Sorted(std::vector<Field> fields) {
  SortHeadersByName(fields, [](const Field& f) -> std::string_view {
    return f.first;
  });
  return fields;
}

TEST(HeaderOrderTest, AWebhookRequestsFieldsInHttplibsOrder) {
  std::vector<Field> fields;
  int i = 0;
  for (const char* name :
       {"Host", "User-Agent", "Content-Type", "Content-Length",
        "X-Hooksim-Delivery", "X-Hooksim-Event", "X-Hooksim-Attempt",
        "Connection", "LOCAL_ADDR", "LOCAL_PORT", "REMOTE_ADDR",
        "REMOTE_PORT", "x-hooksim-event", "webhook-id"}) {
    fields.emplace_back(name, i++);
  }
  const std::vector<Field> got = Sorted(fields);
  EXPECT_EQ(got, Reference(fields));
  EXPECT_EQ(got.front().first, "Connection");
  // Equal names in arrival order: the two spellings of X-Hooksim-Event.
  EXPECT_EQ(got[got.size() - 2].first, "X-Hooksim-Event");
  EXPECT_EQ(got.back().first, "x-hooksim-event");
}

// Names from an alphabet around the case boundaries ('@' 'A' 'Z' '['
// '`' 'a' 'z' '{'), bytes past 0x7f, shared prefixes longer than the
// 16 bytes the keys hold, names that begin others, equal names in both
// cases; lists short (in place) and long (std::stable_sort).
TEST(HeaderOrderTest, AgreesWithAStableSortByHttplibsCompare) {
  const std::string alphabet = std::string("@AZ[`az{-_09") + '\x7f' +
                               '\x80' + '\xc3' + '\xff';
  const std::vector<std::string> prefixes = {
      "", "X-Hooksim-", "x-hooksim-delivery-", "Content-", "A", "a",
      "LONG-PREFIX-SHARED-BY-MANY-NAMES-"};
  std::mt19937_64 rng(2026);
  for (int round = 0; round < 3000; ++round) {
    const size_t n = round % 10 == 0 ? 40 + rng() % 30 : rng() % 33;
    std::vector<Field> fields;
    for (size_t k = 0; k < n; ++k) {
      std::string name = prefixes[rng() % prefixes.size()];
      const size_t extra = rng() % 6;
      for (size_t c = 0; c < extra; ++c) name += alphabet[rng() % alphabet.size()];
      if (!fields.empty() && rng() % 5 == 0) {
        // Repeat an earlier name, maybe in the other case.
        name = fields[rng() % fields.size()].first;
        if (rng() % 2) {
          for (char& ch : name) {
            ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
          }
        }
      }
      fields.emplace_back(name, static_cast<int>(k));
    }
    ASSERT_EQ(Sorted(fields), Reference(fields)) << "round " << round;
  }
}

}  // namespace
}  // namespace hooksim
