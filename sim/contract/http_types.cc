#include "sim/contract/http_types.h"


namespace hooksim {

namespace {

// ASCII-only case folding: header names are ASCII, and this is on the hot
// path of every request (no locale lookups).
inline unsigned char FoldAscii(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return (u >= 'A' && u <= 'Z') ? static_cast<unsigned char>(u + 32) : u;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (FoldAscii(a[i]) != FoldAscii(b[i])) return false;
  }
  return true;
}

bool IsJsonContentType(std::string_view value) {
  std::string_view media = value.substr(0, value.find(';'));
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) {
    media.remove_prefix(1);
  }
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) {
    media.remove_suffix(1);
  }
  return EqualsIgnoreCase(media, "application/json");
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

}  // namespace hooksim
