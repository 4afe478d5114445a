// Checking webhook signatures at a receiver (the receiver side of
// sim/contract/webhook_signature.h), by scheme:
//
//   standard-webhooks  webhook-id, webhook-timestamp, webhook-signature v1
//                      (below); 5 min tolerance
//   stripe             Stripe-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of
//                      "t.body">[,v1=...]; 300 s tolerance (either way)
//   github             X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of body>
//   shopify            X-Shopify-Hmac-SHA256: <base64 HMAC-SHA256 of body>
//
// Standard Webhooks: a request passes when it carries webhook-id, webhook-timestamp and
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
#include <optional>
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

enum class SignatureScheme { kStandardWebhooks, kStripe, kGithub, kShopify };

// "standard-webhooks", "stripe", "github", "shopify".
std::string_view SignatureSchemeName(SignatureScheme scheme);
std::optional<SignatureScheme> ParseSignatureScheme(std::string_view name);

// Why a verdict was given under `scheme`, in a few words naming the header
// ("no Stripe-Signature header", "timestamp more than 300 s off the
// receiver's clock", ...); "" for kNotChecked and kValid.
std::string_view SignatureReason(SignatureScheme scheme,
                                 SignatureVerdict verdict);

// Stripe's tolerance (its libraries' default).
inline constexpr Duration kStripeSignatureTolerance = std::chrono::seconds(300);

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

// Checks Stripe-Signature: kMissing without the header; kStale when it has
// no readable t= or t is more than `tolerance` off `unix_now`; kBad when
// no v1= matches (at most 64 elements are read).
SignatureVerdict CheckStripeSignature(
    const HttpRequest& request, std::string_view key, Duration unix_now,
    Duration tolerance = kStripeSignatureTolerance);

// Checks X-Shopify-Hmac-SHA256 (base64 of the body's HMAC-SHA256); kMissing
// without the header, kBad when it does not match. Never kStale.
SignatureVerdict CheckShopifySignature(const HttpRequest& request,
                                       std::string_view key);

// The check of `scheme`, with its default tolerance.
SignatureVerdict VerifySignature(SignatureScheme scheme,
                                 const HttpRequest& request,
                                 std::string_view key, Duration unix_now);

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_SIGNATURE_CHECK_H_
