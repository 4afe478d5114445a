// The receiver's admin API under /__hooksim/, as plain functions from a
// request to a JSON answer, so it is testable without sockets; the HTTP
// server only moves bytes in and out.
//
// Routes (JSON in and out, UTF-8, invalid bytes replaced):
//   GET  /__hooksim/                  the receiver's name and these routes
//   GET  /__hooksim/requests[?route=R&status=S&delivery=KEY&since=MS&
//                           limit=N&from=INDEX]
//                                     journal entries (journal_json.h) that
//                                     match every filter given
//                                     (journal_query.h; since: time_ms at
//                                     or after), oldest first: the newest
//                                     `limit` (default 1000, at most
//                                     10000), or with `from` the first
//                                     `limit` whose index is INDEX or more
//                                     (page on with the last index + 1);
//                                     pages of more than 256 entries are
//                                     streamed (chunked), never built whole
//   GET  /__hooksim/requests.jsonl    every kept entry (or the filtered
//                                     ones, `limit` at most), one JSON
//                                     document per line, always streamed
//   GET  /__hooksim/stats             counts per answer, attempts per
//                                     delivery, deliveries, schema failures
//   POST /__hooksim/verify            expectations (journal_query.h):
//                                     200 when all pass, 417 when one
//                                     fails; the body says which and why
//   POST /__hooksim/reset             clears the journal and counters; no
//                                     body, {} or {"behavior": B} (also
//                                     replaces the behaviour)
//   GET  /__hooksim/behavior          the current behaviour
//   PUT  /__hooksim/behavior          replaces it (body: a behaviour, as in
//                                     scenarios; see behavior_parser.h);
//                                     answers {"ok", "behavior", "warnings":
//                                     RouteWarnings of the new behaviour}
// Errors are values: {"error": "..."} with 400 (bad JSON, bad behaviour:
// "/pointer: message"; bad query), 404 (unknown route) or 405 (known route,
// wrong method; `allow` lists the methods).
// Thread: HandleAdminRequest is safe to call concurrently (the receiver
// serialises its own state); the rendering functions are pure.
#ifndef HOOKSIM_MOCK_RECEIVERS_ADMIN_API_H_
#define HOOKSIM_MOCK_RECEIVERS_ADMIN_API_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "mock-receivers/journal.h"
#include "mock-receivers/journal_json.h"
#include "mock-receivers/journal_query.h"
#include "mock-receivers/receiver.h"

namespace hooksim {

inline constexpr std::string_view kAdminPrefix = "/__hooksim/";

// True for "/__hooksim" and everything under "/__hooksim/".
bool IsAdminPath(std::string_view path);

// The methods an admin route allows ("GET, PUT"), for a request target
// (a query is ignored); "" when the target is not a known admin route.
std::string AdminAllow(std::string_view target);

struct AdminRequest {
  std::string method;                        // "GET", "PUT", ...
  std::string path;                          // Decoded, without the query.
  std::map<std::string, std::string> query;  // Decoded query parameters.
  std::string body;
};

inline constexpr uint64_t kJournalPageDefault = 1000;
inline constexpr uint64_t kJournalPageMax = 10000;
// Journal pages of more entries than this are streamed.
inline constexpr uint64_t kJournalStreamAbove = 256;

struct AdminResponse {
  int status = 200;
  std::string body;   // JSON.
  std::string allow;  // For 405: "GET, PUT".
  std::string content_type = "application/json";
  // When set, the body (JSON) is this producer's output instead: each call
  // appends the next part to `out` and returns false once done (nothing
  // appended then). Called from the thread writing the answer.
  std::function<bool(std::string& out)> stream;
};

AdminResponse HandleAdminRequest(MockReceiver& receiver,
                                 const AdminRequest& request);

// The newest `limit` entries, oldest first.
nlohmann::json JournalRequestsToJson(const Journal& journal, size_t limit);
// With a contract, also "contract": what the deliveries seen say about the
// sender under that profile (the receiver cannot know whether a sender is
// still retrying, so "fewer attempts than promised" is not judged here):
// {"profile", "max_attempts", "over_max" (deliveries with more attempts than
// the profile allows), "after_success" (requests after a 2xx), "after_gone"
// (requests after a 410 the profile stops on; the first kMaxAnswers
// answers of each delivery), "passed"}.
nlohmann::json JournalStatsToJson(const Journal& journal,
                                  const Contract* contract = nullptr);

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_ADMIN_API_H_
