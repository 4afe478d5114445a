#include "mock-receivers/http/refusal_answer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>

namespace hooksim {
namespace {

const char* ReasonPhrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    default: return "Error";
  }
}

}  // namespace

std::string RefusalAnswer(int status, const std::string& reason,
                          const std::string& allow) {
  const std::string body = nlohmann::json{{"error", reason}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string answer = "HTTP/1.1 " + std::to_string(status) + " " +
                       ReasonPhrase(status) + "\r\n";
  answer += "Content-Type: application/json\r\n";
  answer += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (!allow.empty()) answer += "Allow: " + allow + "\r\n";
  answer += "Connection: close\r\n\r\n" + body;
  return answer;
}

bool SocketAddress(int fd, bool peer, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  const int r = peer
                    ? getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len)
                    : getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ip.clear();
  port = -1;
  if (r != 0) return false;
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof(buf));
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof(buf));
    port = ntohs(a->sin6_port);
  } else {
    return false;
  }
  ip = buf;
  return true;
}

}  // namespace hooksim
