#include "mock-receivers/http/head_waiter.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <utility>

namespace hooksim {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr int kMaxEvents = 256;
constexpr char kRequestTimeout[] =
    "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
    "Content-Length: 0\r\n\r\n";

}  // namespace

bool HasCompleteHead(std::string_view bytes) {
  return bytes.find("\r\n\r\n") != std::string_view::npos ||
         bytes.find("\n\n") != std::string_view::npos;
}

struct HeadWaiter::Entry {
  ParkedConnection connection;
  SteadyClock::time_point idle_deadline;
  std::optional<SteadyClock::time_point> head_deadline;

  SteadyClock::time_point deadline() const {
    return head_deadline ? *head_deadline : idle_deadline;
  }
};

HeadWaiter::HeadWaiter(
    HeadWaiterOptions options, Dispatch dispatch,
    std::function<void()> on_closed,
    std::function<void(const ParkedConnection&)> on_head_timeout)
    : options_(options),
      dispatch_(std::move(dispatch)),
      on_closed_(std::move(on_closed)),
      on_head_timeout_(std::move(on_head_timeout)) {}

HeadWaiter::~HeadWaiter() {
  Stop();
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

Status HeadWaiter::Start() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    return Status::IoError(std::string("cannot create epoll/eventfd: ") +
                           std::strerror(errno));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    return Status::IoError(std::string("epoll_ctl: ") + std::strerror(errno));
  }
  std::lock_guard<std::mutex> lock(mu_);
  running_ = true;
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void HeadWaiter::Park(ParkedConnection connection) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_ && !stopping_) {
      incoming_.push_back(std::move(connection));
      parked_.fetch_add(1, std::memory_order_relaxed);
      const uint64_t one = 1;
      [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
      return;
    }
  }
  Close(connection.fd, /*timed_out_in_head=*/false);
}

void HeadWaiter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_ || stopping_) return;
    stopping_ = true;
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof(one));
  }
  thread_.join();
}

void HeadWaiter::Close(int fd, bool timed_out_in_head) {
  if (timed_out_in_head) {
    [[maybe_unused]] ssize_t n =
        send(fd, kRequestTimeout, sizeof(kRequestTimeout) - 1,
             MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  shutdown(fd, SHUT_RDWR);
  close(fd);
  if (on_closed_) on_closed_();
}

void HeadWaiter::Loop() {
  std::map<int, Entry> entries;
  std::vector<char> buf(std::max<size_t>(options_.max_head_bytes, 1));
  epoll_event events[kMaxEvents];

  auto forget = [&](std::map<int, Entry>::iterator it) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->first, nullptr);
    parked_.fetch_sub(1, std::memory_order_relaxed);
    return entries.erase(it);
  };
  auto dispatch = [&](std::map<int, Entry>::iterator it) {
    ParkedConnection connection = std::move(it->second.connection);
    forget(it);
    dispatch_(std::move(connection));
  };

  while (true) {
    std::vector<ParkedConnection> incoming;
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      incoming.swap(incoming_);
      stopping = stopping_;
    }
    const auto now = SteadyClock::now();
    for (ParkedConnection& c : incoming) {
      const int fd = c.fd;
      Entry entry{std::move(c), now + options_.idle_timeout, std::nullopt};
      if (!entry.connection.buffered.empty()) {
        entry.head_deadline = now + options_.header_timeout;
      }
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.fd = fd;
      auto [it, inserted] = entries.emplace(fd, std::move(entry));
      if (!inserted || epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        if (inserted) entries.erase(it);
        parked_.fetch_sub(1, std::memory_order_relaxed);
        Close(fd, false);
        continue;
      }
      if (HasCompleteHead(it->second.connection.buffered) ||
          it->second.connection.buffered.size() >= options_.max_head_bytes) {
        dispatch(it);
      }
    }
    if (stopping) break;

    // Expired connections; the nearest deadline bounds the wait.
    auto next = SteadyClock::time_point::max();
    for (auto it = entries.begin(); it != entries.end();) {
      if (it->second.deadline() <= now) {
        const int fd = it->first;
        const bool in_head = it->second.head_deadline.has_value();
        if (in_head && on_head_timeout_) on_head_timeout_(it->second.connection);
        it = forget(it);
        Close(fd, in_head);
        continue;
      }
      next = std::min(next, it->second.deadline());
      ++it;
    }
    int timeout_ms = -1;
    if (next != SteadyClock::time_point::max()) {
      timeout_ms = static_cast<int>(
          std::chrono::ceil<std::chrono::milliseconds>(next - now).count());
      timeout_ms = std::clamp(timeout_ms, 0, 60'000);
    }
    const int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout_ms);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t count;
        [[maybe_unused]] ssize_t r = read(wake_fd_, &count, sizeof(count));
        continue;
      }
      auto it = entries.find(fd);
      if (it == entries.end()) continue;
      std::string& buffered = it->second.connection.buffered;
      const size_t room = options_.max_head_bytes > buffered.size()
                              ? options_.max_head_bytes - buffered.size()
                              : 0;
      ssize_t got;
      do {
        got = recv(fd, buf.data(), std::max<size_t>(room, 1), MSG_DONTWAIT);
      } while (got < 0 && errno == EINTR);
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      if (got <= 0) {  // The peer closed or reset the connection.
        if (got < 0 && errno == ECONNRESET && buffered.empty() &&
            it->second.connection.on_reset) {
          it->second.connection.on_reset();
        }
        forget(it);
        Close(fd, false);
        continue;
      }
      if (buffered.empty()) {
        it->second.head_deadline = SteadyClock::now() + options_.header_timeout;
      }
      buffered.append(buf.data(), static_cast<size_t>(got));
      if (HasCompleteHead(buffered) ||
          buffered.size() >= options_.max_head_bytes) {
        dispatch(it);
      }
    }
  }
  // Stopping: close what is still parked.
  for (auto it = entries.begin(); it != entries.end();) {
    const int fd = it->first;
    it = forget(it);
    Close(fd, false);
  }
}

}  // namespace hooksim
