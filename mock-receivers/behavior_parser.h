// Reading and writing receiver behaviours as JSON (a behaviour is data).
//
// The format, all keys optional, at most one answer source:
//
//   {"status": 200}                          fixed status, 100..599
//   {"fault": "reset"}                       hang | reset | empty | garbage
//                                            | dribble (a 200 sent slowly,
//                                            spread over the latency)
//   {"sequence": [503, "reset", 200],        status codes, fault names or
//    "per": "delivery",                      answer objects (below),
//    "then": "repeat_last"}                  1..10,000 items; per delivery
//                                            (default) or receiver; then
//                                            repeat_last (default) or cycle
//   {"weighted": {"200": 0.7, "reset": 0.3}} keys: status codes or faults;
//                                            values in [0, 1] summing to 1
//                                            (within 1e-6)
//   {"weighted": [{"weight": 0.7,            the list form: answer objects
//                  "status": 200}, ...]}     with a weight, in that order
//   answer object: {"status": N | "fault": F, "headers": {...}, "body": V}
//   "headers": {"Retry-After": "2"}          with a status answer: at most
//                                            64; token names <= 256 bytes,
//                                            unique ignoring case; string
//                                            values <= 8192 bytes without
//                                            CR, LF, NUL; no Content-Length
//                                            or Transfer-Encoding
//   "body": {"error": "slow down"}           any JSON value (sent compact,
//                                            application/json) or a string
//                                            (sent as is, text/plain);
//                                            <= 64 KiB serialised
//   Top-level "headers"/"body" go with every status answer of the answer
//   source that has none of its own (merged at parse time, per header
//   name); never with a fault (refused there).
//   "latency": {"fixed_ms": 50}
//            | {"uniform_ms": [10, 200]}     lo <= hi
//            | {"lognormal": {"median_ms": 50, "sigma": 0.5, "cap_ms": 2000}}
//                                            sigma in [0, 10] (default 0.5),
//                                            median_ms and cap_ms required,
//                                            cap_ms >= median_ms
//   "outages": [{"from_ms": 0, "to_ms": 7200000, "status": 503}]
//                                            or "fault" instead of "status"
//                                            (default status 503); a status
//                                            may carry "headers", "body";
//                                            from_ms < to_ms; <= 1,000 windows
//   "verify_signature": "whsec_..."          answer 401 to a request whose
//                                            Standard Webhooks signature is
//                                            missing, bad or more than 5 min
//                                            off (signature_check.h); an
//                                            outage window answers first
//   "verify_signature": {"scheme": "stripe", the same by another scheme:
//                        "secret": "..."}    standard-webhooks, stripe,
//                                            github, shopify (the secret,
//                                            1..1024 bytes, is the key)
//
// Routes (routes.h, route_match.h), instead of the keys above:
//   {"routes": [ROUTE, ...],                 1..1,000 routes, first match
//    "default": BEHAVIOUR}                   wins; "default" (optional)
//                                            answers what no route matches,
//                                            else 404
//   ROUTE: {"name": "orders",                optional, unique; default
//                                            "route N" (N from 1)
//           "method": "POST",                optional (any), in capitals
//           "path": "/orders/*",             optional (any): exact or a glob
//                                            (* any run, ? one character,
//                                            \ escapes; no [...])
//           "match": {"headers": {"X-Event": "order.*"},   value globs
//                     "body": {"/data/app": "shop"}},      JSON pointer:
//                                            value (a string is a glob over
//                                            a string field, else equal);
//                                            at most 64 of each
//           "behavior": BEHAVIOUR}           required; a plain behaviour
//                                            (routes do not nest)
//
// With no answer source the behaviour answers 200. Millisecond values are
// numbers (fractions allowed, kept to the microsecond) in [0, 30 days].
//
// Errors: ParseBehavior never throws and accepts any JSON value. On bad
// input it returns an invalid-argument Status whose `path` is the JSON pointer
// of the offending field (the caller's `path` prefix + the place inside the
// behaviour) and whose message says what was expected and what was found.
// Thread: pure functions.
#ifndef HOOKSIM_MOCK_RECEIVERS_BEHAVIOR_PARSER_H_
#define HOOKSIM_MOCK_RECEIVERS_BEHAVIOR_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "mock-receivers/behavior.h"
#include "mock-receivers/routes.h"
#include "sim/base/result.h"

namespace hooksim {

inline constexpr size_t kMaxSequenceAnswers = 10'000;
inline constexpr size_t kMaxOutageWindows = 1'000;
inline constexpr int64_t kMaxBehaviorMillis = 30LL * 24 * 60 * 60 * 1000;
inline constexpr size_t kMaxAnswerHeaders = 64;
inline constexpr size_t kMaxAnswerHeaderNameBytes = 256;
inline constexpr size_t kMaxAnswerHeaderValueBytes = 8192;
inline constexpr size_t kMaxAnswerBodyBytes = 64 << 10;
inline constexpr size_t kMaxRouteNameBytes = 256;

// Parses the behaviour `j`, which sits at JSON pointer `path` in its
// document ("" for a document of its own; used to prefix error paths).
Result<BehaviorSpec> ParseBehavior(const nlohmann::json& j,
                                   const std::string& path);

// One ROUTE object (the format above) at JSON pointer `path`, named
// `default_name` unless it has a "name" (`--behavior-dir` reads one route
// per file this way). Errors as ParseBehavior's.
Result<ReceiverRoute> ParseRoute(const nlohmann::json& j,
                                 const std::string& path,
                                 const std::string& default_name);

// The same format back, so ParseBehavior(BehaviorToJson(s), "") gives a spec
// equal to s for every spec ParseBehavior can produce. Defaults are written
// out for the answer source ("per", "then"); a zero fixed latency and an
// empty outage list are left out; routes are written with their names.
nlohmann::json BehaviorToJson(const BehaviorSpec& spec);
// One route, as in "routes" (its name always written).
nlohmann::json RouteToJson(const ReceiverRoute& route);

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_BEHAVIOR_PARSER_H_
