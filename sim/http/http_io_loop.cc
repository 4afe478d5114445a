#include "sim/http/http_io_loop.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

#include "sim/base/check.h"
#include "sim/http/http_url.h"

namespace hooksim {
namespace {

using SteadyClock = std::chrono::steady_clock;
using Deadline = SteadyClock::time_point;

constexpr size_t kRecvChunk = 16 << 10;
constexpr int kMaxEvents = 256;
// Distinct targets whose parsed URL a loop keeps.
constexpr size_t kMaxRoutes = 256;

// A system call the loop cannot do without failed: an invariant of the
// process (descriptors, memory), not of the input.
[[noreturn]] void Die(const char* what) {
  const int err = errno;
  HOOKSIM_CHECK(false, "%s: %s", what, std::strerror(err));
  std::abort();  // Not reached.
}

}  // namespace

class HttpIoLoop::State {
 public:
  State(EventLoop& clock, AddressCache& addresses, HttpClientCounters& counters,
        HttpIoLoopOptions options, int wake_fd,
        std::atomic<size_t>& unfinished)
      : clock_(clock),
        addresses_(addresses),
        counters_(counters),
        options_(options),
        wake_fd_(wake_fd),
        unfinished_(unfinished) {
    options_.slots = std::max<size_t>(options_.slots, 1);
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) Die("HttpIoLoop: epoll_create1");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // The wake-up eventfd.
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
      Die("HttpIoLoop: epoll_ctl");
    }
    attempts_.reserve(options_.slots);
    deadlines_.assign(options_.slots, Deadline::max());
    for (size_t i = 0; i < options_.slots; ++i) {
      attempts_.push_back(std::make_unique<Attempt>(options_.parser, i));
      free_.push_back(attempts_.back().get());
    }
    recv_buf_.resize(kRecvChunk);
  }

  ~State() {
    for (auto& [conn, owned] : conns_) {
      if (owned->fd >= 0) close(owned->fd);
    }
    close(epoll_fd_);
  }

  // Queues a job; loop thread only (the in-loop mode's Submit).
  void Enqueue(HttpIoJob job) { waiting_.push_back(std::move(job)); }

  // One round: starts waiting attempts, waits for I/O until `until` or the
  // earliest attempt deadline (not at all when completions are pending),
  // handles what is ready, and hands the completions to the clock.
  void PollOnce(Deadline until, const std::atomic<bool>& stop, Inbox& inbox) {
    const bool drained = TakeInbox(inbox);
    const Deadline wake = std::min(until, EarliestDeadline());
    // Nanosecond timeout (epoll_pwait2): the clock's timers are due to
    // the microsecond, and rounding to milliseconds would delay them.
    timespec timeout{};
    const timespec* timeout_ptr = &timeout;
    if (completions_.empty() && drained && deferred_.empty()) {
      if (wake == Deadline::max()) {
        timeout_ptr = nullptr;  // Until I/O or a wake-up.
      } else {
        const int64_t ns = std::clamp<int64_t>(
            std::chrono::nanoseconds(wake - SteadyClock::now()).count(), 0,
            int64_t{86'400} * 1'000'000'000);
        timeout.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
        timeout.tv_nsec = static_cast<long>(ns % 1'000'000'000);
      }
    }
    epoll_event events[kMaxEvents];
    int n = epoll_pwait2(epoll_fd_, events, kMaxEvents, timeout_ptr, nullptr);
    if (n < 0 && errno == ENOSYS) {
      // Kernels before 5.11: milliseconds, rounded up (never early).
      const int ms = timeout_ptr == nullptr
                         ? -1
                         : static_cast<int>(std::min<int64_t>(
                               (int64_t{timeout.tv_sec} * 1'000'000'000 +
                                timeout.tv_nsec + 999'999) /
                                   1'000'000,
                               INT_MAX));
      n = epoll_wait(epoll_fd_, events, kMaxEvents, ms);
    }
    if (n < 0 && errno != EINTR) Die("HttpIoLoop: epoll_wait");
    if (stop.load(std::memory_order_acquire)) return;
    for (int i = 0; i < n; ++i) Dispatch(events[i], inbox);
    DispatchDeferred(inbox);
    ExpireTimers();
    // A full batch may have left events unfetched: then look again.
    StartWaiting(/*just_polled=*/n < kMaxEvents);
    // Before the graveyard goes: a deferred event may name a connection
    // closed in this round.
    DispatchDeferred(inbox);
    graveyard_.clear();
    if (!completions_.empty() && !stop.load(std::memory_order_acquire)) {
      clock_.CompleteAttempts(&completions_);
    }
  }

 private:
  void Dispatch(const epoll_event& event, Inbox& inbox) {
    if (event.data.ptr == nullptr) {
      uint64_t count;
      [[maybe_unused]] const ssize_t r = read(wake_fd_, &count, 8);
      std::lock_guard<std::mutex> lock(inbox.mu);
      TakeJobs(inbox.jobs);
      inbox.wake_pending = false;
    } else {
      OnEvent(static_cast<Conn*>(event.data.ptr), event.events);
    }
  }

  // The events CheckIdleConnections fetched for connections in use (or the
  // wake-up): handled here, as if this round's epoll_wait had returned
  // them. Handling them never defers more (only Start takes idle
  // connections).
  void DispatchDeferred(Inbox& inbox) {
    if (deferred_.empty()) return;
    deferred_handling_.swap(deferred_);
    for (const epoll_event& event : deferred_handling_) Dispatch(event, inbox);
    deferred_handling_.clear();
  }

  // What happened on the sockets since the last epoll_wait, looked at once
  // before idle connections are handed out at the start of a round (after
  // the round's own epoll_wait, what it returned is current): the wire
  // rules' "a kept connection found closed when taken", for all of them in
  // one system call instead of a recv(MSG_PEEK) per connection taken. An idle
  // connection's event marks it (peer_acted); the others' (edge-triggered:
  // fetched once) wait in deferred_ for this round.
  void CheckIdleConnections() {
    epoll_event events[kMaxEvents];
    // Bounded: a full batch means more may be ready; at most 16 batches.
    for (int batch = 0; batch < 16; ++batch) {
      const int n = epoll_wait(epoll_fd_, events, kMaxEvents, 0);
      for (int i = 0; i < n; ++i) {
        auto* c = static_cast<Conn*>(events[i].data.ptr);
        if (c != nullptr && c->fd >= 0 && c->attempt == nullptr) {
          OnEvent(c, events[i].events);  // Idle: only marks it.
        } else {
          deferred_.push_back(events[i]);
        }
      }
      if (n < kMaxEvents) return;
    }
  }

  // Moves submitted jobs to the waiting queue and starts what the free
  // slots allow, and tells Submit whether a new job needs a wake-up (only
  // while a slot is free). False when jobs may still wait to be started
  // (the round must not block).
  bool TakeInbox(Inbox& inbox) {
    // Bounded: each pass with jobs and a free slot starts jobs; the
    // submitters are capped by the transport's queue limit.
    for (int pass = 0; pass < 8; ++pass) {
      StartWaiting();
      std::lock_guard<std::mutex> lock(inbox.mu);
      const bool full = free_.empty();
      const bool took = !inbox.jobs.empty();
      TakeJobs(inbox.jobs);
      if (full || !took) {
        inbox.slots_full = full;
        return true;
      }
      inbox.slots_full = false;
    }
    return false;
  }

  // Appends `jobs` to the waiting queue and empties it (capacity kept).
  void TakeJobs(std::vector<HttpIoJob>& jobs) {
    if (jobs.empty()) return;
    if (waiting_head_ == waiting_.size()) {
      // Nothing waits: take the inbox's buffer whole, hand it ours.
      waiting_.clear();
      waiting_head_ = 0;
      waiting_.swap(jobs);
      return;
    }
    for (HttpIoJob& job : jobs) waiting_.push_back(std::move(job));
    jobs.clear();
  }

  struct Attempt;
  struct Route {
    HttpUrl url;
    std::string key;  // AddressKey(host, port): addresses and idle conns.
    // The resolved addresses, once a Resolve succeeded (the cache keeps
    // them for good too; failures are tried again).
    AddressList addresses;
  };
  struct Conn {
    int fd = -1;
    std::string key;
    Attempt* attempt = nullptr;  // Null while idle.
    Deadline idle_since{};
    // Bytes, an end or an error came while it was idle (or an end with its
    // last answer): the server closed or broke it; never reused.
    bool peer_acted = false;
  };
  enum class Stage { kConnecting, kWriting, kReading };
  struct Attempt {
    Attempt(const HttpAnswerParserOptions& parser_options, size_t slot)
        : slot(slot), parser(parser_options) {}
    const size_t slot;  // Its place in attempts_ and deadlines_.
    HttpIoJob job;
    AddressList addresses;
    size_t next_address = 0;
    AttemptError last_connect_error = AttemptError::kRefused;
    std::string key;
    std::string head;
    size_t sent = 0;
    bool reused = false;
    bool resent = false;  // Sent once more after a stale reused connection.
    Stage stage = Stage::kConnecting;
    Conn* conn = nullptr;
    HttpAnswerParser parser;
  };

  // `just_polled`: the round's epoll_wait has just run and its events
  // were handled, so what it saw of the idle connections is current;
  // else the first TakeIdle of this pass looks (CheckIdleConnections).
  void StartWaiting(bool just_polled = false) {
    idle_checked_ = just_polled;
    // Bounded by the waiting attempts; a start that fails at once frees
    // its slot for the next.
    while (!free_.empty() && waiting_head_ < waiting_.size()) {
      Attempt* a = free_.back();
      free_.pop_back();
      a->job = std::move(waiting_[waiting_head_++]);
      if (waiting_head_ == waiting_.size()) {
        waiting_.clear();  // Capacity kept.
        waiting_head_ = 0;
      }
      Start(a);
    }
    // Bounded memory: the taken front is dropped once it is most of it.
    if (waiting_head_ > 64 && waiting_head_ * 2 > waiting_.size()) {
      waiting_.erase(waiting_.begin(),
                     waiting_.begin() + static_cast<ptrdiff_t>(waiting_head_));
      waiting_head_ = 0;
    }
  }

  // The earliest deadline of an attempt in flight (max() when none).
  // Scans the slots: a few dozen per loop, and no allocation per attempt
  // as a map of timers would make.
  Deadline EarliestDeadline() const {
    Deadline earliest = Deadline::max();
    for (const Deadline d : deadlines_) earliest = std::min(earliest, d);
    return earliest;
  }

  void Start(Attempt* a) {
    const Deadline now = SteadyClock::now();
    deadlines_[a->slot] = now + a->job.timeout;
    a->next_address = 0;
    a->last_connect_error = AttemptError::kRefused;
    a->sent = 0;
    a->reused = false;
    a->resent = false;
    a->conn = nullptr;
    a->parser.Reset();
    Route* route = FindRoute(a->job.request.target);
    if (route == nullptr) {
      return Finish(a, AttemptResult{AttemptError::kRefused, 0});
    }
    if (route->addresses == nullptr) {
      Result<AddressList> addresses =
          addresses_.Resolve(route->url.host, route->url.port, route->key);
      if (!addresses.ok()) {  // The host name does not resolve.
        return Finish(a, AttemptResult{AttemptError::kDns, 0});
      }
      route->addresses = std::move(*addresses);
    }
    a->addresses = route->addresses;
    BuildRequestHead(a->job.request, route->url, &a->head);
    a->key = route->key;  // Reuses the attempt's buffer.
    if (Conn* c = TakeIdle(a->key, now)) {
      ++counters_.connections_reused;
      a->reused = true;
      a->conn = c;
      c->attempt = a;
      a->stage = Stage::kWriting;
      // The idle connection had no byte to read (TakeIdle): the answer's
      // bytes arrive after this write and raise an event of their own.
      return TryWrite(a, /*read_now=*/false);
    }
    ConnectNext(a);
  }

  // The parsed URL of `target`, or null when it is not an http:// URL
  // this transport can reach. Parsing is a pure function of the text, so
  // each target is parsed once (the map is bounded: emptied when full).
  Route* FindRoute(std::string_view target) {
    if (const auto it = routes_.find(target); it != routes_.end()) {
      return &it->second;
    }
    Result<HttpUrl> url = ParseHttpUrl(target);
    if (!url.ok()) return nullptr;
    if (routes_.size() >= kMaxRoutes) routes_.clear();
    Route route{std::move(*url), "", nullptr};
    route.key = AddressKey(route.url.host, route.url.port);
    return &routes_.emplace(std::string(target), std::move(route))
                .first->second;
  }

  // The most recent idle connection to `key` that still looks open.
  Conn* TakeIdle(const std::string& key, Deadline now) {
    const auto it = idle_.find(key);
    if (it == idle_.end() || it->second.empty()) return nullptr;
    if (!idle_checked_) {
      CheckIdleConnections();
      idle_checked_ = true;
    }
    std::vector<Conn*>& list = it->second;
    Conn* found = nullptr;
    // Bounded by the list, which holds at most `slots` connections.
    while (!list.empty() && found == nullptr) {
      Conn* c = list.back();
      list.pop_back();
      if (now - c->idle_since > options_.max_idle) {
        Close(c);
      } else if (c->peer_acted) {
        ++counters_.stale_connections;
        Close(c);
      } else {
        found = c;
      }
    }
    // An emptied list stays (its memory too): the next PutIdle for the key
    // would allocate it again, once per attempt when every connection is
    // busy. EvictOldestKey drops empty lists first.
    return found;
  }

  void PutIdle(Conn* c) {
    c->attempt = nullptr;
    c->idle_since = SteadyClock::now();
    auto it = idle_.find(c->key);
    if (it == idle_.end()) {
      if (idle_.size() >= options_.max_idle_keys) EvictOldestKey();
      it = idle_.emplace(c->key, std::vector<Conn*>()).first;
    }
    if (it->second.size() >= options_.slots) {
      Close(it->second.front());
      it->second.erase(it->second.begin());
    }
    it->second.push_back(c);
  }

  // Drops a key's idle list: an empty one if there is one, else the one
  // whose newest connection is the oldest (its connections closed).
  void EvictOldestKey() {
    auto oldest = idle_.begin();
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (it->second.empty()) {
        oldest = it;
        break;
      }
      if (it->second.back()->idle_since < oldest->second.back()->idle_since) {
        oldest = it;
      }
    }
    for (Conn* c : oldest->second) Close(c);
    idle_.erase(oldest);
  }

  // Connects to the attempt's next address; on failure tries the one after
  // (a timeout ends the attempt), as the wire rules say.
  void ConnectNext(Attempt* a) {
    const std::vector<SocketAddress>& list = *a->addresses;
    // Bounded by the address list.
    while (a->next_address < list.size()) {
      const SocketAddress& addr = list[a->next_address++];
      const int fd =
          socket(addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) continue;
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      const int rc = connect(
          fd, reinterpret_cast<const sockaddr*>(&addr.storage), addr.length);
      const int err = rc == 0 ? 0 : errno;
      if (rc != 0 && err != EINPROGRESS) {
        close(fd);
        a->last_connect_error = ConnectErrorKind(err);
        if (a->last_connect_error == AttemptError::kTimeout) break;
        continue;
      }
      Conn* c = NewConn(fd, a->key);
      c->attempt = a;
      a->conn = c;
      if (rc == 0) return Connected(a, /*read_now=*/false);
      a->stage = Stage::kConnecting;
      return;  // EPOLLOUT tells when it is done.
    }
    Finish(a, AttemptResult{a->last_connect_error, 0});
  }

  Conn* NewConn(int fd, const std::string& key) {
    auto owned = std::make_unique<Conn>();
    Conn* c = owned.get();
    c->fd = fd;
    c->key = key;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      Die("HttpIoLoop: epoll_ctl add");
    }
    conns_.emplace(c, std::move(owned));
    return c;
  }

  // Closes the connection; its object lives until the end of this round,
  // since events already fetched may still name it.
  void Close(Conn* c) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->attempt = nullptr;
    const auto it = conns_.find(c);
    if (it != conns_.end()) {
      graveyard_.push_back(std::move(it->second));
      conns_.erase(it);
    }
  }

  // `read_now`: an event already reported bytes to read (see TryWrite).
  void Connected(Attempt* a, bool read_now) {
    ++counters_.connections_opened;
    a->stage = Stage::kWriting;
    TryWrite(a, read_now);
  }

  void OnEvent(Conn* c, uint32_t events) {
    if (c->fd < 0) return;  // Closed.
    constexpr uint32_t kPeerEnd = EPOLLRDHUP | EPOLLHUP | EPOLLERR;
    if (c->attempt == nullptr) {
      // Idle: bytes, an end or an error (not room to write, which the
      // last request's acknowledgement may bring) mean it is not reusable.
      if (events & (EPOLLIN | kPeerEnd)) c->peer_acted = true;
      return;
    }
    OnAttemptEvent(c, events);
    // The answer was read and the connection kept, but the same event
    // told that the server had ended (or broken) it too.
    if (c->fd >= 0 && c->attempt == nullptr && (events & kPeerEnd)) {
      c->peer_acted = true;
    }
  }

  void OnAttemptEvent(Conn* c, uint32_t events) {
    Attempt* a = c->attempt;
    // The mask is the socket's state when the event was fetched: bytes
    // (or an end, or an error) to read. Without them a recv would only
    // say EAGAIN; new bytes raise a new event (edge-triggered).
    const bool readable =
        (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    switch (a->stage) {
      case Stage::kConnecting: {
        if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
          err = errno;
        }
        if (err == 0) return Connected(a, readable);
        Close(c);
        a->conn = nullptr;
        a->last_connect_error = ConnectErrorKind(err);
        if (a->last_connect_error == AttemptError::kTimeout) {
          return Finish(a, AttemptResult{AttemptError::kTimeout, 0});
        }
        return ConnectNext(a);
      }
      case Stage::kWriting:
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) TryWrite(a, readable);
        return;
      case Stage::kReading:
        // An event with EPOLLOUT alone (the request's bytes acknowledged)
        // has nothing to read.
        if (readable) TryRead(a);
        return;
    }
  }

  // Writes what is left of the request; once all is written, reads the
  // answer at once if `read_now` (an event fetched for this connection
  // reported bytes to read: that edge is spent), else waits for the event
  // the answer's bytes raise.
  void TryWrite(Attempt* a, bool read_now) {
    const std::string_view head = a->head;
    const std::string_view body = a->job.request.body;
    const size_t total = head.size() + body.size();
    // Bounded: every round sends bytes, or ends this try.
    while (a->sent < total) {
      iovec iov[2];
      int count = 0;
      if (a->sent < head.size()) {
        iov[count++] = {const_cast<char*>(head.data() + a->sent),
                        head.size() - a->sent};
        if (!body.empty()) {
          iov[count++] = {const_cast<char*>(body.data()), body.size()};
        }
      } else {
        const size_t off = a->sent - head.size();
        iov[count++] = {const_cast<char*>(body.data() + off),
                        body.size() - off};
      }
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<size_t>(count);
      const ssize_t n = sendmsg(a->conn->fd, &msg, MSG_NOSIGNAL);
      if (n > 0) {
        a->sent += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      const int err = n < 0 ? errno : EPIPE;
      if (a->reused && !a->resent && a->sent == 0) {
        // The server closed the kept connection before reading a byte of
        // this request: it cannot have seen it, so send it on a new one.
        ++counters_.stale_connections;
        Close(a->conn);
        a->conn = nullptr;
        a->reused = false;
        a->resent = true;
        return ConnectNext(a);
      }
      return Finish(a, AttemptResult{SocketErrorKind(err), 0});
    }
    a->stage = Stage::kReading;
    if (read_now) TryRead(a);
  }

  void TryRead(Attempt* a) {
    // Bounded: the parser ends an answer within its caps (head, chunk
    // lines, drained body), and each round feeds it bytes or stops.
    while (true) {
      const ssize_t n =
          recv(a->conn->fd, recv_buf_.data(), recv_buf_.size(), 0);
      HttpAnswerParser::State state;
      if (n > 0) {
        state = a->parser.Feed(
            std::string_view(recv_buf_.data(), static_cast<size_t>(n)));
      } else if (n == 0) {
        state = a->parser.OnEof();
      } else if (errno == EINTR) {
        continue;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return;
      } else {
        return Finish(a, AttemptResult{SocketErrorKind(errno), 0});
      }
      if (state == HttpAnswerParser::State::kNeedMore) continue;
      const bool keep = a->parser.keep_alive();
      return Finish(a, a->parser.result(), keep);
    }
  }

  void ExpireTimers() {
    const Deadline now = SteadyClock::now();
    if (EarliestDeadline() > now) return;
    // In deadline order (then slot order). Bounded by the slots.
    std::vector<std::pair<Deadline, size_t>> due;
    for (size_t i = 0; i < deadlines_.size(); ++i) {
      if (deadlines_[i] <= now) due.emplace_back(deadlines_[i], i);
    }
    std::sort(due.begin(), due.end());
    for (const auto& [deadline, slot] : due) {
      Finish(attempts_[slot].get(), AttemptResult{AttemptError::kTimeout, 0});
    }
  }

  // Ends the attempt: keeps or closes its connection, queues its
  // completion and frees its slot.
  void Finish(Attempt* a, AttemptResult result, bool keep = false) {
    deadlines_[a->slot] = Deadline::max();
    if (Conn* c = a->conn) {
      if (keep) {
        PutIdle(c);
      } else {
        Close(c);
      }
      a->conn = nullptr;
    }
    completions_.push_back(AttemptCompletion{std::move(a->job.done), result});
    a->job = HttpIoJob{};
    a->addresses.reset();
    free_.push_back(a);
    unfinished_.fetch_sub(1, std::memory_order_relaxed);
  }

  EventLoop& clock_;
  AddressCache& addresses_;
  HttpClientCounters& counters_;
  HttpIoLoopOptions options_;
  const int wake_fd_;
  std::atomic<size_t>& unfinished_;  // HttpIoLoop::unfinished_.
  int epoll_fd_ = -1;

  std::vector<std::unique_ptr<Attempt>> attempts_;  // `slots` of them.
  // Each slot's deadline while its attempt is in flight, else max().
  std::vector<Deadline> deadlines_;
  std::vector<Attempt*> free_;
  // Waiting jobs from waiting_head_ on; bounded by the transport's queue
  // cap. A vector (its capacity reused), not a deque: no allocation per
  // few jobs.
  std::vector<HttpIoJob> waiting_;
  size_t waiting_head_ = 0;
  // Parsed targets (FindRoute), looked up by the request's string_view.
  struct RouteHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const {
      return std::hash<std::string_view>()(s);
    }
  };
  std::unordered_map<std::string, Route, RouteHash, std::equal_to<>> routes_;
  std::unordered_map<Conn*, std::unique_ptr<Conn>> conns_;
  std::vector<std::unique_ptr<Conn>> graveyard_;
  std::map<std::string, std::vector<Conn*>> idle_;
  std::vector<AttemptCompletion> completions_;
  std::string recv_buf_;
  // See CheckIdleConnections: events fetched while idle connections were
  // looked at, for connections in use; and whether this StartWaiting pass
  // has looked.
  std::vector<epoll_event> deferred_;
  std::vector<epoll_event> deferred_handling_;
  bool idle_checked_ = false;
};

HttpIoLoop::HttpIoLoop(EventLoop& clock, AddressCache& addresses,
                       HttpClientCounters& counters, HttpIoLoopOptions options)
    : clock_(clock), in_loop_(options.in_clock_loop) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) Die("HttpIoLoop: eventfd");
  state_ = std::make_unique<State>(clock, addresses, counters, options,
                                   wake_fd_, unfinished_);
  // Another poller on this clock (a second transport): a thread of its own.
  if (in_loop_ && !clock_.SetPoller(this)) in_loop_ = false;
  if (!in_loop_) {
    thread_ = std::thread([this] { Run(); });
  }
}

HttpIoLoop::~HttpIoLoop() {
  Stop();
  state_.reset();
  close(wake_fd_);
}

void HttpIoLoop::Run() {
  // Runs until Stop(); every round is bounded by epoll_wait's batch.
  while (!stop_.load(std::memory_order_acquire)) {
    state_->PollOnce(std::chrono::steady_clock::time_point::max(), stop_,
                     inbox_);
  }
}

void HttpIoLoop::Poll(std::chrono::steady_clock::time_point until) {
  if (stop_.load(std::memory_order_acquire)) return;
  state_->PollOnce(until, stop_, inbox_);
}

void HttpIoLoop::Wake() {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, 8);
}

void HttpIoLoop::Submit(HttpIoJob job) {
  unfinished_.fetch_add(1, std::memory_order_relaxed);
  if (in_loop_) {
    state_->Enqueue(std::move(job));
    return;
  }
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(inbox_.mu);
    inbox_.jobs.push_back(std::move(job));
    wake = !inbox_.wake_pending && !inbox_.slots_full;
    if (wake) inbox_.wake_pending = true;
  }
  if (wake) {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, 8);
  }
}

void HttpIoLoop::Stop() {
  if (stop_.exchange(true)) return;
  if (in_loop_) {
    clock_.SetPoller(nullptr);
  } else {
    Wake();
    thread_.join();
  }
  std::lock_guard<std::mutex> lock(inbox_.mu);
  inbox_.jobs.clear();
}

}  // namespace hooksim
