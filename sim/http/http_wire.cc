#include "sim/http/http_wire.h"

#include <sys/socket.h>

#include <cerrno>
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
  return s.find_first_of(std::string_view("\r\n\0", 3)) !=
         std::string_view::npos;
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
  head->append("Content-Length: ")
      .append(std::to_string(request.body.size()))
      .append("\r\nConnection: keep-alive\r\n\r\n");
}

bool IdleConnectionLooksOpen(int fd) {
  char c;
  const ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace hooksim
