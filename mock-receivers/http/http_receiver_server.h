// A mock receiver behind a real HTTP/1.1 server (cpp-httplib) on loopback.
//
// Every request outside the admin prefix (any path, any method cpp-httplib
// parses: GET HEAD POST PUT PATCH DELETE OPTIONS) is handed to the
// MockReceiver (behaviour, journal, schema check) and answered as its Reply
// says, after the reply's latency (run time, converted to wall time with
// time_scale): a status with a small JSON body ({"ok":true} for 2xx,
// {"status":N} otherwise; 3xx carry a Location the sender must not
// follow), or a fault at the socket level: hang (hold the connection,
// answer nothing, until the peer closes or the server stops), reset (RST),
// empty (close with no answer), garbage (bytes that are not HTTP, then
// close), dribble (a 200 whose bytes, status line included, are spread
// over the latency, with Connection: close). When the peer has closed the
// connection by the time the answer would be written, nothing is written
// and the attempt is marked abandoned in the journal (the sender stopped
// waiting: see Journal::MarkAbandoned), for any answer, as the virtual
// world does for every timeout.
//
// Admin API under /__hooksim/ (see admin_api.h): GET requests[?limit=N]
// (journal, newest last), GET stats, POST reset, GET|PUT behavior.
// Every request's framing is checked before cpp-httplib parses it
// (request_framer.h, with Boost.Beast's parser): both Content-Length and
// Transfer-Encoding, repeated or malformed Content-Length, a
// Transfer-Encoding other than "chunked" and unparsable heads get 400; a
// head over max_head_bytes or with more than max_headers fields gets 431;
// a body over max_body_bytes, chunked or not, gets 413 before it is read
// (never buffered past the limit); a method cpp-httplib does not route
// gets 405 with Allow. Each of these answers closes the connection; the
// server keeps serving others.
//
// Idle and slow connections do not hold serving threads: a connection with
// no complete request head is parked in a HeadWaiter (head_waiter.h), one
// thread for all of them (at once when a head has begun; when idle, as soon
// as another connection waits for a serving thread), until its head has
// arrived (or it times out:
// keep_alive_timeout while idle, header_timeout once a head has begun,
// then 408 and close). A serving thread takes it only to serve a complete
// head (and read its body, within request_timeout). So hundreds of idle
// keep-alive connections or clients trickling their headers (slowloris)
// cost a descriptor and at most max_head_bytes each, and well-formed
// senders keep being answered; `threads` bounds only requests being
// served at once (slow bodies, latencies, hangs). At most max_connections
// are open; more are closed on arrival.
//
// How faults reach the socket: the server owns each connection's keep-alive
// loop (it overrides cpp-httplib's per-connection entry point and calls the
// library's request parser/dispatcher for each request), so handlers know
// their connection's descriptor, and a fault can take the connection over:
// after one, nothing more is written to it and the loop closes it.
//
// Two server cores serve the same HTTP (HttpReceiverOptions::core):
//   - kThreads, the design above: cpp-httplib's parser and a serving
//     thread per request being served (idle connections parked in the
//     HeadWaiter);
//   - kEvent (event_core.h, the default): `event_loops` epoll loops own the
//     connections and parse with Boost.Beast's parser (RequestFramer,
//     same refusals). A webhook request is handed to the MockReceiver and
//     answered in its loop: at once, or after its latency by a timer of the
//     loop; reset, empty and garbage are played in the loop; hang and
//     dribble on a serving thread. Admin and /metrics requests, and the
//     few a webhook request cpp-httplib would read differently (HTTP/1.0,
//     Accept-Encoding, Range, form or multipart bodies, an escaped path),
//     are handed with their connection to the threaded core's code (a
//     serving thread, cpp-httplib), which hands the connection back after
//     that request. Answers are the bytes cpp-httplib would write.
//
// Thread: Start/Stop from one controlling thread; the server runs its own
// threads (one accept thread, `threads` serving threads, one head-waiting
// thread; a hanging or sleeping request holds its serving thread). Ownership: the receiver is borrowed
// and must outlive the server. A server is started at most once.
#ifndef HOOKSIM_MOCK_RECEIVERS_HTTP_HTTP_RECEIVER_SERVER_H_
#define HOOKSIM_MOCK_RECEIVERS_HTTP_HTTP_RECEIVER_SERVER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mock-receivers/receiver.h"
#include "mock-receivers/request_log.h"
#include "sim/base/result.h"
#include "sim/base/time.h"

namespace hooksim {

// Where a server serves the admin API (/__hooksim/).
enum class AdminMode {
  kWithWebhooks,  // On the same port as the webhooks (the default).
  kElsewhere,     // Not here (another server has kOnly): admin paths get
                  // 404 naming --admin-listen and are not journaled.
  kOnly,          // Here only: any other path gets 404, nothing is
                  // journaled.
};

// How a server serves its connections (see the header comment).
enum class ServerCore {
  kThreads,  // cpp-httplib, a serving thread per request being served.
  kEvent,    // epoll loops, Boost.Beast's parser.
};

// "threads" or "event".
const char* ServerCoreName(ServerCore core);
// Parses "threads" or "event"; the error names the value.
Result<ServerCore> ParseServerCore(std::string_view name);
// The core of a server whose options do not name one: the environment
// variable HOOKSIM_RECEIVER_CORE ("threads" or "event") when set and
// valid, else kEvent.
ServerCore DefaultServerCore();

struct HttpReceiverOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: a kernel-chosen port.
  // Wall seconds per run-time second for latencies; in (0, 1].
  double time_scale = 1.0;
  // The run timeline (outage windows, journal times). Null: run time since
  // Start(), scaled by time_scale. Must be thread-safe.
  std::function<TimePoint()> now;
  size_t max_body_bytes = 8 << 20;  // Larger bodies get 413.
  // Requests served at once (kEvent: admin and /metrics requests, hangs
  // and dribbles, which it hands to serving threads).
  size_t threads = 32;
  // Unset: DefaultServerCore().
  std::optional<ServerCore> core;
  // kEvent: epoll loops; 0 for one per core (at most 16).
  size_t event_loops = 0;
  // Per read/write wait on a connection (cpp-httplib's default is 300 s).
  std::chrono::milliseconds io_timeout{5000};
  // How long an idle keep-alive connection is kept, and how many requests
  // one connection may carry (cpp-httplib's default of 5 forces reconnects).
  std::chrono::milliseconds keep_alive_timeout{5000};
  size_t keep_alive_max_requests = 10000;
  // A request head (request line and headers) must arrive whole within
  // header_timeout of its first byte, and be at most max_head_bytes
  // (larger heads are refused); after the head, reading the body must end
  // within request_timeout.
  std::chrono::milliseconds header_timeout{10000};
  size_t max_head_bytes = 64 << 10;
  // Header fields a request head may carry; more get 431.
  size_t max_headers = 100;
  std::chrono::milliseconds request_timeout{30000};
  // When not empty, admin requests (/__hooksim/) must carry
  // "Authorization: Bearer <admin_token>"; others get 401.
  std::string admin_token;
  AdminMode admin = AdminMode::kWithWebhooks;
  // Open connections at most; beyond, a new connection is closed at once.
  size_t max_connections = 4096;
  // Called once per webhook request as it ends (answer written or handed
  // to the socket, fault done, or abandoned), from serving threads, at
  // once: must be thread-safe and quick. The record's views live for the
  // call only. Null: nothing is logged.
  std::function<void(const RequestLogRecord&)> on_request_end;
};

// What the server saw of its connections and of the requests it refused
// before they reached the receiver, since Start (POST /__hooksim/reset
// does not clear it).
struct ServerTraffic {
  size_t peak_open_connections = 0;     // Most open at once.
  uint64_t connections = 0;             // Admitted.
  uint64_t connections_over_limit = 0;  // Closed on arrival (max_connections).
  // Requests refused before the behaviour (bad framing 400, unknown method
  // 405, head timeout 408, body too large 413, head too large 431), by
  // the status answered.
  std::map<int, uint64_t> refused;
};

class HttpReceiverServer {
 public:
  HttpReceiverServer(MockReceiver& receiver, HttpReceiverOptions options);
  ~HttpReceiverServer();  // Stops and joins.
  HttpReceiverServer(const HttpReceiverServer&) = delete;
  HttpReceiverServer& operator=(const HttpReceiverServer&) = delete;

  // Binds and starts serving; returns once the server accepts connections.
  // Errors name the address ("127.0.0.1:8080: Address already in use"); a
  // second Start, a bad option or a server that does not come up within
  // 5 s are errors too.
  Status Start();
  // Stops accepting, wakes hanging and sleeping handlers, joins. Idempotent.
  void Stop();

  int port() const;
  // A snapshot of the counts above (thread-safe; also after Stop).
  ServerTraffic traffic() const;
  // "http://127.0.0.1:PORT" (no path): the base URL of the receiver.
  std::string base_url() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_HTTP_HTTP_RECEIVER_SERVER_H_
