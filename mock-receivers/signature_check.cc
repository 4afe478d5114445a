#include "mock-receivers/signature_check.h"

#include <charconv>
#include <optional>
#include <string>

#include "sim/contract/webhook_signature.h"

namespace hooksim {
namespace {

constexpr std::string_view kVersionPrefix = "v1,";

// Equal length and bytes, examined in full whatever differs.
bool SameBytes(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

std::optional<int64_t> ParseSeconds(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value < 0) return std::nullopt;
  return value;
}

}  // namespace

std::string_view SignatureVerdictName(SignatureVerdict verdict) {
  switch (verdict) {
    case SignatureVerdict::kNotChecked:
      return "not_checked";
    case SignatureVerdict::kValid:
      return "valid";
    case SignatureVerdict::kMissing:
      return "missing";
    case SignatureVerdict::kStale:
      return "stale";
    case SignatureVerdict::kBad:
      return "bad";
  }
  return "unknown";
}

SignatureVerdict CheckSignature(const HttpRequest& request,
                                std::string_view key, Duration unix_now,
                                Duration tolerance) {
  const std::optional<std::string_view> id =
      request.FindHeader(kWebhookIdHeader);
  const std::optional<std::string_view> timestamp =
      request.FindHeader(kWebhookTimestampHeader);
  const std::optional<std::string_view> signatures =
      request.FindHeader(kWebhookSignatureHeader);
  if (!id || id->empty() || !timestamp || timestamp->empty() || !signatures ||
      signatures->empty()) {
    return SignatureVerdict::kMissing;
  }
  const std::optional<int64_t> seconds = ParseSeconds(*timestamp);
  if (!seconds) return SignatureVerdict::kStale;
  const Duration sent = std::chrono::seconds(*seconds);
  const Duration skew = sent > unix_now ? sent - unix_now : unix_now - sent;
  if (skew > tolerance) return SignatureVerdict::kStale;

  const std::string expected = SignWebhook(key, *id, *seconds, request.body);
  std::string_view rest = *signatures;
  // At most 64 candidates: a bounded loop whatever the header holds.
  for (int i = 0; i < 64 && !rest.empty(); ++i) {
    const size_t space = rest.find(' ');
    const std::string_view token = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view()
                                           : rest.substr(space + 1);
    if (token.rfind(kVersionPrefix, 0) != 0) continue;
    if (SameBytes(token, expected)) return SignatureVerdict::kValid;
  }
  return SignatureVerdict::kBad;
}

std::string_view SignatureSchemeName(SignatureScheme scheme) {
  switch (scheme) {
    case SignatureScheme::kStandardWebhooks:
      return "standard-webhooks";
    case SignatureScheme::kStripe:
      return "stripe";
    case SignatureScheme::kGithub:
      return "github";
    case SignatureScheme::kShopify:
      return "shopify";
  }
  return "unknown";
}

std::optional<SignatureScheme> ParseSignatureScheme(std::string_view name) {
  for (SignatureScheme s :
       {SignatureScheme::kStandardWebhooks, SignatureScheme::kStripe,
        SignatureScheme::kGithub, SignatureScheme::kShopify}) {
    if (name == SignatureSchemeName(s)) return s;
  }
  return std::nullopt;
}

std::string_view SignatureReason(SignatureScheme scheme,
                                 SignatureVerdict verdict) {
  switch (verdict) {
    case SignatureVerdict::kNotChecked:
    case SignatureVerdict::kValid:
      return "";
    case SignatureVerdict::kMissing:
      switch (scheme) {
        case SignatureScheme::kStandardWebhooks:
          return "no webhook-id, webhook-timestamp or webhook-signature "
                 "header";
        case SignatureScheme::kStripe:
          return "no Stripe-Signature header";
        case SignatureScheme::kGithub:
          return "no X-Hub-Signature-256 header";
        case SignatureScheme::kShopify:
          return "no X-Shopify-Hmac-SHA256 header";
      }
      break;
    case SignatureVerdict::kStale:
      return scheme == SignatureScheme::kStripe
                 ? "t= unreadable or more than 300 s off the receiver's clock"
                 : "webhook-timestamp unreadable or more than 5 min off the "
                   "receiver's clock";
    case SignatureVerdict::kBad:
      return "no signature matches the secret";
  }
  return "";
}

namespace {

// Takes the next comma-separated item ("t=...", "v1=...") off the front of
// a Stripe-Signature value, leading spaces dropped.
std::string_view TakeStripeItem(std::string_view& rest) {
  const size_t comma = rest.find(',');
  std::string_view item = rest.substr(0, comma);
  rest = comma == std::string_view::npos ? std::string_view()
                                         : rest.substr(comma + 1);
  while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
  return item;
}

}  // namespace

SignatureVerdict CheckStripeSignature(const HttpRequest& request,
                                      std::string_view key, Duration unix_now,
                                      Duration tolerance) {
  const std::optional<std::string_view> header =
      request.FindHeader(kStripeSignatureHeader);
  if (!header || header->empty()) return SignatureVerdict::kMissing;
  std::optional<int64_t> seconds;
  std::string_view t_text;
  std::string_view rest = *header;
  // First pass: the timestamp (the first t= wins); bounded.
  for (int i = 0; i < 64 && !rest.empty(); ++i) {
    const std::string_view item = TakeStripeItem(rest);
    if (item.rfind("t=", 0) == 0) {
      t_text = item.substr(2);
      seconds = ParseSeconds(t_text);
      break;
    }
  }
  if (!seconds) return SignatureVerdict::kStale;
  const Duration sent = std::chrono::seconds(*seconds);
  const Duration skew = sent > unix_now ? sent - unix_now : unix_now - sent;
  if (skew > tolerance) return SignatureVerdict::kStale;
  const std::string expected = SignStripeV1(key, *seconds, request.body);
  rest = *header;
  for (int i = 0; i < 64 && !rest.empty(); ++i) {
    const std::string_view item = TakeStripeItem(rest);
    if (item.rfind("v1=", 0) != 0) continue;
    if (SameBytes(item.substr(3), expected)) return SignatureVerdict::kValid;
  }
  return SignatureVerdict::kBad;
}

SignatureVerdict CheckShopifySignature(const HttpRequest& request,
                                       std::string_view key) {
  const std::optional<std::string_view> header =
      request.FindHeader(kShopifySignatureHeader);
  if (!header || header->empty()) return SignatureVerdict::kMissing;
  return SameBytes(*header, SignShopify(key, request.body))
             ? SignatureVerdict::kValid
             : SignatureVerdict::kBad;
}

SignatureVerdict VerifySignature(SignatureScheme scheme,
                                 const HttpRequest& request,
                                 std::string_view key, Duration unix_now) {
  switch (scheme) {
    case SignatureScheme::kStandardWebhooks:
      return CheckSignature(request, key, unix_now);
    case SignatureScheme::kStripe:
      return CheckStripeSignature(request, key, unix_now);
    case SignatureScheme::kGithub:
      return CheckGithubSignature(request, key);
    case SignatureScheme::kShopify:
      return CheckShopifySignature(request, key);
  }
  return SignatureVerdict::kBad;
}

SignatureVerdict CheckGithubSignature(const HttpRequest& request,
                                      std::string_view key) {
  const std::optional<std::string_view> header =
      request.FindHeader(kGithubSignatureHeader);
  if (!header || header->empty()) return SignatureVerdict::kMissing;
  const std::string expected = SignGithubSha256(key, request.body);
  return SameBytes(*header, expected) ? SignatureVerdict::kValid
                                      : SignatureVerdict::kBad;
}

}  // namespace hooksim
