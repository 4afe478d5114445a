#include "sim/http/http_client.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <optional>
#include <string_view>

#include "sim/http/http_answer_parser.h"
#include "sim/http/http_url.h"

namespace hooksim {
namespace {

using SteadyClock = std::chrono::steady_clock;
using Deadline = SteadyClock::time_point;

constexpr size_t kRecvChunk = 16 << 10;
// poll() rounds that end without readiness before the deadline (EINTR, or
// a timeout rounded down by the kernel) are retried; this bounds them.
constexpr int kMaxPollRounds = 10'000;

AttemptResult Failed(AttemptError error) { return AttemptResult{error, 0}; }

enum class Wait { kReady, kTimeout };

// Waits until fd has `events`, the deadline passes or cancel_fd is readable
// (reported as kTimeout: the attempt is being abandoned).
Wait WaitFor(int fd, short events, Deadline deadline, int cancel_fd) {
  for (int round = 0; round < kMaxPollRounds; ++round) {
    const auto now = SteadyClock::now();
    if (now >= deadline) return Wait::kTimeout;
    const auto ms =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    pollfd fds[2] = {{fd, events, 0}, {cancel_fd, POLLIN, 0}};
    const int n = poll(fds, cancel_fd >= 0 ? 2 : 1,
                       static_cast<int>(std::min<int64_t>(ms, INT_MAX)));
    if (n < 0 && errno != EINTR) return Wait::kTimeout;
    if (n <= 0) continue;
    if (cancel_fd >= 0 && fds[1].revents != 0) return Wait::kTimeout;
    // POLLERR / POLLHUP count as ready: the next send/recv reports them.
    if (fds[0].revents != 0) return Wait::kReady;
  }
  return Wait::kTimeout;
}

}  // namespace

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

struct Connected {
  int fd = -1;
  AttemptError error = AttemptError::kNone;
};

Connected Connect(const std::vector<SocketAddress>& addresses,
                  Deadline deadline, int cancel_fd) {
  AttemptError last = AttemptError::kRefused;
  for (const SocketAddress& a : addresses) {
    const int fd =
        socket(a.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    int rc =
        connect(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.length);
    int err = rc == 0 ? 0 : errno;
    if (rc != 0 && err == EINPROGRESS) {
      if (WaitFor(fd, POLLOUT, deadline, cancel_fd) != Wait::kReady) {
        close(fd);
        return {-1, AttemptError::kTimeout};
      }
      socklen_t len = sizeof(err);
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    }
    if (err == 0) return {fd, AttemptError::kNone};
    close(fd);
    last = ConnectErrorKind(err);
    if (last == AttemptError::kTimeout) return {-1, last};
  }
  return {-1, last};
}

}  // namespace

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

namespace {

struct WriteOutcome {
  AttemptError error = AttemptError::kNone;
  bool nothing_written = false;  // Failed before any byte was accepted.
};

WriteOutcome WriteAll(int fd, std::string_view head, std::string_view body,
                      Deadline deadline, int cancel_fd) {
  const size_t total = head.size() + body.size();
  size_t sent = 0;
  // Bounded: every round either sends bytes or waits toward the deadline.
  for (int round = 0; sent < total && round < kMaxPollRounds; ++round) {
    iovec iov[2];
    int count = 0;
    if (sent < head.size()) {
      iov[count++] = {const_cast<char*>(head.data() + sent),
                      head.size() - sent};
      if (!body.empty()) {
        iov[count++] = {const_cast<char*>(body.data()), body.size()};
      }
    } else {
      const size_t off = sent - head.size();
      iov[count++] = {const_cast<char*>(body.data() + off), body.size() - off};
    }
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    const ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      round = 0;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (WaitFor(fd, POLLOUT, deadline, cancel_fd) != Wait::kReady) {
        return {AttemptError::kTimeout, false};
      }
      continue;
    }
    return {SocketErrorKind(n < 0 ? errno : EPIPE), sent == 0};
  }
  if (sent < total) return {AttemptError::kTimeout, false};
  return {};
}

// Reads one answer from fd into `parser` until it is done or failed, or
// the deadline passes.
AttemptResult ReadAnswer(int fd, HttpAnswerParser& parser, Deadline deadline,
                         int cancel_fd, bool* keep) {
  *keep = false;
  parser.Reset();
  char chunk[kRecvChunk];
  // Bounded: every round feeds bytes (the parser caps what an answer may
  // take) or waits toward the deadline.
  for (int round = 0; round < kMaxPollRounds; ++round) {
    const ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    HttpAnswerParser::State state;
    if (n > 0) {
      round = 0;
      state = parser.Feed(std::string_view(chunk, static_cast<size_t>(n)));
    } else if (n == 0) {
      state = parser.OnEof();
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (WaitFor(fd, POLLIN, deadline, cancel_fd) != Wait::kReady) {
        return Failed(AttemptError::kTimeout);
      }
      continue;
    } else {
      return Failed(SocketErrorKind(errno));
    }
    if (state == HttpAnswerParser::State::kNeedMore) continue;
    *keep = parser.keep_alive();
    return parser.result();
  }
  return Failed(AttemptError::kTimeout);
}

}  // namespace

bool IdleConnectionLooksOpen(int fd) {
  char c;
  const ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

HttpClient::HttpClient(AddressCache& addresses, HttpClientOptions options,
                       HttpClientCounters* counters)
    : addresses_(addresses),
      options_(options),
      counters_(counters),
      parser_(HttpAnswerParserOptions{options.max_head_bytes,
                                      options.max_drained_body_bytes}) {}

HttpClient::~HttpClient() {
  for (auto& [key, idle] : idle_) close(idle.fd);
}

int HttpClient::TakeIdle(const std::string& key) {
  const auto it = idle_.find(key);
  if (it == idle_.end()) return -1;
  const Idle idle = it->second;
  idle_.erase(it);
  if (SteadyClock::now() - idle.since > options_.max_idle) {
    close(idle.fd);
    return -1;
  }
  // An open, quiet connection has nothing to read. EOF, a pending error or
  // unexpected bytes mean the server closed (or broke) it while idle.
  if (IdleConnectionLooksOpen(idle.fd)) return idle.fd;
  close(idle.fd);
  if (counters_) ++counters_->stale_connections;
  return -1;
}

void HttpClient::PutIdle(const std::string& key, int fd) {
  if (idle_.size() >= options_.max_idle_connections && !idle_.count(key)) {
    auto oldest = idle_.begin();
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (it->second.since < oldest->second.since) oldest = it;
    }
    close(oldest->second.fd);
    idle_.erase(oldest);
  }
  auto [it, inserted] = idle_.try_emplace(key, Idle{fd, SteadyClock::now()});
  if (!inserted) {
    close(it->second.fd);
    it->second = Idle{fd, SteadyClock::now()};
  }
}

AttemptResult HttpClient::Send(const HttpRequest& request, Deadline deadline) {
  const Result<HttpUrl> url = ParseHttpUrl(request.target);
  if (!url.ok()) return Failed(AttemptError::kRefused);
  const Result<AddressList> addresses =
      addresses_.Resolve(url->host, url->port);
  if (!addresses.ok()) return Failed(AttemptError::kRefused);
  BuildRequestHead(request, *url, &head_);
  const std::string key = url->host + "|" + std::to_string(url->port);
  // At most two rounds: the second only after a reused connection failed
  // before any byte of the request was written.
  for (int round = 0; round < 2; ++round) {
    int fd = round == 0 ? TakeIdle(key) : -1;
    const bool reused = fd >= 0;
    if (reused) {
      if (counters_) ++counters_->connections_reused;
    } else {
      const Connected c = Connect(**addresses, deadline, options_.cancel_fd);
      if (c.fd < 0) return Failed(c.error);
      fd = c.fd;
      if (counters_) ++counters_->connections_opened;
    }
    const WriteOutcome written =
        WriteAll(fd, head_, request.body, deadline, options_.cancel_fd);
    if (written.error != AttemptError::kNone) {
      close(fd);
      if (reused && written.nothing_written) {
        if (counters_) ++counters_->stale_connections;
        continue;
      }
      return Failed(written.error);
    }
    bool keep = false;
    const AttemptResult result =
        ReadAnswer(fd, parser_, deadline, options_.cancel_fd, &keep);
    if (keep) {
      PutIdle(key, fd);
    } else {
      close(fd);
    }
    return result;
  }
  return Failed(AttemptError::kReset);
}

}  // namespace hooksim
