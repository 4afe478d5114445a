#include "mock-receivers/http/event_core.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <cstring>
#include <exception>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "mock-receivers/http/refusal_answer.h"

namespace hooksim {
namespace {

using SteadyClock = std::chrono::steady_clock;
using TimePointS = SteadyClock::time_point;

constexpr size_t kReadChunk = 16384;
constexpr int kMaxEvents = 256;
constexpr int kMaxAcceptsPerWake = 64;
// After a refusal: how long and how much of what the peer still sends is
// read and dropped before the close (see RefuseAndClose in the threaded
// core).
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr size_t kMaxLingerBytes = 4 << 20;
// Accepting pauses this long when the process is out of descriptors.
constexpr auto kAcceptPause = std::chrono::milliseconds(10);
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kHeadTimeoutAnswer =
    "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
    "Content-Length: 0\r\n\r\n";

// The numeric IP and port of a socket's end (peer or local); "" and "-1"
// when the kernel does not tell.
void AddressOf(int fd, bool peer, std::string& ip, std::string& port) {
  int number = -1;
  SocketAddress(fd, peer, ip, number);
  port = std::to_string(number);
}

bool SetNonBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL, 0);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

}  // namespace

class EventCore::Loop {
 public:
  Loop(EventCore& core, const EventCoreOptions& options,
       const EventCoreHooks& hooks, std::atomic<uint64_t>& next_id)
      : core_(core), options_(options), hooks_(hooks), next_id_(next_id) {}

  // Connections this loop owns or has been posted and not yet taken: what
  // placement balances. Any thread.
  size_t load() const { return load_.load(std::memory_order_relaxed); }
  void AddLoad() { load_.fetch_add(1, std::memory_order_relaxed); }

  ~Loop() {
    if (epoll_fd_ >= 0) close(epoll_fd_);
    if (wake_fd_ >= 0) close(wake_fd_);
  }

  Status Init() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) {
      return Status::IoError(std::string("epoll_create1: ") +
                             std::strerror(errno));
    }
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) {
      return Status::IoError(std::string("eventfd: ") + std::strerror(errno));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &wake_fd_;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0 ||
        !WatchListener()) {
      return Status::IoError(std::string("epoll_ctl: ") + std::strerror(errno));
    }
    return Status::Ok();
  }

  void Run() {
    thread_ = std::thread([this] {
      // Signals meant for the process never land here, and SIGPIPE
      // cannot kill it from here.
      sigset_t all;
      sigfillset(&all);
      pthread_sigmask(SIG_BLOCK, &all, nullptr);
      Main();
    });
  }

  // From any thread.
  void Post(int fd, std::string unread, size_t requests_left, uint64_t id,
            std::string key, int attempt) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopping_) {
        incoming_.push_back(
            Incoming{fd, std::move(unread), requests_left, id, std::move(key),
                     attempt});
        Wake();
        return;
      }
    }
    load_.fetch_sub(1, std::memory_order_relaxed);
    shutdown(fd, SHUT_RDWR);
    close(fd);
    hooks_.closed();
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    stop_seen_.store(true, std::memory_order_release);
    Wake();
    if (thread_.joinable()) thread_.join();
  }

 private:
  enum class Phase {
    kRead,    // Reading a request (or idle between two).
    kLater,   // A request's answer waits for its time.
    kClosing, // Writing a last answer, then close.
    kLinger,  // Writing a refusal, then dropping what comes, then close.
  };

  struct Conn {
    uint64_t id = 0;
    int fd = -1;
    Phase phase = Phase::kRead;
    std::unique_ptr<RequestFramer> framer;
    size_t request_bytes = 0;  // Bytes of the current request fed so far.
    size_t requests_left = 0;
    std::string out;
    size_t out_off = 0;
    bool rdhup = false;  // The peer has closed its side.
    std::string answered_key;
    int answered_attempt = 0;
    // Timing.
    TimePointS idle_since{};
    TimePointS head_started{};
    TimePointS body_deadline{};
    TimePointS last_byte{};
    TimePointS write_deadline{};
    TimePointS linger_deadline{};
    size_t lingered = 0;
    TimePointS later_at{};
    std::function<EventAnswer(bool)> later;
    TimePointS scheduled = TimePointS::max();  // Earliest heap entry.
    std::string pending;  // Read while an answer waits (kLater).
    // Local IP and port, remote IP and port (EventRequest), read once.
    std::string addresses[4];
    bool addressed = false;
  };

  struct Incoming {
    int fd;
    std::string unread;
    size_t requests_left;
    uint64_t id;
    std::string key;
    int attempt;
  };

  struct Timer {
    TimePointS at;
    uint64_t id;
    bool operator>(const Timer& o) const { return at > o.at; }
  };

  void Wake() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof(one));
  }

  bool WatchListener() {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.ptr = nullptr;  // nullptr: the listener.
    return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, options_.listen_fd, &ev) == 0;
  }

  void Main() {
    std::vector<epoll_event> events(kMaxEvents);
    // Bounded: ends when Stop raises stopping_.
    while (true) {
      if (stop_seen_.load(std::memory_order_acquire)) break;
      const int timeout = again_.empty() ? NextTimeoutMs() : 0;
      const int n = epoll_wait(epoll_fd_, events.data(), kMaxEvents, timeout);
      if (n < 0 && errno != EINTR) break;
      for (int i = 0; i < n; ++i) {
        void* ptr = events[i].data.ptr;
        if (ptr == nullptr) {
          Accept();
        } else if (ptr == &wake_fd_) {
          uint64_t v;
          [[maybe_unused]] const ssize_t r = read(wake_fd_, &v, sizeof(v));
          TakeIncoming();
        } else {
          const uint64_t id = reinterpret_cast<uintptr_t>(ptr);
          auto it = conns_.find(id);
          if (it == conns_.end()) continue;
          OnEvent(*it->second, events[i].events);
        }
      }
      // Connections whose reads were cut short (edge-triggered: no new
      // event would come for bytes already there).
      std::vector<uint64_t> again;
      again.swap(again_);
      for (uint64_t id : again) {
        auto it = conns_.find(id);
        if (it != conns_.end()) Read(*it->second);
      }
      RunTimers();
    }
    // Stopping: every connection closed; answers still waiting are told.
    std::vector<uint64_t> ids;
    ids.reserve(conns_.size());
    for (const auto& [id, c] : conns_) ids.push_back(id);
    for (uint64_t id : ids) {
      auto it = conns_.find(id);
      if (it == conns_.end()) continue;
      Conn& c = *it->second;
      if (c.phase == Phase::kLater && c.later) {
        auto later = std::move(c.later);
        c.later = nullptr;
        EventAnswer a = later(true);
        if (a.kind == EventAnswerKind::kTakeOver) {
          Forget(c);
          continue;
        }
      }
      Close(c, /*shut=*/true);
    }
    std::vector<Incoming> incoming;
    {
      std::lock_guard<std::mutex> lock(mu_);
      incoming.swap(incoming_);
    }
    for (Incoming& in : incoming) {
      shutdown(in.fd, SHUT_RDWR);
      close(in.fd);
      hooks_.closed();
    }
  }

  int NextTimeoutMs() {
    if (accept_paused_) return 1;
    if (timers_.empty()) return 1000;
    const auto left = timers_.top().at - SteadyClock::now();
    if (left <= SteadyClock::duration::zero()) return 0;
    // Rounded up: a timer never fires before its time.
    return static_cast<int>(std::min<int64_t>(
        1000, std::chrono::ceil<std::chrono::milliseconds>(left).count()));
  }

  void Accept() {
    for (int i = 0; i < kMaxAcceptsPerWake; ++i) {
      const int fd = accept4(options_.listen_fd, nullptr, nullptr,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
            errno == ENOMEM) {
          // Out of descriptors: stop watching the listener for a moment
          // (it would wake this loop at once, again and again).
          epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, options_.listen_fd, nullptr);
          accept_paused_ = true;
          accept_resume_ = SteadyClock::now() + kAcceptPause;
        }
        return;
      }
      if (!hooks_.admit()) {
        close(fd);
        continue;
      }
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      const size_t requests =
          std::max<size_t>(1, options_.keep_alive_max_requests);
      const uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed) + 1;
      // Whichever loop woke for the listener accepts (a burst all at
      // once), and the connection goes to the least loaded loop: senders
      // open their connections together, and a split like 15 to 1 left one
      // core to serve them all while the other idled.
      Loop& owner = core_.PlaceConnection(*this);
      if (&owner != this) {
        owner.Post(fd, std::string(), requests, id, {}, 0);
        continue;
      }
      Add(fd, std::string(), requests, id, {}, 0);
    }
  }

  void TakeIncoming() {
    std::vector<Incoming> incoming;
    {
      std::lock_guard<std::mutex> lock(mu_);
      incoming.swap(incoming_);
    }
    for (Incoming& in : incoming) {
      SetNonBlocking(in.fd);
      Add(in.fd, std::move(in.unread), in.requests_left, in.id,
          std::move(in.key), in.attempt);
    }
  }

  void Add(int fd, std::string unread, size_t requests_left, uint64_t id,
           std::string key, int attempt) {
    auto conn = std::make_unique<Conn>();
    Conn& c = *conn;
    c.id = id;
    c.fd = fd;
    c.requests_left = requests_left;
    c.answered_key = std::move(key);
    c.answered_attempt = attempt;
    c.idle_since = SteadyClock::now();
    NewFramer(c);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(id));
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      load_.fetch_sub(1, std::memory_order_relaxed);
      shutdown(fd, SHUT_RDWR);
      close(fd);
      hooks_.closed();
      return;
    }
    conns_.emplace(id, std::move(conn));
    Arm(c);
    // Bytes already read (a connection handed back), then whatever the
    // socket holds: edge-triggered, so nothing is waited for.
    if (!unread.empty()) {
      c.request_bytes = unread.size();
      c.head_started = c.last_byte = SteadyClock::now();
      if (!Feed(c, unread)) return;
    }
    OnEvent(c, EPOLLIN);
  }

  // A framer for the connection's next request: the one it has, reset
  // (its memory kept), or a first one.
  void NewFramer(Conn& c) {
    if (c.framer) {
      c.framer->Reset();
    } else {
      RequestFramerLimits limits = options_.limits;
      limits.whole_body = true;
      c.framer = std::make_unique<RequestFramer>(limits);
    }
    c.request_bytes = 0;
  }

  void OnEvent(Conn& c, uint32_t events) {
    if (events & (EPOLLRDHUP | EPOLLHUP)) c.rdhup = true;
    if ((events & EPOLLOUT) && c.out_off < c.out.size()) {
      if (!Flush(c)) return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) Read(c);
  }

  // Reads what the socket holds (until it would block). False when the
  // connection is gone.
  bool Read(Conn& c) {
    thread_local std::string buf(kReadChunk, '\0');
    // Bounded: each pass reads bytes or ends; a busy peer is put back in
    // line after 64 reads so other connections are served.
    for (int pass = 0;; ++pass) {
      if (pass == 64) {
        again_.push_back(c.id);
        return true;
      }
      if (c.phase == Phase::kLater) {
        // The answer waits: bytes of a next request are kept for later,
        // at most a head's worth (the rest stays in the socket).
        if (c.pending.size() >= options_.limits.max_head_bytes) return true;
      }
      const ssize_t n = recv(c.fd, buf.data(), buf.size(), 0);
      if (n > 0) {
        const std::string_view got(buf.data(), static_cast<size_t>(n));
        if (c.phase == Phase::kLinger) {
          c.lingered += got.size();
          if (c.lingered > kMaxLingerBytes) {
            Close(c, false);
            return false;
          }
        } else if (c.phase == Phase::kLater || c.phase == Phase::kClosing) {
          if (c.phase == Phase::kLater) c.pending.append(got);
        } else {
          if (c.request_bytes == 0) c.head_started = SteadyClock::now();
          c.request_bytes += got.size();
          c.last_byte = SteadyClock::now();
          if (!Feed(c, got)) return false;
        }
        if (static_cast<size_t>(n) < buf.size()) return true;  // Drained.
        continue;
      }
      if (n == 0) {
        c.rdhup = true;
        if (c.phase == Phase::kLater) return true;  // Seen when it is due.
        if (c.phase == Phase::kClosing && c.out_off < c.out.size()) {
          return true;  // Still writing the last answer.
        }
        Close(c, false);
        return false;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (c.phase == Phase::kRead && c.request_bytes == 0 &&
          errno == ECONNRESET) {
        // The peer reset with the last answer unread.
        Abandon(c);
      }
      Close(c, false);
      return false;
    }
  }

  // Feeds bytes of the current request and acts on what the framer says.
  // False when the connection is gone.
  bool Feed(Conn& c, std::string_view bytes) {
    FramerState state = c.framer->Feed(bytes);
    // Bounded: each pass serves one pipelined request of the bytes read.
    while (true) {
      if (state == FramerState::kNeedMore) {
        if (c.framer->head_done() && c.body_deadline == TimePointS{}) {
          c.body_deadline = SteadyClock::now() + options_.request_timeout;
        }
        if (c.framer->wants_continue()) {
          c.framer->ContinueSent();
          c.out.append(kContinue);
          if (!Flush(c)) return false;
        }
        Arm(c);
        return true;
      }
      if (state != FramerState::kReady) {
        const int status = FramerStatus(state);
        std::string allow;
        if (state == FramerState::kMethodNotAllowed) {
          allow = hooks_.allow(c.framer->target());
          if (allow.empty()) {
            allow = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
          }
        }
        return Refuse(c, status, c.framer->reason(), allow);
      }
      if (!Dispatch(c)) return false;
      if (c.phase != Phase::kRead) return true;
      // The next request: what followed this one.
      std::string rest = c.framer->TakeRest();
      NewFramer(c);
      c.body_deadline = TimePointS{};
      c.idle_since = SteadyClock::now();
      if (rest.empty()) {
        Arm(c);
        return true;
      }
      c.request_bytes = rest.size();
      c.head_started = c.last_byte = SteadyClock::now();
      state = c.framer->Feed(rest);
    }
  }

  // Hands a complete request to hooks.handle. False when the connection is
  // gone (closed, handed off, taken over).
  bool Dispatch(Conn& c) {
    c.answered_key.clear();
    c.requests_left = c.requests_left > 0 ? c.requests_left - 1 : 0;
    EventRequest request;
    request.framer = c.framer.get();
    request.fd = c.fd;
    request.connection = c.id;
    request.peer_closed = c.rdhup && !c.framer->has_rest();
    request.last = c.requests_left == 0;
    if (!c.addressed) {
      c.addressed = true;
      AddressOf(c.fd, false, c.addresses[0], c.addresses[1]);
      AddressOf(c.fd, true, c.addresses[2], c.addresses[3]);
    }
    request.local_ip = c.addresses[0];
    request.local_port = c.addresses[1];
    request.remote_ip = c.addresses[2];
    request.remote_port = c.addresses[3];
    if (request.last) c.phase = Phase::kClosing;  // No next request is read.
    EventAnswer answer;
    try {
      answer = hooks_.handle(request);
    } catch (const std::exception& e) {
      // As the threaded core's exception handler: 500 with what was thrown.
      const std::string body = nlohmann::json{{"error", e.what()}}.dump(
          -1, ' ', false, nlohmann::json::error_handler_t::replace);
      answer = EventAnswer{};
      answer.kind = EventAnswerKind::kWrite;
      answer.close = true;
      answer.bytes =
          "HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n"
          "Content-Length: " + std::to_string(body.size()) +
          "\r\nContent-Type: application/json\r\n\r\n" + body;
    }
    return Apply(c, std::move(answer));
  }

  bool Apply(Conn& c, EventAnswer answer) {
    switch (answer.kind) {
      case EventAnswerKind::kWrite:
        c.out.append(answer.bytes);
        c.answered_key = std::move(answer.answered_key);
        c.answered_attempt = answer.answered_attempt;
        if (answer.close || c.requests_left == 0) c.phase = Phase::kClosing;
        else c.phase = Phase::kRead;
        return Flush(c);
      case EventAnswerKind::kClose:
        Close(c, false);
        return false;
      case EventAnswerKind::kTakeOver:
        Forget(c);
        return false;
      case EventAnswerKind::kHandOff: {
        const int fd = c.fd;
        const uint64_t id = c.id;
        const size_t left = c.requests_left + 1;  // This one is served there.
        std::string bytes = c.framer->TakeRequest();
        Forget(c);
        hooks_.hand_off(fd, std::move(bytes), left, id);
        return false;
      }
      case EventAnswerKind::kLater:
        c.phase = Phase::kLater;
        c.later_at = answer.at;
        c.later = std::move(answer.later);
        c.pending = c.framer->TakeRest();
        Arm(c);
        return true;
    }
    return false;
  }

  // A kLater answer is due.
  void Due(Conn& c) {
    auto later = std::move(c.later);
    c.later = nullptr;
    c.phase = Phase::kRead;
    EventAnswer answer = later(false);
    const bool closing = c.requests_left == 0;
    if (!Apply(c, std::move(answer))) return;
    if (closing && c.phase == Phase::kRead) c.phase = Phase::kClosing;
    if (c.phase != Phase::kRead) return;
    // Serve what came meanwhile, then whatever the socket holds.
    std::string pending = std::move(c.pending);
    c.pending.clear();
    NewFramer(c);
    c.body_deadline = TimePointS{};
    c.idle_since = SteadyClock::now();
    if (!pending.empty()) {
      c.request_bytes = pending.size();
      c.head_started = c.last_byte = SteadyClock::now();
      if (!Feed(c, pending)) return;
    }
    if (c.phase == Phase::kRead) Read(c);
  }

  // Writes what is queued. False when the connection is gone.
  bool Flush(Conn& c) {
    // Bounded: each pass writes bytes or ends.
    while (c.out_off < c.out.size()) {
      const ssize_t n = send(c.fd, c.out.data() + c.out_off,
                             c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<size_t>(n);
        c.write_deadline = SteadyClock::now() + options_.io_timeout;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (c.write_deadline == TimePointS{}) {
          c.write_deadline = SteadyClock::now() + options_.io_timeout;
        }
        Arm(c);
        return true;  // EPOLLOUT (edge-triggered, always watched) resumes.
      }
      Abandon(c);  // The answer did not reach the peer.
      Close(c, false);
      return false;
    }
    c.out.clear();
    c.out_off = 0;
    c.write_deadline = TimePointS{};
    if (c.phase == Phase::kClosing) {
      Close(c, /*shut=*/true);
      return false;
    }
    if (c.phase == Phase::kLinger && c.linger_deadline == TimePointS{}) {
      shutdown(c.fd, SHUT_WR);
      c.linger_deadline = SteadyClock::now() + kLingerTime;
      Arm(c);
      if (c.rdhup) {
        Close(c, false);
        return false;
      }
    }
    return true;
  }

  // Answers a refusal and lingers (see kLinger). False when the
  // connection is gone.
  bool Refuse(Conn& c, int status, const std::string& reason,
              const std::string& allow) {
    hooks_.refused(status, reason,
                   c.framer->SeenBytes(options_.limits.max_head_bytes), c.id);
    c.phase = Phase::kLinger;
    c.out.append(RefusalAnswer(status, reason, allow));
    return Flush(c);
  }

  void Abandon(Conn& c) {
    if (c.answered_key.empty()) return;
    hooks_.abandoned(c.answered_key, c.answered_attempt);
    c.answered_key.clear();
  }

  // The earliest time something is due on `c`.
  TimePointS Deadline(const Conn& c) const {
    TimePointS d = TimePointS::max();
    if (c.out_off < c.out.size() && c.write_deadline != TimePointS{}) {
      d = c.write_deadline;
    }
    switch (c.phase) {
      case Phase::kLater:
        return std::min(d, c.later_at);
      case Phase::kLinger:
        if (c.linger_deadline != TimePointS{}) {
          d = std::min(d, c.linger_deadline);
        }
        return d;
      case Phase::kClosing:
        return d;
      case Phase::kRead:
        break;
    }
    if (c.request_bytes == 0) {
      return std::min(d, c.idle_since + options_.keep_alive_timeout);
    }
    if (!c.framer->head_done()) {
      return std::min(d, c.head_started + options_.header_timeout);
    }
    return std::min({d, c.body_deadline, c.last_byte + options_.io_timeout});
  }

  void Arm(Conn& c) {
    const TimePointS d = Deadline(c);
    if (d < c.scheduled) {
      c.scheduled = d;
      timers_.push(Timer{d, c.id});
    }
  }

  void RunTimers() {
    const TimePointS now = SteadyClock::now();
    if (accept_paused_ && now >= accept_resume_) {
      accept_paused_ = false;
      WatchListener();
    }
    // Bounded by the heap's entries due now.
    while (!timers_.empty() && timers_.top().at <= now) {
      const Timer t = timers_.top();
      timers_.pop();
      auto it = conns_.find(t.id);
      if (it == conns_.end()) continue;
      Conn& c = *it->second;
      if (c.scheduled != t.at) continue;  // A stale entry.
      c.scheduled = TimePointS::max();
      if (Deadline(c) > now) {
        Arm(c);
        continue;
      }
      TimedOut(c, now);
    }
  }

  void TimedOut(Conn& c, TimePointS now) {
    if (c.out_off < c.out.size() && c.write_deadline != TimePointS{} &&
        now >= c.write_deadline) {
      Abandon(c);
      Close(c, false);  // The peer does not read.
      return;
    }
    switch (c.phase) {
      case Phase::kLater:
        Due(c);
        return;
      case Phase::kLinger:
      case Phase::kClosing:
        Close(c, false);
        return;
      case Phase::kRead:
        break;
    }
    if (c.request_bytes == 0) {
      Close(c, /*shut=*/true);  // Idle past the keep-alive timeout.
      return;
    }
    if (!c.framer->head_done()) {
      // The head did not arrive whole in time: 408, if the socket takes
      // it at once, and close.
      hooks_.refused(408, "request head not complete within the header timeout",
                     c.framer->SeenBytes(options_.limits.max_head_bytes), c.id);
      [[maybe_unused]] const ssize_t n =
          send(c.fd, kHeadTimeoutAnswer.data(), kHeadTimeoutAnswer.size(),
               MSG_NOSIGNAL | MSG_DONTWAIT);
      Close(c, /*shut=*/true);
      return;
    }
    std::string reason;
    if (now >= c.body_deadline) {
      reason = "request not complete within the request timeout (" +
               std::to_string(options_.request_timeout.count()) + " ms)";
    } else {
      reason = "no byte of the request for " +
               std::to_string(options_.io_timeout.count()) +
               " ms (the read timeout)";
    }
    if (Refuse(c, 408, reason, "")) Read(c);
  }

  // Stops watching the connection and drops it, without closing.
  void Forget(Conn& c) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    conns_.erase(c.id);
    load_.fetch_sub(1, std::memory_order_relaxed);
  }

  void Close(Conn& c, bool shut) {
    const int fd = c.fd;
    Forget(c);
    if (shut) shutdown(fd, SHUT_RDWR);
    close(fd);
    hooks_.closed();
  }

  EventCore& core_;
  const EventCoreOptions& options_;
  const EventCoreHooks& hooks_;
  std::atomic<uint64_t>& next_id_;
  std::atomic<size_t> load_{0};  // See load().
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  std::vector<uint64_t> again_;  // To read again (see Read).
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  bool accept_paused_ = false;
  TimePointS accept_resume_{};
  std::mutex mu_;
  bool stopping_ = false;             // Guarded by mu_.
  std::atomic<bool> stop_seen_{false};  // stopping_, read without mu_.
  std::vector<Incoming> incoming_;    // Guarded by mu_.
};

EventCore::EventCore(EventCoreOptions options, EventCoreHooks hooks)
    : options_(std::move(options)), hooks_(std::move(hooks)) {}

EventCore::~EventCore() { Stop(); }

Status EventCore::Start() {
  if (started_) return Status::FailedPrecondition("event core already started");
  started_ = true;
  if (!SetNonBlocking(options_.listen_fd)) {
    return Status::IoError(std::string("listening socket: ") +
                           std::strerror(errno));
  }
  const size_t n = std::max<size_t>(1, options_.loops);
  for (size_t i = 0; i < n; ++i) {
    loops_.push_back(std::make_unique<Loop>(*this, options_, hooks_, next_id_));
    if (Status s = loops_.back()->Init(); !s.ok()) {
      loops_.clear();
      return s;
    }
  }
  for (auto& loop : loops_) loop->Run();
  return Status::Ok();
}

void EventCore::Adopt(int fd, std::string unread, size_t requests_left,
                      uint64_t id, std::string answered_key,
                      int answered_attempt) {
  if (loops_.empty()) {
    shutdown(fd, SHUT_RDWR);
    close(fd);
    hooks_.closed();
    return;
  }
  PlaceConnection(*loops_.front())
      .Post(fd, std::move(unread), requests_left, id, std::move(answered_key),
            answered_attempt);
}

std::vector<size_t> EventCore::loads() const {
  std::vector<size_t> out;
  for (const auto& loop : loops_) out.push_back(loop->load());
  return out;
}

EventCore::Loop& EventCore::PlaceConnection(Loop& accepting) {
  // The accepting loop keeps it unless another has at least two fewer
  // (no handoff while the loads are even, as they are when clients take
  // turns opening one connection each).
  Loop* least = &accepting;
  for (auto& loop : loops_) {
    if (loop->load() + 1 < least->load()) least = loop.get();
  }
  least->AddLoad();
  return *least;
}

void EventCore::Stop() {
  if (stopped_ || !started_) return;
  stopped_ = true;
  for (auto& loop : loops_) loop->Stop();
  if (options_.listen_fd >= 0) close(options_.listen_fd);
}

}  // namespace hooksim
