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
