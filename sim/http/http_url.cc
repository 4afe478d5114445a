#include "sim/http/http_url.h"

#include <charconv>

#include "sim/contract/http_types.h"

namespace hooksim {
namespace {

constexpr std::string_view kScheme = "http://";
constexpr size_t kMaxUrlBytes = 8192;

bool IsControlOrSpace(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f;
}

}  // namespace

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  if (url.size() > kMaxUrlBytes) {
    return Status::InvalidArgument("URL is longer than " +
                                   std::to_string(kMaxUrlBytes) + " bytes");
  }
  if (url.size() < kScheme.size() ||
      !EqualsIgnoreCase(url.substr(0, kScheme.size()), kScheme)) {
    const size_t colon = url.find("://");
    if (colon != std::string_view::npos && colon > 0) {
      return Status::InvalidArgument("unsupported scheme \"" +
                                     std::string(url.substr(0, colon)) +
                                     "\": only http:// URLs are supported");
    }
    return Status::InvalidArgument(
        "expected an http://host[:port]/path URL, got \"" + std::string(url) +
        "\"");
  }
  for (char c : url) {
    if (IsControlOrSpace(c)) {
      return Status::InvalidArgument(
          "URL contains a space or control character");
    }
  }
  std::string_view rest = url.substr(kScheme.size());
  if (const size_t hash = rest.find('#'); hash != std::string_view::npos) {
    rest = rest.substr(0, hash);
  }
  const size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  std::string_view target = authority_end == std::string_view::npos
                                ? std::string_view()
                                : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return Status::InvalidArgument(
        "user info (user@host) is not supported in URLs");
  }
  HttpUrl out;
  std::string_view host;
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument("unterminated IPv6 address in URL host");
    }
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return Status::InvalidArgument("unexpected text after ']'");
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
  }
  if (host.empty()) return Status::InvalidArgument("URL has no host");
  if (has_port) {
    unsigned port = 0;
    const char* end = port_text.data() + port_text.size();
    auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
    if (port_text.empty() || ec != std::errc() || ptr != end || port < 1 ||
        port > 65535) {
      return Status::InvalidArgument("expected a port 1..65535, got \"" +
                                     std::string(port_text) + "\"");
    }
    out.port = static_cast<uint16_t>(port);
  }
  out.host = std::string(host);
  const bool v6 = out.host.find(':') != std::string::npos;
  out.host_header = v6 ? "[" + out.host + "]" : out.host;
  if (out.port != 80) out.host_header += ":" + std::to_string(out.port);
  if (target.empty()) {
    out.target = "/";
  } else if (target.front() == '?') {
    out.target = "/" + std::string(target);
  } else {
    out.target = std::string(target);
  }
  return out;
}

}  // namespace hooksim
