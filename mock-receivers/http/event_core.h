// The HTTP receiver's event-driven server core: a few epoll loops (one per
// core by default), no thread per connection.
//
// Each loop accepts from the shared listening socket (EPOLLEXCLUSIVE) and
// places each connection on the least loaded loop (the one that accepted
// it unless another carries two fewer: see PlaceConnection), which owns
// it from then on: non-blocking
// sockets, each a small state machine with its own RequestFramer
// (Boost.Beast's parser, whole_body mode: head and body parsed
// incrementally on the bytes read). What the core does itself:
//   - refusals of the framer (400, 405 with Allow, 413, 431) and of time
//     (408: the head not whole within header_timeout, the body not within
//     request_timeout or with no byte for io_timeout), each reported to
//     hooks.refused, answered, and the connection closed after a bounded
//     linger (2 s, 4 MiB) that keeps the answer from being destroyed by an
//     RST;
//   - "100 Continue" when a body is awaited behind "Expect: 100-continue";
//   - keep-alive: keep_alive_timeout while idle (closed without a word),
//     at most keep_alive_max_requests per connection (the last is marked
//     in EventRequest::last: its answer must close);
//   - writes that would block wait for EPOLLOUT, at most io_timeout;
//   - timers: one heap per loop, epoll_wait's timeout, never a sleep.
// A complete request goes to hooks.handle on the loop thread, which
// answers at once (kWrite), later (kLater: a timer calls `later`), hands
// the request and its connection to another server (kHandOff; it may come
// back through Adopt), takes the descriptor over (kTakeOver) or has the
// core close it (kClose).
//
// Thread: Start/Stop from one controlling thread; Adopt from any thread;
// every hook runs on a loop thread (several at once: they must be
// thread-safe) and must not block for long. Ownership: the core owns the
// listening socket from Start on and closes it in Stop.
#ifndef HOOKSIM_MOCK_RECEIVERS_HTTP_EVENT_CORE_H_
#define HOOKSIM_MOCK_RECEIVERS_HTTP_EVENT_CORE_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mock-receivers/http/request_framer.h"
#include "sim/base/result.h"

namespace hooksim {

// A complete request (its framer is kReady, body read), on a loop thread.
struct EventRequest {
  RequestFramer* framer = nullptr;
  int fd = -1;
  uint64_t connection = 0;  // 1, 2, ... in the order accepted.
  // The peer has closed its side and sent nothing after this request.
  bool peer_closed = false;
  // The connection's keep-alive budget ends with this request.
  bool last = false;
  // The connection's addresses (numeric IP, decimal port), read once.
  std::string_view local_ip, local_port, remote_ip, remote_port;
};

enum class EventAnswerKind {
  kWrite,     // Write `bytes`, then read the next request (or close).
  kClose,     // Close the connection now (no answer, or a fault played).
  kTakeOver,  // The handler owns the descriptor now (and calls
              // EventCore's closed hook's counterpart itself).
  kHandOff,   // hooks.hand_off serves this request and the connection.
  kLater,     // At `at`, call later(false) and do what it answers; when
              // the core stops first, later(true) (its answer is ignored:
              // the connection is closed).
};

struct EventAnswer {
  EventAnswerKind kind = EventAnswerKind::kClose;
  std::string bytes;  // kWrite.
  bool close = false;  // kWrite: close once written.
  // kWrite of a 2xx: the delivery key and attempt it answered; when the
  // peer resets the connection before its next request (it never read
  // the answer), or the write fails, hooks.abandoned gets them.
  std::string answered_key;
  int answered_attempt = 0;
  std::chrono::steady_clock::time_point at;         // kLater.
  std::function<EventAnswer(bool stopping)> later;  // kLater.
};

struct EventCoreOptions {
  int listen_fd = -1;  // Bound, listening; made non-blocking by Start.
  size_t loops = 1;
  size_t keep_alive_max_requests = 10000;
  RequestFramerLimits limits;  // whole_body is set by the core.
  std::chrono::milliseconds keep_alive_timeout{5000};
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds io_timeout{5000};
};

struct EventCoreHooks {
  // A connection arrived: false to close it at once (counted by the hook).
  std::function<bool()> admit;
  // An admitted connection was closed by the core.
  std::function<void()> closed;
  std::function<EventAnswer(EventRequest&)> handle;
  // A request refused before handle: its status, the reason, the bytes of
  // it that arrived (at most max_head_bytes), the connection.
  std::function<void(int status, const std::string& reason,
                     std::string_view seen, uint64_t connection)>
      refused;
  // The Allow value of a 405 for this target.
  std::function<std::string(std::string_view target)> allow;
  std::function<void(std::string_view key, int attempt)> abandoned;
  // kHandOff: the connection (descriptor, the request's bytes as
  // cpp-httplib is to parse them and what followed, requests left with
  // this one, its id).
  std::function<void(int fd, std::string bytes, size_t requests_left,
                     uint64_t connection)>
      hand_off;
};

class EventCore {
 public:
  EventCore(EventCoreOptions options, EventCoreHooks hooks);
  ~EventCore();  // Stops.
  EventCore(const EventCore&) = delete;
  EventCore& operator=(const EventCore&) = delete;

  // Starts the loops. Errors: epoll or eventfd refused by the kernel.
  Status Start();
  // Takes a connection back (after kHandOff): `unread` bytes already read
  // from it, its keep-alive budget, and what its last answer was (see
  // EventAnswer::answered_key). After Stop: closes it (and calls closed).
  void Adopt(int fd, std::string unread, size_t requests_left, uint64_t id,
             std::string answered_key, int answered_attempt);
  // Stops accepting, closes every connection (pending kLater answers get
  // later(true)), joins the loops, closes the listening socket.
  // Idempotent.
  void Stop();
  // How many connections each loop carries (see PlaceConnection). Any
  // thread; a snapshot.
  std::vector<size_t> loads() const;

 private:
  class Loop;
  // The loop a new connection goes to: `accepting` (the loop that accepted
  // it, or the first for Adopt) unless another carries at least two fewer
  // connections, then the least loaded; its load counts the connection
  // from here on. Any loop thread.
  Loop& PlaceConnection(Loop& accepting);

  const EventCoreOptions options_;
  const EventCoreHooks hooks_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<uint64_t> next_id_{0};   // Connections accepted so far.
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_HTTP_EVENT_CORE_H_
