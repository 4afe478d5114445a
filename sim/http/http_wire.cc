#include "sim/http/http_wire.h"

#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <string_view>

namespace hooksim {

AttemptError SocketErrorKind(int err) {
  switch (err) {
    case ETIMEDOUT:
      return AttemptError::kTimeout;
    default:  // ECONNRESET, EPIPE, ECONNABORTED, ...: the connection broke.
      return AttemptError::kReset;
  }
}

AttemptError ConnectErrorKind(int err) {
  switch (err) {
    case ETIMEDOUT:
      return AttemptError::kTimeout;
    case ECONNRESET:
      return AttemptError::kReset;
    default:  // ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, ...
      return AttemptError::kRefused;
  }
}

namespace {

bool HasLineBreakOrNul(std::string_view s) {
  // One pass with a cheap test per byte (find_first_of with a set of three
  // scans the set for every byte); every byte of the request's headers
  // passes here on each attempt.
  for (const char c : s) {
    if (static_cast<unsigned char>(c) <= '\r' &&
        (c == '\r' || c == '\n' || c == '\0')) {
      return true;
    }
  }
  return false;
}

bool IsManagedHeader(std::string_view name) {
  return EqualsIgnoreCase(name, "Host") ||
         EqualsIgnoreCase(name, "Content-Length") ||
         EqualsIgnoreCase(name, "Connection") ||
         EqualsIgnoreCase(name, "Transfer-Encoding");
}

}  // namespace

void BuildRequestHead(const HttpRequest& request, const HttpUrl& url,
                      std::string* head) {
  head->clear();
  head->append(request.method.empty() ? std::string_view("POST")
                                      : request.method);
  head->append(" ").append(url.target).append(" HTTP/1.1\r\nHost: ");
  head->append(url.host_header).append("\r\n");
  for (const Header& h : request.headers) {
    if (IsManagedHeader(h.name) || h.name.empty() ||
        HasLineBreakOrNul(h.name) || HasLineBreakOrNul(h.value)) {
      continue;
    }
    head->append(h.name).append(": ").append(h.value).append("\r\n");
  }
  char length[24];
  const std::to_chars_result printed =
      std::to_chars(length, length + sizeof(length), request.body.size());
  head->append("Content-Length: ")
      .append(length, static_cast<size_t>(printed.ptr - length))
      .append("\r\nConnection: keep-alive\r\n\r\n");
}

}  // namespace hooksim
