// The live log of a receiver (`hooksim receiver --log`): one line per
// request as it ends, as text for people or JSON for machines.
//
// Text (fields separated by single spaces; the reason is the rest):
//   2026-11-29T17:20:01.123Z POST /hook dlv_1 attempt=2 429 12.3ms
//       signature=bad (no signature matches the secret)
// (one line), where the answer is a status or a fault name, "abandoned"
// is appended when the sender stopped waiting, and the signature part is
// left out when the behaviour checks none. A behaviour with routes adds
// " route=NAME" (or " unmatched" for a 404 no route took) after the
// latency. A request refused before the behaviour has "-" for its
// delivery and ends with " refused (REASON)".
// JSON: {"time": "...Z", "method", "path", "delivery", "attempt",
//        "status" (null for a fault), "fault" (null for a status),
//        "latency_ms", "abandoned", "signature" (null when not checked),
//        "signature_reason" (null when valid or not checked),
//        "route" (null when no route matched), "refused" (the refusal's
//        reason, null when the behaviour answered)}
//
// Errors: none (pure formatting). Thread: pure functions.
#ifndef HOOKSIM_MOCK_RECEIVERS_REQUEST_LOG_H_
#define HOOKSIM_MOCK_RECEIVERS_REQUEST_LOG_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "mock-receivers/behavior.h"
#include "mock-receivers/signature_check.h"

namespace hooksim {

enum class RequestLogFormat { kText, kJson };

// "text" | "json".
std::optional<RequestLogFormat> ParseRequestLogFormat(std::string_view name);

// One request that has ended (answered, faulted or abandoned).
struct RequestLogRecord {
  std::chrono::system_clock::time_point ended;  // Wall clock.
  std::string_view method;
  std::string_view path;
  std::string_view delivery;  // The delivery key (id header or body hash).
  int attempt = 0;            // Attempts of it this receiver has seen.
  Answer answer;
  std::chrono::microseconds latency{0};  // Arrival to end, wall time.
  bool abandoned = false;
  SignatureVerdict signature = SignatureVerdict::kNotChecked;
  SignatureScheme scheme = SignatureScheme::kStandardWebhooks;
  // The route that answered ("default" without routes; "" when none
  // matched), and whether the behaviour has routes (text lines name the
  // route only then).
  std::string_view route = "default";
  bool routed = false;
  // Why the request was refused before the behaviour (400, 405, 408, 413,
  // 431: its journal entry's reason); "" when the behaviour answered. A
  // refused request belongs to no delivery (delivery "", attempt 0).
  std::string_view refused;
};

// The record as one line, without the newline.
std::string FormatRequestLog(const RequestLogRecord& record,
                             RequestLogFormat format);

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_REQUEST_LOG_H_
