#include "mock-receivers/http/connection_faults.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace hooksim {
namespace {

using SteadyClock = std::chrono::steady_clock;

// poll() that retries on EINTR with the time left.
int PollFor(pollfd* fds, nfds_t n, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - SteadyClock::now());
    const int ms = timeout.count() < 0
                       ? -1
                       : static_cast<int>(std::max<int64_t>(0, left.count()));
    const int r = poll(fds, n, ms);
    if (r >= 0 || errno != EINTR) return r;
  }
}

}  // namespace

bool PeerHasClosed(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (PollFor(&p, 1, std::chrono::milliseconds(0)) <= 0) return false;
  if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) return true;
  if (p.revents & POLLIN) {
    // Either bytes (the peer is still there, e.g. a pipelined request) or
    // EOF. RDHUP with bytes still queued is decided by the bytes too.
    char c;
    const ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    return false;
  }
  return (p.revents & POLLRDHUP) != 0;
}

bool SendAll(int fd, std::string_view bytes,
             std::chrono::milliseconds timeout) {
  size_t sent = 0;
  // Bounded: each pass sends at least one byte or waits up to `timeout`
  // and fails.
  while (sent < bytes.size()) {
    const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (PollFor(&p, 1, timeout) <= 0) return false;
      if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) return false;
      continue;
    }
    return false;
  }
  return true;
}

bool ResetConnection(int fd) {
  const linger abort_linger{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_linger, sizeof(abort_linger));
  const int replacement = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (replacement < 0) {
    ShutDownConnection(fd);
    return false;
  }
  // dup2 closes the connection's last descriptor (linger 0: RST) and puts
  // the replacement under the same number, atomically.
  const bool ok = dup2(replacement, fd) == fd;
  close(replacement);
  if (!ok) ShutDownConnection(fd);
  return ok;
}

void ShutDownConnection(int fd) { shutdown(fd, SHUT_RDWR); }

bool SendGarbageAndClose(int fd, std::chrono::milliseconds timeout) {
  const bool sent = SendAll(fd, kGarbageBytes, timeout);
  ShutDownConnection(fd);
  return sent;
}

HangEnd HoldUntilPeerCloses(int fd, int wake_fd) {
  size_t discarded = 0;
  std::array<char, 4096> sink;
  // Bounded: every pass either ends the hang or drops at least one of at
  // most kMaxHangDiscardBytes bytes (a pass that polls wakes only on an
  // event, at most once a second to re-check).
  while (true) {
    pollfd fds[2] = {{fd, POLLIN | POLLRDHUP, 0}, {wake_fd, POLLIN, 0}};
    const int r =
        PollFor(fds, wake_fd >= 0 ? 2 : 1, std::chrono::milliseconds(1000));
    if (r < 0) return HangEnd::kError;
    if (wake_fd >= 0 && (fds[1].revents & POLLIN)) return HangEnd::kWoken;
    if (r == 0) continue;
    if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
      return HangEnd::kPeerClosed;
    }
    if (fds[0].revents & POLLIN) {
      const ssize_t n = recv(fd, sink.data(), sink.size(), MSG_DONTWAIT);
      if (n == 0) return HangEnd::kPeerClosed;
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
        return HangEnd::kPeerClosed;  // ECONNRESET and the like.
      }
      discarded += static_cast<size_t>(n);
      if (discarded > kMaxHangDiscardBytes) return HangEnd::kOverflow;
      continue;
    }
    if (fds[0].revents & POLLRDHUP) return HangEnd::kPeerClosed;
  }
}

DribbleEnd DribbleBytes(
    int fd, std::string_view bytes, std::chrono::nanoseconds spread,
    size_t max_pieces, std::chrono::milliseconds send_timeout,
    const std::function<bool(std::chrono::steady_clock::time_point)>&
        wait_until) {
  const size_t pieces = std::max<size_t>(1, std::min(max_pieces, bytes.size()));
  const auto start = SteadyClock::now();
  for (size_t i = 0; i < pieces; ++i) {
    if (i > 0 || pieces == 1) {
      // Part i of n goes out at spread * i / (n - 1); a single part at the
      // end of the spread.
      const std::chrono::nanoseconds offset =
          pieces == 1 ? spread
                      : spread * static_cast<int64_t>(i) /
                            static_cast<int64_t>(pieces - 1);
      const auto at =
          start + std::chrono::duration_cast<SteadyClock::duration>(offset);
      if (!wait_until(at)) return DribbleEnd::kStopped;
    }
    if (PeerHasClosed(fd)) return DribbleEnd::kPeerClosed;
    const size_t from = bytes.size() * i / pieces;
    const size_t to = bytes.size() * (i + 1) / pieces;
    if (!SendAll(fd, bytes.substr(from, to - from), send_timeout)) {
      return PeerHasClosed(fd) ? DribbleEnd::kPeerClosed : DribbleEnd::kError;
    }
  }
  return DribbleEnd::kSent;
}

}  // namespace hooksim
