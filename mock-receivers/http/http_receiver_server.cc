#include "mock-receivers/http/http_receiver_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "mock-receivers/admin_api.h"
#include "mock-receivers/http/connection_faults.h"
#include "mock-receivers/http/event_core.h"
#include "mock-receivers/http/header_order.h"
#include "mock-receivers/http/head_waiter.h"
#include "mock-receivers/http/receiver_metrics.h"
#include "mock-receivers/http/refusal_answer.h"
#include "mock-receivers/http/request_framer.h"
#include "mock-receivers/http/stop_signal.h"
#include "sim/metrics/metrics.h"
#include "sim/os/bind_probe.h"

namespace hooksim {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes a query component ('+' is a space); a malformed escape
// is kept as is.
std::string DecodeQueryComponent(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() &&
               HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      out +=
          static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// The query parameters of a request target ("/p?a=1&b" -> {a: 1, b: ""});
// the first of repeated keys wins; at most 64 parameters.
std::map<std::string, std::string> ParseTargetQuery(std::string_view target) {
  std::map<std::string, std::string> query;
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return query;
  std::string_view rest = target.substr(q + 1);
  const size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  while (!rest.empty() && query.size() < 64) {
    const size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view()
                                         : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    query.emplace(DecodeQueryComponent(pair.substr(0, eq)),
                  eq == std::string_view::npos
                      ? std::string()
                      : DecodeQueryComponent(pair.substr(eq + 1)));
  }
  return query;
}

using SteadyClock = std::chrono::steady_clock;

// A dribbled answer goes out in at most this many parts.
constexpr size_t kDribblePieces = 16;
// Start() waits at most this long for the server to accept connections.
constexpr auto kStartTimeout = std::chrono::seconds(5);
constexpr size_t kReadBufferBytes = 4096;
// A serving thread waits for the next request of its connection itself
// (one wake-up when it comes, as cpp-httplib does) while no other
// connection waits for a thread; it checks for waiting ones this often,
// and then parks its connection in the HeadWaiter.
constexpr auto kPressureCheck = std::chrono::milliseconds(20);

// The connection the current thread serves, set by ReceiverHttpServer for
// the whole of one connection (cpp-httplib runs a connection's requests,
// handlers included, on one thread).
struct Connection {
  int fd = -1;
  // A fault took the connection over: nothing more is read from or
  // written to it, and the keep-alive loop ends and closes it.
  bool taken_over = false;
  // Close after the current answer (an unparsable or refused request: what
  // follows on the connection cannot be trusted to be a request).
  bool close_after = false;
  // The last answer written was a 2xx to this attempt of this delivery
  // (empty key: it was not): a reset from the peer before its next
  // request means the peer never read it (see Serve).
  std::string answered_key;
  int answered_attempt = 0;
  uint64_t id = 0;  // 1, 2, ... in the order the server accepted them.
  // The current request's read ran out of time: at its deadline (the
  // request timeout) or after a wait with no byte (the read timeout). Its
  // refusal is then a 408, not a 400. Cleared per request.
  enum class ReadTimeout { kNone, kRequest, kStall };
  ReadTimeout read_timeout = ReadTimeout::kNone;
};
thread_local Connection* t_connection = nullptr;

// Why a request whose read ran out of time is refused (408).
std::string ReadTimeoutReason(Connection::ReadTimeout why,
                              std::chrono::milliseconds request_timeout,
                              std::chrono::milliseconds read_timeout) {
  if (why == Connection::ReadTimeout::kStall) {
    return "no byte of the request for " +
           std::to_string(read_timeout.count()) + " ms (the read timeout)";
  }
  return "request not complete within the request timeout (" +
         std::to_string(request_timeout.count()) + " ms)";
}

// What is known of a refused request from the bytes of it that arrived
// (request line and header lines, read loosely: it may be cut off or
// malformed), for the journal. The body is never read: body_size is the
// Content-Length it announced, when readable.
JournalEntry RefusedEntry(std::string_view bytes, int status,
                          std::string reason, uint64_t connection) {
  JournalEntry e;
  e.refusal = RefusalForStatus(status);
  e.refusal_reason = std::move(reason);
  e.reply.answer.status = status;
  e.connection = connection;
  e.schema_valid = true;
  constexpr size_t kMaxFields = 100;
  size_t line_no = 0;
  // Bounded by the bytes given and kMaxFields.
  while (!bytes.empty() && e.headers.size() < kMaxFields) {
    size_t end = bytes.find('\n');
    std::string_view line = bytes.substr(0, end);
    bytes = end == std::string_view::npos ? std::string_view()
                                          : bytes.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_no++ == 0) {
      const size_t sp1 = line.find(' ');
      e.method = std::string(line.substr(0, sp1));
      if (sp1 != std::string_view::npos) {
        const std::string_view rest = line.substr(sp1 + 1);
        e.target = std::string(rest.substr(0, rest.find(' ')));
      }
      continue;
    }
    if (line.empty()) break;  // The end of the head.
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    e.headers.push_back({line.substr(0, colon), value});
  }
  for (const JournalHeader& h : e.headers) {
    if (EqualsIgnoreCase(h.name, "Content-Type")) e.content_type = h.value;
    if (EqualsIgnoreCase(h.name, kEventTypeHeader)) e.event_type = h.value;
    if (EqualsIgnoreCase(h.name, kDeliveryIdHeader) && !h.value.empty()) {
      e.delivery_key = h.value;
      e.has_delivery_id = true;
    }
    if (EqualsIgnoreCase(h.name, "Content-Length")) {
      e.body_size = std::strtoull(std::string(h.value).c_str(), nullptr, 10);
      e.body_truncated = e.body_size > 0;
    }
  }
  return e;
}

// poll() on one descriptor, retrying on EINTR; true when an event came.
bool WaitFor(int fd, short events, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (true) {
    pollfd p{fd, events, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - SteadyClock::now());
    const int r =
        poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    if (r > 0) return true;
    if (r == 0 || errno != EINTR) return false;
  }
}

// Answers a refused request (status, {"error": reason}, Connection: close)
// and closes the connection's writing side, then reads and discards what
// the peer still sends, for a bounded time and number of bytes, so the
// answer is not destroyed by the RST a close with unread bytes would send
// (the peer may still be writing the body being refused). Never buffers.
void RefuseAndClose(int fd, int status, const std::string& reason,
                    const std::string& allow,
                    std::chrono::milliseconds timeout) {
  if (!SendAll(fd, RefusalAnswer(status, reason, allow), timeout)) return;
  shutdown(fd, SHUT_WR);
  constexpr size_t kMaxDiscard = 4 << 20;
  constexpr auto kMaxLinger = std::chrono::seconds(2);
  const auto deadline = SteadyClock::now() + kMaxLinger;
  char buf[16384];
  size_t discarded = 0;
  // Bounded by kMaxLinger and kMaxDiscard.
  while (discarded < kMaxDiscard && SteadyClock::now() < deadline) {
    if (!WaitFor(fd, POLLIN, std::chrono::duration_cast<std::chrono::milliseconds>(
                                 deadline - SteadyClock::now()))) {
      break;
    }
    const ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      break;
    }
    discarded += static_cast<size_t>(n);
  }
}

// cpp-httplib's view of one connection: buffered reads, writes that never
// raise SIGPIPE, and nothing at all once a fault has taken the connection
// over.
class ConnectionStream final : public httplib::Stream {
 public:
  ConnectionStream(Connection& connection, std::chrono::milliseconds timeout)
      : connection_(connection), timeout_(timeout) {}

  // A wait that runs out while a request is read marks it timed out (its
  // refusal is then a 408), here and in read().
  bool is_readable() const override {
    if (connection_.taken_over) return false;
    if (PastDeadline()) {
      connection_.read_timeout = Connection::ReadTimeout::kRequest;
      return false;
    }
    if (off_ < pending_.size()) return true;
    const std::chrono::milliseconds wait = Wait();
    if (WaitFor(connection_.fd, POLLIN, wait)) return true;
    MarkTimedOut(wait);
    return false;
  }
  bool is_writable() const override {
    return !connection_.taken_over &&
           WaitFor(connection_.fd, POLLOUT, timeout_);
  }

  // Both try the call first and wait only when the socket is not ready:
  // one system call per read or write on a busy keep-alive connection.
  ssize_t read(char* ptr, size_t size) override {
    if (connection_.taken_over) return -1;
    if (off_ < pending_.size()) return FromBuffer(ptr, size);
    // A request that goes on past its deadline or its byte budget (a
    // trickled body, endless headers) is cut off: the library then
    // refuses it and the connection is closed.
    if (PastDeadline()) {
      connection_.read_timeout = Connection::ReadTimeout::kRequest;
      return -1;
    }
    if (read_budget_ == 0) return -1;
    pending_.resize(std::min(kReadBufferBytes, read_budget_));
    ssize_t n = Retry([&] {
      return recv(connection_.fd, pending_.data(), pending_.size(),
                  MSG_DONTWAIT);
    });
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const std::chrono::milliseconds wait = Wait();
      if (!WaitFor(connection_.fd, POLLIN, wait)) {
        n = -1;
        MarkTimedOut(wait);
      } else
        n = Retry([&] {
          return recv(connection_.fd, pending_.data(), pending_.size(),
                      MSG_DONTWAIT);
        });
    }
    pending_.resize(n > 0 ? static_cast<size_t>(n) : 0);
    off_ = 0;
    if (n <= 0) return n;
    read_budget_ -= static_cast<size_t>(n);
    return FromBuffer(ptr, size);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (connection_.taken_over) return -1;
    ssize_t n = Retry([&] {
      return send(connection_.fd, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    });
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitFor(connection_.fd, POLLOUT, timeout_)) return -1;
      n = Retry([&] {
        return send(connection_.fd, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT);
      });
    }
    return n;
  }

  // The library asks for every request: asked of the kernel once per
  // connection.
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    if (peer_port_ < 0) {
      SocketAddress(connection_.fd, /*peer=*/true, peer_ip_, peer_port_);
    }
    ip = peer_ip_;
    port = peer_port_;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    SocketAddress(connection_.fd, /*peer=*/false, ip, port);
  }
  socket_t socket() const override { return connection_.fd; }

  // Bytes read from the connection before this stream (by a HeadWaiter).
  void Preload(std::string bytes) {
    pending_ = std::move(bytes);
    off_ = 0;
  }
  // The bytes read and not parsed yet (the start of a next request).
  std::string TakeUnread() {
    std::string rest = pending_.substr(std::min(off_, pending_.size()));
    pending_.clear();
    off_ = 0;
    return rest;
  }
  // Bounds the reads of the request being served: none after `deadline`,
  // at most `budget` bytes read from the socket. Cleared by ClearLimits.
  void LimitRequest(SteadyClock::time_point deadline, size_t budget) {
    deadline_ = deadline;
    read_budget_ = budget;
  }
  void ClearLimits() {
    deadline_.reset();
    read_budget_ = SIZE_MAX;
  }
  // The request's byte budget is spent (a read failed for want of it).
  bool budget_spent() const { return read_budget_ == 0; }

  enum class NextHead { kReady, kPark, kClosed, kReset };
  // Whether the next request's head is here whole (serve it now), not yet
  // (park the connection), or will never come (the peer closed, a stop, or
  // `idle` passed without a byte). Waits for a first byte until `idle`
  // passes or `parking_wanted()` (checked every kPressureCheck) says to
  // park; a head begun but incomplete is parked at once.
  template <typename ParkingWanted>
  NextHead AwaitHead(std::chrono::milliseconds idle, int wake_fd,
                     size_t max_head, std::string& peek,
                     ParkingWanted parking_wanted) {
    const std::string_view unread =
        std::string_view(pending_).substr(std::min(off_, pending_.size()));
    if (HasCompleteHead(unread) || unread.size() >= max_head) {
      return NextHead::kReady;
    }
    if (!unread.empty()) return NextHead::kPark;
    const auto deadline = SteadyClock::now() + idle;
    peek.resize(std::max<size_t>(max_head, 1));
    while (true) {
      const ssize_t n = Retry([&] {
        return recv(connection_.fd, peek.data(), peek.size(),
                    MSG_PEEK | MSG_DONTWAIT);
      });
      if (n == 0) return NextHead::kClosed;
      if (n < 0 && errno == ECONNRESET) return NextHead::kReset;
      if (n > 0) {
        const std::string_view got(peek.data(), static_cast<size_t>(n));
        return HasCompleteHead(got) || got.size() >= max_head
                   ? NextHead::kReady
                   : NextHead::kPark;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) return NextHead::kClosed;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - SteadyClock::now());
      if (left.count() <= 0) return NextHead::kClosed;
      if (parking_wanted()) return NextHead::kPark;
      pollfd fds[2] = {{connection_.fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
      const int r = poll(fds, wake_fd >= 0 ? 2 : 1,
                         static_cast<int>(std::min(left, kPressureCheck).count()));
      if (r < 0 && errno != EINTR) return NextHead::kClosed;
      if (r > 0 && wake_fd >= 0 && (fds[1].revents & POLLIN)) {
        return NextHead::kClosed;
      }
    }
  }

 private:
  template <typename Call>
  static ssize_t Retry(Call call) {
    ssize_t n;
    do {
      n = call();
    } while (n < 0 && errno == EINTR);
    return n;
  }

  ssize_t FromBuffer(char* ptr, size_t size) {
    const size_t n = std::min(size, pending_.size() - off_);
    std::memcpy(ptr, pending_.data() + off_, n);
    off_ += n;
    return static_cast<ssize_t>(n);
  }

  bool PastDeadline() const {
    return deadline_ && SteadyClock::now() >= *deadline_;
  }
  // After a wait of `wait` ran out while a request is read (a deadline is
  // set): whether it ended at the request's deadline or at the per-wait
  // timeout (poll's millisecond rounding may end the former a little
  // before the deadline itself).
  void MarkTimedOut(std::chrono::milliseconds wait) const {
    if (!deadline_) return;
    connection_.read_timeout = wait < timeout_ || PastDeadline()
                                   ? Connection::ReadTimeout::kRequest
                                   : Connection::ReadTimeout::kStall;
  }
  // The per-wait timeout, shortened to the request's deadline.
  std::chrono::milliseconds Wait() const {
    if (!deadline_) return timeout_;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        *deadline_ - SteadyClock::now());
    return std::clamp(left, std::chrono::milliseconds(0), timeout_);
  }

  Connection& connection_;
  std::chrono::milliseconds timeout_;
  std::string pending_;  // Read from the socket; [off_, size) not parsed.
  size_t off_ = 0;
  std::optional<SteadyClock::time_point> deadline_;
  size_t read_budget_ = SIZE_MAX;
  mutable std::string peer_ip_;  // Set with peer_port_ >= 0.
  mutable int peer_port_ = -1;
};

// What ServerTraffic reports, counted as it happens (relaxed atomics: the
// figures are read after the fact or as a snapshot).
class TrafficTally {
 public:
  // A connection arrived; false when it is over `max` open ones (then it
  // is counted as such and must be closed).
  bool Admit(std::atomic<size_t>& open, size_t max) {
    const size_t before = open.fetch_add(1, std::memory_order_relaxed);
    if (before >= max) {
      open.fetch_sub(1, std::memory_order_relaxed);
      over_limit_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    connections_.fetch_add(1, std::memory_order_relaxed);
    size_t peak = peak_.load(std::memory_order_relaxed);
    // Bounded: each failed exchange sees a larger peak.
    while (before + 1 > peak &&
           !peak_.compare_exchange_weak(peak, before + 1,
                                        std::memory_order_relaxed)) {
    }
    return true;
  }
  void Refused(int status) {
    refused_[static_cast<size_t>(std::clamp(status, 0, 599))].fetch_add(
        1, std::memory_order_relaxed);
  }
  ServerTraffic Snapshot() const {
    ServerTraffic t;
    t.peak_open_connections = peak_.load(std::memory_order_relaxed);
    t.connections = connections_.load(std::memory_order_relaxed);
    t.connections_over_limit = over_limit_.load(std::memory_order_relaxed);
    for (size_t i = 0; i < refused_.size(); ++i) {
      const uint64_t n = refused_[i].load(std::memory_order_relaxed);
      if (n != 0) t.refused[static_cast<int>(i)] = n;
    }
    return t;
  }

 private:
  std::atomic<size_t> peak_{0};
  std::atomic<uint64_t> connections_{0};
  std::atomic<uint64_t> over_limit_{0};
  std::array<std::atomic<uint64_t>, 600> refused_{};
};

// The serving threads: cpp-httplib's ThreadPool with a bounded queue (the
// accept thread and the HeadWaiter block while it is full) and a count of
// waiting jobs, so a serving thread can tell that others are waiting.
class ServingPool final : public httplib::TaskQueue {
 public:
  ServingPool(size_t threads, size_t max_queued) : max_queued_(max_queued) {
    for (size_t i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { Work(); });
    }
  }
  ~ServingPool() override = default;

  void enqueue(std::function<void()> fn) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      not_full_.wait(lock,
                     [&] { return jobs_.size() < max_queued_ || shutdown_; });
      jobs_.push_back(std::move(fn));
      queued_.store(jobs_.size(), std::memory_order_relaxed);
      // Under the lock: shutdown() takes it before the pool is destroyed,
      // so this signal is ordered before the condition's destruction (the
      // HeadWaiter thread enqueues, cpp-httplib's listen thread destroys).
      not_empty_.notify_one();
    }
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      shutdown_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  size_t queued() const { return queued_.load(std::memory_order_relaxed); }

 private:
  void Work() {
    while (true) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        not_empty_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;  // Shut down, and every job done.
        fn = std::move(jobs_.front());
        jobs_.pop_front();
        queued_.store(jobs_.size(), std::memory_order_relaxed);
      }
      not_full_.notify_one();
      fn();
    }
  }

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<std::function<void()>> jobs_;  // Guarded by mu_.
  bool shutdown_ = false;                   // Guarded by mu_.
  std::atomic<size_t> queued_{0};
  std::vector<std::thread> threads_;
};

// cpp-httplib's Server with its per-connection loop replaced by one that
// tells the handlers which connection they serve (t_connection) and that
// a stop wakes at once. Requests are still parsed, routed and answered by
// the library (Server::process_request).
class ReceiverHttpServer final : public httplib::Server {
 public:
  // mark_abandoned(key, attempt): the peer never read a 2xx written to it.
  // metrics and tally (borrowed, outlive the server) count refused
  // requests; tally also the connections. on_refused(entry): a request
  // refused before the behaviour, for the journal.
  ReceiverHttpServer(const HttpReceiverOptions& options, StopSignal& stop,
                     std::function<void(std::string_view, int)> mark_abandoned,
                     std::function<void(JournalEntry)> on_refused,
                     ReceiverMetrics& metrics, TrafficTally& tally)
      : options_(options),
        stop_(stop),
        mark_abandoned_(std::move(mark_abandoned)),
        on_refused_(std::move(on_refused)),
        metrics_(metrics),
        tally_(tally),
        waiter_(
            HeadWaiterOptions{options.max_head_bytes,
                              options.keep_alive_timeout,
                              options.header_timeout},
            [this](ParkedConnection c) {
              // Serving threads exist: only connections they parked come
              // here, and the waiter is stopped before they are joined.
              ServingPool* pool = pool_.load(std::memory_order_acquire);
              pool->enqueue([this, c = std::move(c)]() mutable {
                Serve(std::move(c));
              });
            },
            [this] { open_.fetch_sub(1, std::memory_order_relaxed); },
            [this](const ParkedConnection& c) {
              metrics_.CountRefused(408);
              tally_.Refused(408);
              on_refused_(RefusedEntry(
                  c.buffered, 408,
                  "request head not complete within the header timeout",
                  c.id));
            }) {
    const size_t threads = std::max<size_t>(1, options.threads);
    const size_t max_queued = std::max<size_t>(1, options.max_connections);
    new_task_queue = [this, threads, max_queued] {
      auto* pool = new ServingPool(threads, max_queued);
      pool_.store(pool, std::memory_order_release);
      return pool;
    };
  }

  Status StartWaiter() { return waiter_.Start(); }

  // The event core's mode (see HttpReceiverServer's header comment): no
  // listening here; connections come by HandOff, one request each, and
  // go back through give_back(fd, unread bytes, requests left, id,
  // answered key, answered attempt). Call before HandOff.
  using GiveBack = std::function<void(int, std::string, size_t, uint64_t,
                                      std::string, int)>;
  // False (errno set) when no placeholder socket could be made.
  bool StartHandOffs(GiveBack give_back) {
    // cpp-httplib reads "not shutting down" (streamed answers go on, the
    // connection loop goes on) as a valid listening socket: a placeholder
    // socket that never listens stands for it until StopHandOffs.
    const int placeholder = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (placeholder < 0) return false;
    svr_sock_ = placeholder;
    give_back_ = std::move(give_back);
    own_pool_ = std::make_unique<ServingPool>(
        std::max<size_t>(1, options_.threads),
        std::max<size_t>(1, options_.max_connections));
    pool_.store(own_pool_.get(), std::memory_order_release);
    return true;
  }
  // Serves the request in c.buffered on a serving thread (c.fd admitted
  // and counted in open_connections()).
  void HandOff(ParkedConnection c) {
    own_pool_->enqueue(
        [this, c = std::move(c)]() mutable { Serve(std::move(c)); });
  }
  // Runs `job` on a serving thread (event mode).
  void RunOnServingThread(std::function<void()> job) {
    own_pool_->enqueue(std::move(job));
  }
  // Joins the serving threads (event mode), after every job is done.
  void StopHandOffs() {
    if (!own_pool_) return;
    const int placeholder = svr_sock_.exchange(INVALID_SOCKET);
    own_pool_->shutdown();
    if (placeholder != INVALID_SOCKET) close(placeholder);
  }
  std::atomic<size_t>& open_counter() { return open_; }
  // Connections admitted and not yet closed.
  size_t open_connections() const {
    return open_.load(std::memory_order_relaxed);
  }
  // Closes the parked connections; call before stopping the server, so no
  // parked connection is handed to serving threads being joined.
  void StopWaiter() { waiter_.Stop(); }

  // cpp-httplib 0.11 listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG,
  // compiled into the shared library). When more connections arrive at
  // once than the accept thread takes in time (a transport opens one per
  // worker, 16 by default), Linux drops the excess handshakes: the client
  // believes it is connected, sends its request, and the server sees it only
  // after a SYN-ACK retransmission a second or more later, long after a
  // scaled timeout, so the sender logs an attempt the receiver never got.
  // listen() again on the bound socket widens the queue (capped by
  // net.core.somaxconn). Call after binding, before serving. On failure
  // (errno set) the listening socket is closed.
  bool WidenListenBacklog() {
    if (::listen(svr_sock_, SOMAXCONN) == 0) return true;
    const int err = errno;
    close(svr_sock_.exchange(INVALID_SOCKET));
    errno = err;
    return false;
  }

 private:
  // A new connection (on a serving thread): admitted under
  // max_connections, then served like a parked one.
  bool process_and_close_socket(socket_t sock) override {
    if (!tally_.Admit(open_, options_.max_connections)) {
      close(sock);
      return false;
    }
    const int one = 1;  // Also inherited from the listener; made sure of.
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    Serve(ParkedConnection{
        sock, {}, std::max<size_t>(1, options_.keep_alive_max_requests), {},
        next_id_.fetch_add(1, std::memory_order_relaxed) + 1});
    return true;
  }

  // Serves the requests of one connection whose heads are here, then parks
  // it (no next head yet) or closes it.
  void Serve(ParkedConnection parked) {
    const int sock = parked.fd;
    Connection connection;
    connection.fd = sock;
    connection.id = parked.id;
    ConnectionStream stream(connection, options_.io_timeout);
    stream.Preload(std::move(parked.buffered));
    thread_local std::string peek;
    t_connection = &connection;
    bool park = false;
    // Bytes one request may take: its head, its body, and room for chunk
    // framing.
    const size_t budget =
        options_.max_head_bytes + 2 * options_.max_body_bytes + (64 << 10);
    // Bounded by the keep-alive request limit.
    size_t left = parked.requests_left;
    bool give_back = false;
    bool served = false;
    for (; left > 0; --left) {
      if (svr_sock_ == INVALID_SOCKET || stop_.raised()) break;
      if (served && give_back_) {  // Event mode: one request, then back.
        give_back = true;
        break;
      }
      served = true;
      ServingPool* pool = pool_.load(std::memory_order_acquire);
      const auto next = stream.AwaitHead(
          options_.keep_alive_timeout, stop_.fd(), options_.max_head_bytes,
          peek, [pool] { return pool != nullptr && pool->queued() > 0; });
      if (next == ConnectionStream::NextHead::kPark) {
        park = true;
        break;
      }
      if (next == ConnectionStream::NextHead::kReset) {
        // The peer closed with bytes unread: the last answer among them.
        AbandonAnswered(connection);
        break;
      }
      if (next == ConnectionStream::NextHead::kClosed) break;
      connection.answered_key.clear();
      connection.read_timeout = Connection::ReadTimeout::kNone;
      stream.LimitRequest(SteadyClock::now() + options_.request_timeout,
                          budget);
      // The head (and a chunked body) checked and re-framed before
      // cpp-httplib reads them: what it would accept wrongly is refused
      // here, and the connection closed.
      if (!FrameRequest(connection, stream)) break;
      bool connection_closed = false;
      const bool ok = process_request(stream, /*close_connection=*/left == 1,
                                      connection_closed, nullptr);
      stream.ClearLimits();
      if (!ok) AbandonAnswered(connection);  // The answer was not written.
      if (!ok || connection_closed || connection.taken_over ||
          connection.close_after) {
        break;
      }
    }
    t_connection = nullptr;
    if (give_back && !connection.taken_over) {
      give_back_(sock, stream.TakeUnread(), left, connection.id,
                 std::move(connection.answered_key),
                 connection.answered_attempt);
      return;
    }
    if (park && !connection.taken_over) {
      ParkedConnection parked_again{sock, stream.TakeUnread(), left, {},
                                    connection.id};
      if (!connection.answered_key.empty()) {
        parked_again.on_reset = [this, key = std::move(connection.answered_key),
                                 attempt = connection.answered_attempt] {
          mark_abandoned_(key, attempt);
        };
      }
      waiter_.Park(std::move(parked_again));
      return;
    }
    // After a reset the number names a harmless replacement socket; after
    // other faults the connection is already shut down.
    if (!connection.taken_over) shutdown(sock, SHUT_RDWR);
    close(sock);
    open_.fetch_sub(1, std::memory_order_relaxed);
  }

  void AbandonAnswered(Connection& connection) {
    if (connection.answered_key.empty()) return;
    mark_abandoned_(connection.answered_key, connection.answered_attempt);
    connection.answered_key.clear();
  }

  // Reads the next request's framing (RequestFramer) and leaves the
  // request, as cpp-httplib is to parse it, in `stream`. False when the
  // connection is to be closed: the request was refused (the refusal was
  // answered), or the peer closed, timed out or spent the byte budget.
  bool FrameRequest(Connection& connection, ConnectionStream& stream) {
    RequestFramer framer(RequestFramerLimits{
        options_.max_head_bytes, options_.max_headers, options_.max_body_bytes});
    FramerState state = framer.Feed(stream.TakeUnread());
    char buf[16384];
    // Bounded by the request's deadline and byte budget (stream.read).
    while (state == FramerState::kNeedMore) {
      if (framer.wants_continue()) {
        framer.ContinueSent();
        if (!SendAll(connection.fd, "HTTP/1.1 100 Continue\r\n\r\n",
                     options_.io_timeout)) {
          return false;
        }
      }
      const ssize_t n = stream.read(buf, sizeof(buf));
      if (n <= 0) {
        if (connection.read_timeout != Connection::ReadTimeout::kNone) {
          RefuseFramed(connection, framer, 408,
                       ReadTimeoutReason(connection.read_timeout,
                                         options_.request_timeout,
                                         options_.io_timeout),
                       "");
          return false;
        }
        if (!stream.budget_spent()) return false;
        state = FramerState::kBodyTooLarge;
        break;
      }
      state = framer.Feed(std::string_view(buf, static_cast<size_t>(n)));
    }
    if (state == FramerState::kReady) {
      stream.Preload(framer.TakeRequest());
      return true;
    }
    const int status = FramerStatus(state);
    std::string reason = framer.reason();
    if (reason.empty()) reason = "request larger than its byte budget";
    std::string allow;
    if (state == FramerState::kMethodNotAllowed) {
      allow = AdminAllow(framer.target());
      if (allow.empty()) allow = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";
    }
    RefuseFramed(connection, framer, status, reason, allow);
    return false;
  }

  // Counts, journals and answers a request refused while being framed,
  // and takes the connection over (it is closed).
  void RefuseFramed(Connection& connection, const RequestFramer& framer,
                    int status, const std::string& reason,
                    const std::string& allow) {
    connection.taken_over = true;
    metrics_.CountRefused(status);
    tally_.Refused(status);
    on_refused_(RefusedEntry(framer.SeenBytes(options_.max_head_bytes), status,
                             reason, connection.id));
    RefuseAndClose(connection.fd, status, reason, allow, options_.io_timeout);
  }

  const HttpReceiverOptions& options_;
  StopSignal& stop_;
  const std::function<void(std::string_view, int)> mark_abandoned_;
  const std::function<void(JournalEntry)> on_refused_;
  ReceiverMetrics& metrics_;
  TrafficTally& tally_;
  std::atomic<uint64_t> next_id_{0};  // Connections accepted so far.
  std::atomic<ServingPool*> pool_{nullptr};
  std::atomic<size_t> open_{0};  // Connections admitted and not closed.
  GiveBack give_back_;                   // Event mode only.
  std::unique_ptr<ServingPool> own_pool_;  // Event mode only.
  HeadWaiter waiter_;
};

std::string JsonBody(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The body of a plain answer, {"ok":true} for 2xx and {"status":N}
// otherwise, as JsonBody would write them: written without building a JSON
// value, for it is every answer's.
const std::string& PlainAnswerBody(int status) {
  static const std::string ok = R"({"ok":true})";
  if (status < 300) return ok;
  thread_local std::string body;
  body.assign(R"({"status":)").append(std::to_string(status)).push_back('}');
  return body;
}

// The headers and body of the answer to `reply` (its status is the
// caller's), as both server cores write them: header(name, value) for each
// header, content(body, content_type) at most once.
template <typename Header, typename Content>
void ComposeAnswer(const Reply& reply, Header header, Content content) {
  const int status = reply.answer.status;
  const AnswerExtras* extras = reply.answer.extras.get();
  if (status >= 300 && status < 400 &&
      (!extras || extras->FindHeader("Location").empty())) {
    header("Location", kRedirectLocation);
  }
  static const std::string kJson = "application/json";
  static const std::string kText = "text/plain; charset=utf-8";
  const std::string* content_type = &kJson;
  if (extras) {
    // The parser refused CR/LF, framing headers and bad names.
    for (const AnswerHeader& h : extras->headers) {
      if (EqualsIgnoreCase(h.name, "Content-Type")) {
        content_type = &h.value;
      } else {
        header(h.name, h.value);
      }
    }
  }
  // 1xx, 204 and 304 carry no body.
  const bool may_have_body = status >= 200 && status != 204 && status != 304;
  if (extras && extras->body_kind != AnswerBodyKind::kDefault) {
    if (may_have_body) {
      if (extras->FindHeader("Content-Type").empty() &&
          extras->body_kind == AnswerBodyKind::kText) {
        content_type = &kText;
      }
      content(extras->body, *content_type);
    }
  } else if (reply.signature != SignatureVerdict::kNotChecked &&
      reply.signature != SignatureVerdict::kValid) {
    // Why the signature was refused, in a word ("missing", "bad", "stale").
    content(
        JsonBody({{"status", status},
                  {"signature",
                   std::string(SignatureVerdictName(reply.signature))}}),
        "application/json");
  } else if (may_have_body) {
    content(PlainAnswerBody(status), *content_type);
  } else if (extras && !extras->FindHeader("Content-Type").empty()) {
    header("Content-Type", *content_type);
  }
}

// The whole answer of a dribble, written by hand (status line included) so
// every byte of it can be spread over the latency.
std::string DribbleAnswer(int status, bool head) {
  const std::string body = JsonBody(nlohmann::json{{"ok", true}});
  std::string out = "HTTP/1.1 " + std::to_string(status) +
                    (status == 200 ? " OK" : " Dribbled") + "\r\n";
  out += "Content-Type: application/json\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n";
  if (!head) out += body;
  return out;
}

// cpp-httplib 0.11's reason phrases (its status_message), so the event
// core's answers read as the threaded core's.
const char* HttplibStatusMessage(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocol";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 207: return "Multi-Status";
    case 208: return "Already Reported";
    case 226: return "IM Used";
    case 300: return "Multiple Choice";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 306: return "unused";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 418: return "I'm a teapot";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Entity";
    case 423: return "Locked";
    case 424: return "Failed Dependency";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 451: return "Unavailable For Legal Reasons";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 506: return "Variant Also Negotiates";
    case 507: return "Insufficient Storage";
    case 508: return "Loop Detected";
    case 510: return "Not Extended";
    case 511: return "Network Authentication Required";
    default: return "Internal Server Error";
  }
}

// An answer as cpp-httplib 0.11's write_response would write it.
struct WireAnswer {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool has_body = false;  // set_content was called (also with "").

  void Set(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
  void SetContent(std::string content, const std::string& content_type) {
    body = std::move(content);
    has_body = true;
    std::erase_if(headers, [](const auto& h) {
      return EqualsIgnoreCase(h.first, "Content-Type");
    });
    Set("Content-Type", content_type);
  }
  bool Has(std::string_view name) const {
    for (const auto& h : headers) {
      if (EqualsIgnoreCase(h.first, name)) return true;
    }
    return false;
  }
  // head: a HEAD request (no body written, its length told);
  // close: "Connection: close", else Keep-Alive with max_requests.
  std::string Serialize(bool head, bool close, size_t max_requests) {
    if (!body.empty() && !Has("Content-Length")) {
      Set("Content-Length", std::to_string(body.size()));
    }
    if (close) {
      Set("Connection", "close");
    } else {
      Set("Keep-Alive", "timeout=" +
                            std::to_string(CPPHTTPLIB_KEEPALIVE_TIMEOUT_SECOND) +
                            ", max=" + std::to_string(max_requests));
    }
    if (!Has("Content-Type") && !body.empty()) Set("Content-Type", "text/plain");
    if (!Has("Content-Length") && body.empty()) Set("Content-Length", "0");
    if (head && !Has("Accept-Ranges")) Set("Accept-Ranges", "bytes");
    SortHeadersByName(headers, [](const auto& h) -> std::string_view {
      return h.first;
    });
    std::string out;
    out.reserve(128 + body.size());
    out += "HTTP/1.1 ";
    out += std::to_string(status);
    out += ' ';
    out += HttplibStatusMessage(status);
    out += "\r\n";
    for (const auto& [name, value] : headers) {
      out += name;
      out += ": ";
      out += value;
      out += "\r\n";
    }
    out += "\r\n";
    if (!head) out += body;
    return out;
  }
};

// A listening TCP socket on host:port (SO_REUSEADDR only: a port in use is
// an error), with the widest backlog; -1 and errno on failure.
int ListenOn(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0) {
    errno = EADDRNOTAVAIL;
    return -1;
  }
  int fd = -1;
  int err = 0;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    const int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 &&
        listen(fd, SOMAXCONN) == 0) {
      break;
    }
    err = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(found);
  if (fd < 0) errno = err;
  return fd;
}

// Makes a descriptor blocking again (the threaded core's code expects
// cpp-httplib's blocking sockets).
void SetBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL, 0);
  if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

}  // namespace

const char* ServerCoreName(ServerCore core) {
  switch (core) {
    case ServerCore::kThreads: return "threads";
    case ServerCore::kEvent: return "event";
  }
  return "threads";
}

Result<ServerCore> ParseServerCore(std::string_view name) {
  if (name == "threads") return ServerCore::kThreads;
  if (name == "event") return ServerCore::kEvent;
  return Status::InvalidArgument("server core must be \"threads\" or "
                                 "\"event\", got \"" + std::string(name) +
                                 "\"");
}

ServerCore DefaultServerCore() {
  const char* env = std::getenv("HOOKSIM_RECEIVER_CORE");
  if (env == nullptr) return ServerCore::kEvent;
  Result<ServerCore> core = ParseServerCore(env);
  return core.ok() ? *core : ServerCore::kEvent;
}

class HttpReceiverServer::Impl {
 public:
  Impl(MockReceiver& receiver, HttpReceiverOptions options)
      : receiver_(receiver),
        options_(std::move(options)),
        metrics_(receiver.name()) {}
  ~Impl() { Stop(); }

  Status Start();
  void Stop();
  int port() const { return port_; }
  const std::string& host() const { return options_.host; }
  ServerTraffic traffic() const { return tally_.Snapshot(); }

 private:
  void Serve(const httplib::Request& req, httplib::Response& res);
  void ServeAdmin(const httplib::Request& req, httplib::Response& res);
  void ServeMetrics(httplib::Response& res);
  // False (and 401 in `res`) when an admin token is set and the request
  // does not carry it.
  bool Authorized(const httplib::Request& req, httplib::Response& res);
  void ServeWebhook(const httplib::Request& req, httplib::Response& res);
  // A request refused before the behaviour: journaled, and logged
  // (on_request_end) with its refusal's reason.
  void RecordRefused(JournalEntry entry);
  TimePoint Now() const;
  SteadyClock::duration WallDelay(Duration run_time) const;

  // The event core (ServerCore::kEvent).
  struct EventWebhook;
  Status StartEvent(const std::string& where);
  // Whether the event core serves this request itself (else it is handed
  // to the threaded core's code: admin, /metrics, and what cpp-httplib
  // would read differently).
  bool EventServes(const RequestFramer& framer) const;
  EventAnswer HandleEvent(EventRequest& request);
  // The answer of a webhook request once its latency has passed (or the
  // server stops): the abandoned checks, the socket faults played in the
  // loop, or the answer's bytes.
  EventAnswer AnswerWebhook(EventWebhook& w, bool peer_closed, bool stopping);
  // Logs and counts a webhook request as it ends (see ServeWebhook).
  void FinishWebhook(const EventWebhook& w, bool abandoned);

  MockReceiver& receiver_;
  const HttpReceiverOptions options_;
  ReceiverMetrics metrics_;
  TrafficTally tally_;
  StopSignal stop_;
  std::unique_ptr<ReceiverHttpServer> server_;
  ServerCore core_ = ServerCore::kThreads;
  std::unique_ptr<EventCore> event_;
  std::thread listener_;
  std::atomic<bool> listener_done_{false};
  bool listener_started_ = false;
  SteadyClock::time_point started_at_{};
  int port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

void HttpReceiverServer::Impl::RecordRefused(JournalEntry entry) {
  if (options_.on_request_end) {
    RequestLogRecord record;
    record.ended = std::chrono::system_clock::now();
    record.method = entry.method;
    record.path = std::string_view(entry.target).substr(
        0, std::string_view(entry.target).find('?'));
    record.answer = entry.reply.answer;
    record.refused = entry.refusal_reason;
    record.route = "";
    options_.on_request_end(record);
  }
  receiver_.RecordRefused(std::move(entry), Now());
}

Status HttpReceiverServer::Impl::Start() {
  const std::string where = options_.host + ":" + std::to_string(options_.port);
  if (started_)
    return Status::FailedPrecondition(where +
                                      ": the server was already started");
  started_ = true;
  if (!(options_.time_scale > 0 && options_.time_scale <= 1)) {
    return Status::InvalidArgument("time scale must be in (0, 1], got " +
                                   std::to_string(options_.time_scale));
  }
  if (options_.port < 0 || options_.port > 65535) {
    return Status::InvalidArgument(where + ": port must be 0..65535");
  }
  if (options_.threads == 0)
    return Status::InvalidArgument("threads must be at least 1");
  core_ = options_.core.value_or(DefaultServerCore());
  if (!stop_.valid()) {
    return Status::IoError(std::string("cannot create an eventfd: ") +
                           std::strerror(errno));
  }

  if (options_.max_connections == 0 || options_.max_head_bytes == 0) {
    return Status::InvalidArgument(
        "max_connections and max_head_bytes must be at least 1");
  }

  server_ = std::make_unique<ReceiverHttpServer>(
      options_, stop_,
      [this](std::string_view key, int attempt) {
        receiver_.MarkAbandonedKey(key, attempt);
      },
      [this](JournalEntry entry) { RecordRefused(std::move(entry)); },
      metrics_, tally_);
  httplib::Server& s = *server_;
  if (Status status = server_->StartWaiter(); !status.ok()) {
    return Status(status.code(), where + ": " + status.message());
  }
  s.set_tcp_nodelay(true);
  // cpp-httplib's default also sets SO_REUSEPORT, which lets a second
  // server bind a port already in use (and share its connections): only
  // SO_REUSEADDR here, so a used port is an error.
  s.set_socket_options([](socket_t sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  s.set_keep_alive_max_count(
      std::max<size_t>(1, options_.keep_alive_max_requests));
  s.set_read_timeout(options_.io_timeout);
  s.set_write_timeout(options_.io_timeout);
  s.set_payload_max_length(options_.max_body_bytes);
  const size_t max_body = options_.max_body_bytes;
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [max_body, request_timeout = options_.request_timeout,
       read_timeout = options_.io_timeout,
       this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty())
          return httplib::Server::HandlerResponse::Unhandled;
        // The body stopped coming (for the read timeout, or past the
        // request's deadline): the library calls that a bad request, the
        // receiver a timeout.
        const bool timed_out =
            t_connection != nullptr &&
            t_connection->read_timeout != Connection::ReadTimeout::kNone;
        if (timed_out) res.status = 408;
        metrics_.CountRefused(res.status);
        tally_.Refused(res.status);
        // The library's own refusal (400 unparsable, 413 too large, ...): the
        // rest of the connection's bytes are not a request to trust.
        if (t_connection != nullptr) t_connection->close_after = true;
        res.set_header("Connection", "close");
        std::string message = "HTTP " + std::to_string(res.status);
        if (timed_out) {
          message = ReadTimeoutReason(t_connection->read_timeout,
                                      request_timeout, read_timeout);
        } else if (res.status == 413) {
          message =
              "request body larger than " + std::to_string(max_body) + " bytes";
        } else if (res.status == 400) {
          message = "bad request";
        }
        JournalEntry entry;
        entry.refusal = RefusalForStatus(res.status);
        entry.refusal_reason = message;
        entry.reply.answer.status = res.status;
        entry.method = req.method;
        entry.target = req.target;
        entry.connection = t_connection != nullptr ? t_connection->id : 0;
        for (const auto& [name, value] : req.headers) {
          entry.headers.push_back({name, value});
        }
        RecordRefused(std::move(entry));
        res.set_content(JsonBody({{"error", message}}), "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                             std::exception_ptr ep) {
    std::string what = "unknown error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    res.status = 500;
    res.set_content(JsonBody({{"error", what}}), "application/json");
  });
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    Serve(req, res);
  };
  // Every path, every method cpp-httplib parses (HEAD goes with GET).
  s.Get(".*", handler);
  s.Post(".*", handler);
  s.Put(".*", handler);
  s.Patch(".*", handler);
  s.Delete(".*", handler);
  s.Options(".*", handler);

  if (core_ == ServerCore::kEvent) return StartEvent(where);
  if (options_.port == 0) {
    port_ = s.bind_to_any_port(options_.host);
    if (port_ <= 0) {
      return Status::Unavailable(where + ": " +
                                 DescribeBindFailure(options_.host, 0));
    }
  } else {
    if (!s.bind_to_port(options_.host, options_.port)) {
      return Status::Unavailable(
          where + ": " + DescribeBindFailure(options_.host, options_.port));
    }
    port_ = options_.port;
  }
  if (!server_->WidenListenBacklog()) {
    return Status::Unavailable(
        where + ": cannot widen the listen backlog: " + std::strerror(errno));
  }

  started_at_ = SteadyClock::now();
  listener_started_ = true;
  listener_ = std::thread([this] {
    // Connection threads inherit this mask: signals meant for the process
    // (SIGINT, SIGTERM to a command waiting in sigwait) never land on them,
    // and SIGPIPE cannot kill the process from them.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    server_->listen_after_bind();
    listener_done_ = true;
  });
  // Bounded: kStartTimeout in 1 ms steps.
  const auto deadline = SteadyClock::now() + kStartTimeout;
  while (!server_->is_running()) {
    if (listener_done_ || SteadyClock::now() > deadline) {
      Stop();
      return Status::Unavailable(where + ": the server did not start");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Status::Ok();
}

void HttpReceiverServer::Impl::Stop() {
  if (stopped_ || !server_) return;
  stopped_ = true;
  stop_.Raise();  // Wakes sleeping, hanging and idle keep-alive handlers.
  if (core_ == ServerCore::kEvent) {
    // The loops first (answers still waiting are abandoned), then the
    // serving threads (a connection they give back is closed).
    if (event_) event_->Stop();
    server_->StopWaiter();
    server_->StopHandOffs();
    return;
  }
  server_->StopWaiter();  // Closes parked connections.
  // listen_after_bind may not have set is_running yet; stop() is a no-op
  // then, so retry until the listener has returned (bounded: each pass
  // either stops it or it is about to run).
  for (int i = 0; listener_started_ && i < 5000 && !listener_done_; ++i) {
    server_->stop();
    if (listener_done_) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (listener_.joinable()) listener_.join();
}

TimePoint HttpReceiverServer::Impl::Now() const {
  if (options_.now) return options_.now();
  const std::chrono::duration<double, std::micro> wall =
      SteadyClock::now() - started_at_;
  return TimePoint(
      std::chrono::duration_cast<Duration>(wall / options_.time_scale));
}

SteadyClock::duration HttpReceiverServer::Impl::WallDelay(
    Duration run_time) const {
  const std::chrono::duration<double, std::micro> wall =
      std::chrono::duration<double, std::micro>(run_time.count()) *
      options_.time_scale;
  return std::chrono::duration_cast<SteadyClock::duration>(wall);
}

void HttpReceiverServer::Impl::Serve(const httplib::Request& req,
                                     httplib::Response& res) {
  const auto arrived = SteadyClock::now();
  if (req.path == kMetricsPath && (req.method == "GET" || req.method == "HEAD")) {
    if (Authorized(req, res)) ServeMetrics(res);
    // Counted after rendering: a scrape does not see itself.
    metrics_.CountRequest(
        kMetricsPath, std::to_string(res.status),
        std::chrono::duration<double>(SteadyClock::now() - arrived).count());
  } else if (options_.admin == AdminMode::kOnly) {
    if (IsAdminPath(req.path)) {
      ServeAdmin(req, res);
    } else {
      res.status = 404;
      res.set_content(
          JsonBody({{"error", "this port serves the admin API only (" +
                                  std::string(kAdminPrefix) +
                                  "); send webhooks to the receiver's port"}}),
          "application/json");
    }
    metrics_.CountRequest(
        AdminRouteLabel(req.path), std::to_string(res.status),
        std::chrono::duration<double>(SteadyClock::now() - arrived).count());
  } else if (IsAdminPath(req.path) && options_.admin == AdminMode::kElsewhere) {
    res.status = 404;
    res.set_content(
        JsonBody({{"error",
                   "the admin API is served on its own port "
                   "(--admin-listen), not on the receiver's"}}),
        "application/json");
    metrics_.CountRequest(
        AdminRouteLabel(req.path), std::to_string(res.status),
        std::chrono::duration<double>(SteadyClock::now() - arrived).count());
  } else if (IsAdminPath(req.path)) {
    ServeAdmin(req, res);
    metrics_.CountRequest(
        AdminRouteLabel(req.path), std::to_string(res.status),
        std::chrono::duration<double>(SteadyClock::now() - arrived).count());
  } else {
    ServeWebhook(req, res);
  }
}

void HttpReceiverServer::Impl::ServeMetrics(httplib::Response& res) {
  metrics_.SetOpenConnections(server_->open_connections());
  res.status = 200;
  res.set_content(metrics_.Render(), std::string(kMetricsContentType));
}

// Compares in time independent of where the strings differ.
static bool SameSecret(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

bool HttpReceiverServer::Impl::Authorized(const httplib::Request& req,
                                          httplib::Response& res) {
  if (!options_.admin_token.empty()) {
    const std::string auth = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() <= kBearer.size() ||
        auth.compare(0, kBearer.size(), kBearer) != 0 ||
        !SameSecret(std::string_view(auth).substr(kBearer.size()),
                    options_.admin_token)) {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer realm=\"hooksim admin\"");
      res.set_content(
          JsonBody({{"error",
                     "the admin API needs \"Authorization: Bearer TOKEN\" "
                     "(the receiver's --admin-token)"}}),
          "application/json");
      return false;
    }
  }
  return true;
}

void HttpReceiverServer::Impl::ServeAdmin(const httplib::Request& req,
                                          httplib::Response& res) {
  if (!Authorized(req, res)) return;
  AdminRequest request;
  request.method = req.method;
  request.path = req.path;
  // From the request target only: cpp-httplib also files the fields of a
  // form-encoded body under params, and `curl -d` sends behaviours that way.
  request.query = ParseTargetQuery(req.target);
  request.body = req.body;
  AdminResponse answer = HandleAdminRequest(receiver_, request);
  res.status = answer.status;
  if (!answer.allow.empty()) res.set_header("Allow", answer.allow);
  if (answer.stream) {
    // Streamed (chunked), one part at a time: a large journal page is
    // never held whole in memory.
    res.set_chunked_content_provider(
        answer.content_type,
        [stream = std::move(answer.stream), part = std::string()](
            size_t, httplib::DataSink& sink) mutable {
          part.clear();
          while (part.empty()) {
            if (!stream(part)) {
              sink.done();
              return true;
            }
          }
          return sink.write(part.data(), part.size());
        });
    return;
  }
  res.set_content(std::move(answer.body), answer.content_type);
}

void HttpReceiverServer::Impl::ServeWebhook(const httplib::Request& req,
                                            httplib::Response& res) {
  const auto arrived = SteadyClock::now();
  // Views of req's headers, in a buffer each serving thread reuses.
  thread_local std::vector<Header> headers;
  headers.clear();
  for (const auto& [name, value] : req.headers) {
    headers.push_back(Header{name, value});
  }
  const HttpRequest request{req.method, req.target, headers, req.body, {}};
  int attempt = 0;
  thread_local std::string key;
  HandleFacts facts;
  const Reply reply =
      receiver_.Handle(request, Now(), &attempt, &key, &facts,
                       t_connection != nullptr ? t_connection->id : 0);
  // Logs the request when this function returns, however it ends.
  struct LogOnReturn {
    const std::function<void(const RequestLogRecord&)>& log;
    SteadyClock::time_point arrived;
    RequestLogRecord record;
    ~LogOnReturn() {
      if (!log) return;
      record.ended = std::chrono::system_clock::now();
      record.latency = std::chrono::duration_cast<std::chrono::microseconds>(
          SteadyClock::now() - arrived);
      log(record);
    }
  } logged{options_.on_request_end, arrived, {}};
  if (options_.on_request_end) {
    logged.record.method = req.method;
    logged.record.path = req.path;
    logged.record.delivery = key;
    logged.record.attempt = attempt;
    logged.record.answer = reply.answer;
    logged.record.signature = reply.signature;
    logged.record.scheme = reply.signature_scheme;
    logged.record.route = facts.route;
    logged.record.routed = facts.routed;
  }
  const auto wall = WallDelay(reply.latency);
  const Fault fault = reply.answer.fault;
  if (!facts.schema_valid) metrics_.CountSchemaFailure();
  if (facts.journal_dropped) metrics_.CountJournalDrop();
  if (reply.signature != SignatureVerdict::kNotChecked &&
      reply.signature != SignatureVerdict::kValid) {
    metrics_.CountSignatureFailure();
  }
  // Counted on every way out (the answer as decided, also when the peer
  // left or the server stopped before it was written), timed to then.
  struct CountOnExit {
    ReceiverMetrics& metrics;
    Fault fault;
    int status;
    SteadyClock::time_point arrived;
    ~CountOnExit() {
      const double seconds =
          std::chrono::duration<double>(SteadyClock::now() - arrived).count();
      if (fault == Fault::kNone || fault == Fault::kDribble) {
        metrics.CountWebhook(status, seconds);
      } else {
        metrics.CountRequest(kWebhookRoute, FaultName(fault), seconds);
      }
    }
  } count_on_exit{metrics_, fault, reply.answer.status, arrived};

  Connection* connection = t_connection;
  if (connection == nullptr && fault != Fault::kNone) {
    // Cannot happen: every connection is served by ReceiverHttpServer.
    res.status = 500;
    res.set_content(JsonBody({{"error", "no connection for a socket fault"}}),
                    "application/json");
    return;
  }
  const int fd = connection ? connection->fd : -1;
  const std::chrono::milliseconds io_timeout = options_.io_timeout;

  if (fault == Fault::kHang) {
    connection->taken_over = true;
    // Whatever ended the hang, no answer was ever written.
    HoldUntilPeerCloses(fd, stop_.fd());
    receiver_.MarkAbandoned(request, attempt);
    logged.record.abandoned = true;
    ShutDownConnection(fd);
    return;
  }
  if (fault == Fault::kDribble) {
    connection->taken_over = true;
    const DribbleEnd end = DribbleBytes(
        fd, DribbleAnswer(reply.answer.status, req.method == "HEAD"), wall,
        kDribblePieces, io_timeout,
        [this](SteadyClock::time_point at) { return stop_.WaitUntil(at); });
    if (end != DribbleEnd::kSent) {
      receiver_.MarkAbandoned(request, attempt);
      logged.record.abandoned = true;
    }
    ShutDownConnection(fd);
    return;
  }

  // No latency (the common case under load): no wait, and the peer cannot
  // have given up waiting.
  const bool waited = wall > SteadyClock::duration::zero();
  if (waited ? !stop_.WaitUntil(arrived + wall) : stop_.raised()) {
    // Stopping: close, no answer. The sender never sees this reply (as
    // when it gives up waiting), so it is abandoned: a 2xx that was never
    // written must not count as a success at the receiver.
    receiver_.MarkAbandoned(request, attempt);
    logged.record.abandoned = true;
    if (connection) {
      connection->taken_over = true;
      ShutDownConnection(fd);
    }
    return;
  }
  if (connection && PeerHasClosed(fd)) {
    // The sender stopped waiting (or the receiver was paused past its
    // timeout): nothing to write to, and it never saw this answer.
    receiver_.MarkAbandoned(request, attempt);
    logged.record.abandoned = true;
    connection->taken_over = true;
    ShutDownConnection(fd);
    return;
  }
  switch (fault) {
    case Fault::kReset:
      connection->taken_over = true;
      ResetConnection(fd);
      return;
    case Fault::kEmpty:
      connection->taken_over = true;
      ShutDownConnection(fd);
      return;
    case Fault::kGarbage:
      connection->taken_over = true;
      SendGarbageAndClose(fd, io_timeout);
      return;
    case Fault::kNone:
    case Fault::kHang:
    case Fault::kDribble:
      break;
  }
  const int status = reply.answer.status;
  res.status = status;
  if (connection && status >= 200 && status < 300) {
    // Delivered only if the peer reads it (see ReceiverHttpServer::Serve).
    connection->answered_key = key;
    connection->answered_attempt = attempt;
  }
  ComposeAnswer(
      reply,
      [&res](const std::string& name, const std::string& value) {
        res.set_header(name, value);
      },
      [&res](const std::string& body, const std::string& type) {
        res.set_content(body, type);
      });
}

struct HttpReceiverServer::Impl::EventWebhook {
  std::string method;
  std::string path;
  std::string key;
  std::string route;
  int attempt = 0;
  bool routed = false;
  Reply reply;
  SteadyClock::time_point arrived;
  int fd = -1;
  bool head = false;
  bool close = false;  // Answer with "Connection: close".
};

Status HttpReceiverServer::Impl::StartEvent(const std::string& where) {
  const int listen_fd = ListenOn(options_.host, options_.port);
  if (listen_fd < 0) {
    return Status::Unavailable(
        where + ": " + DescribeBindFailure(options_.host, options_.port));
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = addr.ss_family == AF_INET6
              ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
              : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  started_at_ = SteadyClock::now();
  if (!server_->StartHandOffs([this](int fd, std::string unread, size_t left,
                                     uint64_t id, std::string key,
                                     int attempt) {
        event_->Adopt(fd, std::move(unread), left, id, std::move(key),
                      attempt);
      })) {
    const int err = errno;
    close(listen_fd);
    return Status::IoError(where + ": cannot create a socket: " +
                           std::strerror(err));
  }

  EventCoreOptions eo;
  eo.listen_fd = listen_fd;
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  eo.loops = options_.event_loops > 0 ? options_.event_loops
                                      : std::min<size_t>(16, cores);
  eo.keep_alive_max_requests =
      std::max<size_t>(1, options_.keep_alive_max_requests);
  eo.limits = RequestFramerLimits{options_.max_head_bytes,
                                  options_.max_headers,
                                  options_.max_body_bytes};
  eo.keep_alive_timeout = options_.keep_alive_timeout;
  eo.header_timeout = options_.header_timeout;
  eo.request_timeout = options_.request_timeout;
  eo.io_timeout = options_.io_timeout;
  EventCoreHooks hooks;
  hooks.admit = [this] {
    return tally_.Admit(server_->open_counter(), options_.max_connections);
  };
  hooks.closed = [this] {
    server_->open_counter().fetch_sub(1, std::memory_order_relaxed);
  };
  hooks.handle = [this](EventRequest& request) { return HandleEvent(request); };
  hooks.refused = [this](int status, const std::string& reason,
                         std::string_view seen, uint64_t connection) {
    metrics_.CountRefused(status);
    tally_.Refused(status);
    RecordRefused(RefusedEntry(seen, status, reason, connection));
  };
  hooks.allow = [](std::string_view target) { return AdminAllow(target); };
  hooks.abandoned = [this](std::string_view key, int attempt) {
    receiver_.MarkAbandonedKey(key, attempt);
  };
  hooks.hand_off = [this](int fd, std::string bytes, size_t left,
                          uint64_t connection) {
    SetBlocking(fd);
    server_->HandOff(ParkedConnection{fd, std::move(bytes), left, {},
                                      connection});
  };
  event_ = std::make_unique<EventCore>(std::move(eo), std::move(hooks));
  // From here the core owns listen_fd (closed by its Stop).
  if (Status status = event_->Start(); !status.ok()) {
    return Status(status.code(), where + ": " + status.message());
  }
  return Status::Ok();
}

bool HttpReceiverServer::Impl::EventServes(const RequestFramer& f) const {
  if (options_.admin == AdminMode::kOnly || f.version() != 11) return false;
  const std::string& target = f.target();
  // cpp-httplib refuses longer request lines (414).
  if (target.empty() || target[0] != '/' || target.size() > 8000) return false;
  const std::string_view path =
      std::string_view(target).substr(0, target.find('?'));
  if (path.find('%') != std::string_view::npos ||
      path.find('#') != std::string_view::npos || IsAdminPath(path) ||
      path == kMetricsPath) {
    return false;
  }
  bool plain = true;
  f.ForEachHeader([&](std::string_view name, std::string_view value) {
    // cpp-httplib refuses header lines over 8 KiB; it compresses answers
    // (Accept-Encoding), decompresses bodies (Content-Encoding), answers
    // ranges and parses form and multipart bodies.
    if (name.size() + value.size() > 8000 ||
        EqualsIgnoreCase(name, "Accept-Encoding") ||
        EqualsIgnoreCase(name, "Content-Encoding") ||
        EqualsIgnoreCase(name, "Range") ||
        (EqualsIgnoreCase(name, "Content-Type") &&
         (value.find("multipart/") != std::string_view::npos ||
          value.find("x-www-form-urlencoded") != std::string_view::npos))) {
      plain = false;
    }
  });
  return plain;
}

EventAnswer HttpReceiverServer::Impl::HandleEvent(EventRequest& er) {
  RequestFramer& f = *er.framer;
  if (!EventServes(f)) {
    EventAnswer a;
    a.kind = EventAnswerKind::kHandOff;
    return a;
  }
  auto w = std::make_shared<EventWebhook>();
  w->arrived = SteadyClock::now();
  w->fd = er.fd;
  w->head = f.method() == "HEAD";
  w->close = er.last;
  // The fields as cpp-httplib would hand them on: a chunked body's framing
  // fields replaced by its length, a missing length added (see
  // RequestFramer::TakeRequest), in its order (by name, ignoring case).
  thread_local std::vector<Header> headers;
  thread_local std::string length;
  headers.clear();
  bool connection_seen = false;
  f.ForEachHeader([&](std::string_view name, std::string_view value) {
    if (f.chunked() && (EqualsIgnoreCase(name, "Transfer-Encoding") ||
                        EqualsIgnoreCase(name, "Expect") ||
                        EqualsIgnoreCase(name, "Trailer"))) {
      return;
    }
    if (!connection_seen && EqualsIgnoreCase(name, "Connection")) {
      connection_seen = true;
      if (value == "close") w->close = true;
    }
    headers.push_back(Header{name, value});
  });
  if (f.chunked() || f.adds_zero_length()) {
    length = std::to_string(f.body().size());
    headers.push_back(Header{"Content-Length", length});
  }
  // cpp-httplib files the connection's addresses among the headers (and
  // the threaded core journals them): the same here.
  headers.push_back(Header{"LOCAL_ADDR", er.local_ip});
  headers.push_back(Header{"LOCAL_PORT", er.local_port});
  headers.push_back(Header{"REMOTE_ADDR", er.remote_ip});
  headers.push_back(Header{"REMOTE_PORT", er.remote_port});
  SortHeadersByName(headers, [](const Header& h) { return h.name; });
  const HttpRequest request{f.method(), f.target(), headers, f.body(), {}};
  HandleFacts facts;
  w->reply = receiver_.Handle(request, Now(), &w->attempt, &w->key, &facts,
                              er.connection);
  w->method = f.method();
  w->path = std::string(
      std::string_view(f.target()).substr(0, f.target().find('?')));
  w->route = std::move(facts.route);
  w->routed = facts.routed;
  const Reply& reply = w->reply;
  if (!facts.schema_valid) metrics_.CountSchemaFailure();
  if (facts.journal_dropped) metrics_.CountJournalDrop();
  if (reply.signature != SignatureVerdict::kNotChecked &&
      reply.signature != SignatureVerdict::kValid) {
    metrics_.CountSignatureFailure();
  }
  const auto wall = WallDelay(reply.latency);
  const Fault fault = reply.answer.fault;
  if (fault == Fault::kHang || fault == Fault::kDribble) {
    // Played on a serving thread, as the threaded core does: they hold
    // the connection for long.
    const int fd = er.fd;
    server_->RunOnServingThread([this, w, fd, wall, fault] {
      SetBlocking(fd);
      bool abandoned = false;
      if (fault == Fault::kHang) {
        HoldUntilPeerCloses(fd, stop_.fd());
        abandoned = true;
      } else {
        const DribbleEnd end = DribbleBytes(
            fd, DribbleAnswer(w->reply.answer.status, w->head), wall,
            kDribblePieces, options_.io_timeout,
            [this](SteadyClock::time_point at) { return stop_.WaitUntil(at); });
        abandoned = end != DribbleEnd::kSent;
      }
      if (abandoned) receiver_.MarkAbandonedKey(w->key, w->attempt);
      FinishWebhook(*w, abandoned);
      ShutDownConnection(fd);
      close(fd);
      server_->open_counter().fetch_sub(1, std::memory_order_relaxed);
    });
    EventAnswer a;
    a.kind = EventAnswerKind::kTakeOver;
    return a;
  }
  if (wall > SteadyClock::duration::zero()) {
    EventAnswer a;
    a.kind = EventAnswerKind::kLater;
    a.at = w->arrived + wall;
    a.later = [this, w](bool stopping) {
      return AnswerWebhook(*w, !stopping && PeerHasClosed(w->fd), stopping);
    };
    return a;
  }
  return AnswerWebhook(*w, er.peer_closed, stop_.raised());
}

EventAnswer HttpReceiverServer::Impl::AnswerWebhook(EventWebhook& w,
                                                    bool peer_closed,
                                                    bool stopping) {
  EventAnswer a;
  a.kind = EventAnswerKind::kClose;
  if (stopping || peer_closed) {
    // Stopping, or the sender stopped waiting: it never sees this answer
    // (see ServeWebhook).
    receiver_.MarkAbandonedKey(w.key, w.attempt);
    FinishWebhook(w, /*abandoned=*/true);
    ShutDownConnection(w.fd);
    return a;
  }
  const Reply& reply = w.reply;
  switch (reply.answer.fault) {
    case Fault::kReset:
      ResetConnection(w.fd);
      FinishWebhook(w, false);
      return a;
    case Fault::kEmpty:
      ShutDownConnection(w.fd);
      FinishWebhook(w, false);
      return a;
    case Fault::kGarbage:
      SendGarbageAndClose(w.fd, options_.io_timeout);
      FinishWebhook(w, false);
      return a;
    case Fault::kNone:
    case Fault::kHang:
    case Fault::kDribble:
      break;
  }
  const int status = reply.answer.status;
  WireAnswer res;
  res.status = status;
  res.headers.reserve(8);  // An answer's usual fields, in one block.
  a.kind = EventAnswerKind::kWrite;
  if (status >= 200 && status < 300) {
    a.answered_key = w.key;
    a.answered_attempt = w.attempt;
  }
  ComposeAnswer(
      reply,
      [&res](const std::string& name, const std::string& value) {
        res.Set(name, value);
      },
      [&res](const std::string& body, const std::string& type) {
        res.SetContent(body, type);
      });
  a.close = w.close;
  a.bytes = res.Serialize(w.head, w.close,
                          std::max<size_t>(1, options_.keep_alive_max_requests));
  FinishWebhook(w, false);
  return a;
}

void HttpReceiverServer::Impl::FinishWebhook(const EventWebhook& w,
                                             bool abandoned) {
  const auto ended = SteadyClock::now();
  const Fault fault = w.reply.answer.fault;
  const double seconds =
      std::chrono::duration<double>(ended - w.arrived).count();
  if (fault == Fault::kNone || fault == Fault::kDribble) {
    metrics_.CountWebhook(w.reply.answer.status, seconds);
  } else {
    metrics_.CountRequest(kWebhookRoute, FaultName(fault), seconds);
  }
  if (!options_.on_request_end) return;
  RequestLogRecord record;
  record.method = w.method;
  record.path = w.path;
  record.delivery = w.key;
  record.attempt = w.attempt;
  record.answer = w.reply.answer;
  record.signature = w.reply.signature;
  record.scheme = w.reply.signature_scheme;
  record.route = w.route;
  record.routed = w.routed;
  record.abandoned = abandoned;
  record.ended = std::chrono::system_clock::now();
  record.latency =
      std::chrono::duration_cast<std::chrono::microseconds>(ended - w.arrived);
  options_.on_request_end(record);
}

HttpReceiverServer::HttpReceiverServer(MockReceiver& receiver,
                                       HttpReceiverOptions options)
    : impl_(std::make_unique<Impl>(receiver, std::move(options))) {}

HttpReceiverServer::~HttpReceiverServer() = default;

Status HttpReceiverServer::Start() { return impl_->Start(); }
void HttpReceiverServer::Stop() { impl_->Stop(); }
int HttpReceiverServer::port() const { return impl_->port(); }
ServerTraffic HttpReceiverServer::traffic() const { return impl_->traffic(); }
std::string HttpReceiverServer::base_url() const {
  const std::string& host = impl_->host();
  // An IPv6 literal needs brackets in a URL.
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(impl_->port());
}

}  // namespace hooksim
