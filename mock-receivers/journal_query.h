// Asking a journal questions: the filters of GET /__hooksim/requests and
// the expectations of POST /__hooksim/verify (as WireMock's verify: so many
// requests matching a pattern; attempts per delivery; no request after a
// 2xx), each answered pass or fail with the reason in words.
//
// Verify body: {"expect": [EXPECTATION, ...]} (or one EXPECTATION alone):
//   {"request": PATTERN, "count": N}      exactly N kept entries match
//   {"request": PATTERN, "at_least": N}   (and/or "at_most": N)
//   {"attempts_per_delivery": N}          every delivery had N attempts
//   {"attempts_per_delivery": {"at_least": N, "at_most": M}}
//   {"no_request_after_2xx": true}        no delivery was sent again after
//                                         the 2xx it got (and did not abandon)
// PATTERN: {"method": "POST", "path": "/hook" (a glob: * and ?),
//           "headers": {"Name": "value" ("*": present)}, "status": "2xx",
//           "route": "default", "delivery": "KEY"}, every field optional.
// Counts of requests are over the entries kept (a result says how many were
// dropped); the delivery expectations use the per-delivery counters, which
// count every request.
// Thread: pure functions.
#ifndef HOOKSIM_MOCK_RECEIVERS_JOURNAL_QUERY_H_
#define HOOKSIM_MOCK_RECEIVERS_JOURNAL_QUERY_H_

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mock-receivers/journal.h"
#include "sim/base/result.h"
#include "sim/base/time.h"

namespace hooksim {

// True for "429", "4xx" (a class) or an answer name ("reset", "hang", ...).
bool ValidStatusPattern(const std::string& pattern);
// Whether the entry's answer is `pattern` (see ValidStatusPattern).
bool StatusMatches(const JournalEntry& entry, const std::string& pattern);

// The requests an admin query or a verify pattern asks about; every field
// unset matches all.
struct JournalFilter {
  std::optional<std::string> route;
  std::optional<std::string> delivery;  // The delivery key.
  std::optional<std::string> status;    // See ValidStatusPattern.
  std::optional<Duration> since;        // time_ms at or after.
  std::optional<std::string> method;    // Case-insensitive.
  std::optional<std::string> path;      // A glob (fnmatch) on the path.
  std::map<std::string, std::string> headers;  // Name -> value or "*".

  bool Matches(const JournalEntry& entry) const;
};

enum class ExpectationKind {
  kRequestCount,         // Entries matching a pattern.
  kAttemptsPerDelivery,  // Each delivery's attempts.
  kNoRequestAfter2xx,    // C5, as the receiver saw it.
};

struct Expectation {
  ExpectationKind kind = ExpectationKind::kRequestCount;
  JournalFilter pattern;          // kRequestCount.
  std::optional<uint64_t> at_least;
  std::optional<uint64_t> at_most;  // Both set and equal: exactly.
  nlohmann::json given;           // As the caller wrote it.
};

// The verify body; errors name the JSON pointer ("/expect/1/count: ...").
Result<std::vector<Expectation>> ParseExpectations(const nlohmann::json& doc);

// {"passed": all passed, "results": [{"expectation": given, "passed",
// "reason"}], "journal": {"requests", "kept", "dropped"}}.
nlohmann::json VerifyToJson(const Journal& journal,
                            const std::vector<Expectation>& expectations);

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_JOURNAL_QUERY_H_
