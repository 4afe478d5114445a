#include "sim/contract/http_types.h"

#include <cstring>
#include <ctime>
#include <string>

#include "sim/base/random.h"

namespace hooksim {

namespace {

// Whether two bytes are equal as ASCII without regard to case: equal bytes
// need no folding, and two bytes that differ are equal only as the two cases
// of one ASCII letter (they differ in bit 0x20 alone, and that bit set gives
// 'a'..'z').
bool ByteEqualsIgnoreCase(unsigned char x, unsigned char y) {
  if (x == y) return true;
  if ((x ^ y) != 0x20) return false;
  const unsigned char lower = x | 0x20;
  return lower >= 'a' && lower <= 'z';
}

}  // namespace

namespace http_types_internal {

bool BytesEqualIgnoreCase(const char* a, const char* b, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!ByteEqualsIgnoreCase(static_cast<unsigned char>(a[i]),
                              static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace http_types_internal

bool IsJsonContentType(std::string_view value) {
  // The value as senders write it, at the cost of one compare.
  constexpr std::string_view kJsonType = "application/json";
  if (value == kJsonType) return true;
  std::string_view media = value.substr(0, value.find(';'));
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) {
    media.remove_prefix(1);
  }
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) {
    media.remove_suffix(1);
  }
  return EqualsIgnoreCase(media, kJsonType);
}

uint64_t BodyHash(const HttpRequest& request) {
  const KnownBodyHash& known = request.known_hash;
  if (known.data == request.body.data() && known.size == request.body.size() &&
      known.data != nullptr) {
    return known.hash;
  }
  return Hash64(request.body);
}

std::optional<std::string_view> HttpRequest::FindHeader(
    std::string_view name) const {
  for (const Header& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return std::nullopt;
}

std::string_view AttemptErrorName(AttemptError error) {
  switch (error) {
    case AttemptError::kNone:
      return "none";
    case AttemptError::kTimeout:
      return "timeout";
    case AttemptError::kRefused:
      return "refused";
    case AttemptError::kReset:
      return "reset";
    case AttemptError::kEmptyReply:
      return "empty_reply";
    case AttemptError::kMalformed:
      return "malformed";
    case AttemptError::kDns:
      return "dns";
  }
  return "unknown";
}

std::optional<AttemptError> ParseAttemptError(std::string_view name) {
  for (AttemptError e :
       {AttemptError::kNone, AttemptError::kTimeout, AttemptError::kRefused,
        AttemptError::kReset, AttemptError::kEmptyReply,
        AttemptError::kMalformed, AttemptError::kDns}) {
    if (AttemptErrorName(e) == name) return e;
  }
  return std::nullopt;
}

std::string DescribeAttemptResult(const AttemptResult& result) {
  if (result.error == AttemptError::kNone) {
    return std::to_string(result.status);
  }
  return std::string(AttemptErrorName(result.error));
}

int64_t ParseRetryAfter(std::string_view value, int64_t now_unix_s) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
    value.remove_prefix(1);
  }
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) {
    value.remove_suffix(1);
  }
  if (value.empty()) return kBadRetryAfter;
  bool digits = value.size() <= 10;
  for (char c : value) digits = digits && c >= '0' && c <= '9';
  if (digits) {
    int64_t seconds = 0;
    for (char c : value) seconds = seconds * 10 + (c - '0');
    return seconds * 1000;
  }
  // IMF-fixdate only (the obsolete formats are refused as unreadable).
  if (value.size() != 29 || value.substr(25) != " GMT") return kBadRetryAfter;
  std::tm tm{};
  const std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return kBadRetryAfter;
  const int64_t at = static_cast<int64_t>(timegm(&tm));
  return at <= now_unix_s ? 0 : (at - now_unix_s) * 1000;
}

}  // namespace hooksim
