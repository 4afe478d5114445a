// Standard Webhooks signatures (https://www.standardwebhooks.com/): the
// headers a hook with a secret gets on every attempt.
//
//   webhook-id         the delivery id, the same on every attempt
//   webhook-timestamp  Unix seconds when the attempt was made
//   webhook-signature  "v1," + base64(HMAC-SHA256(key, id "." ts "." body))
//
// The key is the base64 decoding of the secret after its "whsec_" prefix.
// HMAC-SHA256 comes from OpenSSL's libcrypto (a well-kept implementation;
// writing our own HMAC would be the riskier choice).
//
// Errors: DecodeWebhookSecret returns an invalid-argument Status naming what is
// wrong with the secret; the other functions cannot fail. Thread: plain
// functions, no shared state (libcrypto's one-shot HMAC is thread-safe).
#ifndef HOOKSIM_SIM_CONTRACT_WEBHOOK_SIGNATURE_H_
#define HOOKSIM_SIM_CONTRACT_WEBHOOK_SIGNATURE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/base/result.h"

namespace hooksim {

inline constexpr std::string_view kWebhookSecretPrefix = "whsec_";
inline constexpr std::string_view kWebhookIdHeader = "webhook-id";
inline constexpr std::string_view kWebhookTimestampHeader = "webhook-timestamp";
inline constexpr std::string_view kWebhookSignatureHeader = "webhook-signature";
inline constexpr size_t kMaxWebhookSecretBytes = 1024;  // Decoded key.

// Standard base64 (RFC 4648 section 4, with padding).
std::string Base64Encode(std::string_view bytes);
// Strict standard base64: padding required, no whitespace. nullopt when the
// text is not base64.
std::optional<std::string> Base64Decode(std::string_view text);

// "whsec_" + base64 of 1..kMaxWebhookSecretBytes bytes -> the key bytes.
Result<std::string> DecodeWebhookSecret(std::string_view secret);

// The webhook-signature header value for a key (decoded secret).
std::string SignWebhook(std::string_view key, std::string_view id,
                        int64_t timestamp_s, std::string_view body);

// GitHub's signature (https://docs.github.com/en/webhooks/using-webhooks/
// validating-webhook-deliveries): the X-Hub-Signature-256 header value,
// "sha256=" + lowercase hex of HMAC-SHA256(key, body). GitHub's key is the
// secret text itself.
inline constexpr std::string_view kGithubSignatureHeader =
    "X-Hub-Signature-256";
std::string SignGithubSha256(std::string_view key, std::string_view body);

// Stripe's signature (https://docs.stripe.com/webhooks#verify-manually):
// the header is "t=<unix s>,v1=<sig>"; SignStripeV1 gives <sig>, the
// lowercase hex HMAC-SHA256(key, "<t>.<body>"). The key is the whole
// endpoint secret text ("whsec_..." included).
inline constexpr std::string_view kStripeSignatureHeader = "Stripe-Signature";
std::string SignStripeV1(std::string_view key, int64_t timestamp_s,
                         std::string_view body);
// "t=<t>,v1=<SignStripeV1>": the whole header value.
std::string StripeSignatureHeader(std::string_view key, int64_t timestamp_s,
                                  std::string_view body);

// Shopify's signature (https://shopify.dev/docs/apps/build/webhooks/
// subscribe/https#step-5-verify-the-webhook): the X-Shopify-Hmac-SHA256
// header, base64 of HMAC-SHA256(key, body); the key is the app's secret.
inline constexpr std::string_view kShopifySignatureHeader =
    "X-Shopify-Hmac-SHA256";
std::string SignShopify(std::string_view key, std::string_view body);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CONTRACT_WEBHOOK_SIGNATURE_H_
