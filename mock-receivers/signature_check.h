// Checking Standard Webhooks signatures at a receiver (the receiver side of
// sim/contract/webhook_signature.h).
//
// A request passes when it carries webhook-id, webhook-timestamp and
// webhook-signature, the timestamp (Unix seconds, a plain decimal number) is
// within `tolerance` of the receiver's now, and one of the space-separated
// signatures in webhook-signature equals "v1," + base64(HMAC-SHA256(key,
// id "." timestamp "." body)). Signatures of other versions ("v1a,...") are
// skipped. The comparison does not stop at the first differing byte.
//
// Errors: the verdict says why a request failed; nothing throws.
// Thread: pure functions.
#ifndef HOOKSIM_MOCK_RECEIVERS_SIGNATURE_CHECK_H_
#define HOOKSIM_MOCK_RECEIVERS_SIGNATURE_CHECK_H_

#include <cstdint>
#include <string_view>

#include "sim/base/time.h"
#include "sim/contract/http_types.h"

namespace hooksim {

enum class SignatureVerdict {
  kNotChecked,  // The behaviour verifies no signature.
  kValid,
  kMissing,  // A webhook-* header is missing or empty.
  kStale,    // The timestamp is outside the tolerance (or not a number).
  kBad,      // No signature matches.
};

// "not_checked", "valid", "missing", "stale", "bad".
std::string_view SignatureVerdictName(SignatureVerdict verdict);

// The tolerance Standard Webhooks recommends.
inline constexpr Duration kSignatureTolerance = std::chrono::minutes(5);

// Checks `request` against `key` (the decoded secret) at `unix_now` (time
// since the Unix epoch).
SignatureVerdict CheckSignature(const HttpRequest& request,
                                std::string_view key, Duration unix_now,
                                Duration tolerance = kSignatureTolerance);

// Checks GitHub's X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256 of the
// body with `key` (the secret text itself). kMissing without the header;
// kBad when it does not match (GitHub signs no timestamp: never kStale).
SignatureVerdict CheckGithubSignature(const HttpRequest& request,
                                      std::string_view key);

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_SIGNATURE_CHECK_H_
