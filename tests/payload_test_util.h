// Helpers of the tests that compare two judges of the same body (the
// payload validator's fast and full paths): random byte edits, and a
// verdict as text.
#ifndef HOOKSIM_TESTS_PAYLOAD_TEST_UTIL_H_
#define HOOKSIM_TESTS_PAYLOAD_TEST_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "sim/base/random.h"
#include "sim/contract/contract.h"
#include "sim/contract/payload_validator.h"

namespace hooksim::testing {

// What an edit may do.
enum class ByteEdits {
  kReplaceInsertErase,  // Replace, insert or erase one byte.
  kAlsoSwap,            // The same, or swap two bytes (keeps the length).
};

// Applies 1..max_edits edits to `body`, each at a random place, a replaced
// or inserted byte drawn from `alphabet` (not empty). The draws come in a
// fixed order, so one seed gives the same bodies.
inline void EditBytes(std::string& body, Random& rng,
                      std::string_view alphabet, int64_t max_edits,
                      ByteEdits kinds) {
  auto any_place = [&rng, &body] {
    return static_cast<size_t>(
        rng.UniformInt(0, static_cast<int64_t>(body.size()) - 1));
  };
  const int64_t edits = rng.UniformInt(1, max_edits);
  for (int64_t k = 0; k < edits && !body.empty(); ++k) {
    const size_t at = any_place();
    const char c = alphabet[static_cast<size_t>(
        rng.UniformInt(0, static_cast<int64_t>(alphabet.size()) - 1))];
    switch (rng.UniformInt(0, kinds == ByteEdits::kAlsoSwap ? 3 : 2)) {
      case 0:
        body[at] = c;
        break;
      case 1:
        body.insert(body.begin() + static_cast<std::ptrdiff_t>(at), c);
        break;
      case 2:
        body.erase(at, 1);
        break;
      default:
        std::swap(body[at], body[any_place()]);
        break;
    }
  }
}

// The verdict's event and every issue, one per line (for failure messages).
inline std::string DescribeVerdict(const PayloadVerdict& v) {
  std::string out = "event=" + v.event;
  for (const PayloadIssue& issue : v.issues) {
    out += "\n  " + std::string(RuleId(issue.rule)) + " " + issue.pointer +
           ": " + issue.message;
  }
  return out;
}

}  // namespace hooksim::testing

#endif  // HOOKSIM_TESTS_PAYLOAD_TEST_UTIL_H_
