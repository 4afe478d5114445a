// The real world's network: a Transport that sends each attempt as an
// HTTP/1.1 request over TCP, with at most `workers` attempts in flight.
//
// Send() (on the loop's thread) calls loop.BeginExternalWork() and hands
// the attempt to the engine, which sends it by the wire rules of
// sim/http/http_wire.h (sim/http/http_answer_parser.h reads the answer) and
// hands the result back with loop.CompleteExternalWork(Batch), so `done`
// runs on the loop thread, never inline inside Send(). The engine:
// `io_threads` threads (default 1), each an epoll loop over non-blocking
// sockets (sim/http/http_io_loop.h) carrying its share of the `workers`
// connections; completions are handed over in batches, one wake-up of the
// loop per batch, with no allocation per attempt (EventLoop::
// CompleteAttempts). The loop is any EventLoop (sim/engine/event_loop.h): the
// real clock in the HTTP world.
//
// - Capacity: at most `workers` attempts in flight; at most `max_queued`
//   more wait for a connection (an attempt counts until its I/O loop has
//   finished it; its `done` may then still be on its way to the loop
//   thread). An attempt beyond that is not
//   sent: it completes with kRefused (counted in stats().rejected).
// - Connections: idle keep-alive connections are kept per host:port
//   (TCP_NODELAY on) and reused for the next attempts there (up to a
//   loop's share of `workers` per host:port).
//   An idle connection the server has closed is replaced by a new one,
//   without making a new attempt (see sim/http/http_wire.h for the exact rule).
// - Timeout: the attempt's timeout is run time; ToWall() converts it at the
//   clock's scale. It bounds the whole attempt from the moment it takes a
//   connection slot: connect, write, and reading the complete answer (a
//   receiver that dribbles its answer past the deadline is a timeout). Time
//   spent waiting in the queue for a slot is not counted: that is the sender's
//   own capacity, not the receiver's speed. Answers are read under the
//   caps max_answer_head_bytes / max_drained_body_bytes, never buffered.
// - Answers: any status, 3xx included, is returned as is; redirects are
//   never followed.
// - Errors map to AttemptError: kRefused (nothing listens, connection
//   refused, a URL that is not http://host[:port]/path), kDns (a host
//   name that does not resolve), kTimeout, kReset (ECONNRESET), kEmptyReply (closed before
//   any byte of an answer), kMalformed (bytes that are not an HTTP answer,
//   or an answer cut short).
//
// The request's views (URL, headers, body) are read by the engine without
// copying: the Transport contract keeps them valid until `done` is called.
//
// Thread: Send on the clock's loop thread; stats() from any thread.
// Ownership: the clock is borrowed and must outlive the transport.
// Shutdown() (also run by the destructor) cancels attempts in flight (at
// once, or at their next wait), drops queued ones, and joins the threads;
// the `done` of
// those attempts is never called and their external work is never
// completed, so shut down only after the clock's Run() has returned (after
// it finished, or after Stop()), and before whatever owns the requests'
// bytes (the engine) is destroyed.
#ifndef HOOKSIM_SIM_HTTP_HTTP_TRANSPORT_H_
#define HOOKSIM_SIM_HTTP_HTTP_TRANSPORT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "sim/engine/event_loop.h"
#include "sim/engine/transport.h"

namespace hooksim {

struct HttpTransportOptions {
  // Connections: attempts in flight at once (1..1024).
  size_t workers = 16;
  size_t max_queued = 1'000'000;  // Attempts waiting for a connection.
  // I/O threads (1..workers), each carrying an equal share of
  // the `workers` connections; 0: none, the clock's loop thread runs the
  // epoll loop while it waits (EventLoop::SetPoller), so answers are read
  // and their `done` run with no thread handoff at all.
  size_t io_threads = 1;
  // With io_threads >= 1: the clock's loop thread also carries an equal
  // share, as with io_threads 0 (io_threads + 1 loops in all). Its share
  // has no handoff, and two threads read answers; but a callback that
  // blocks the loop thread (a store's commit) delays its share's answers,
  // so only a loop thread that never blocks should carry one (hooksim
  // bench's).
  bool share_loop_thread = false;
  // Caps on one answer (sim/http/http_answer_parser.h): a longer head is
  // kMalformed; a longer body is not read to its end.
  size_t max_answer_head_bytes = 64 << 10;
  size_t max_drained_body_bytes = 1 << 20;
  // An idle keep-alive connection older than this is not reused (below
  // cpp-httplib's 5 s server keep-alive timeout).
  std::chrono::milliseconds max_idle{4000};
};

struct HttpTransportStats {
  uint64_t connections_opened = 0;
  uint64_t connections_reused = 0;  // Attempts sent on a kept connection.
  uint64_t stale_connections = 0;   // Kept connections the server closed.
  uint64_t rejected = 0;            // Attempts refused: queue full.
};

class HttpTransport : public Transport {
 public:
  HttpTransport(EventLoop& clock, HttpTransportOptions options = {});
  ~HttpTransport() override;
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  void Send(const HttpRequest& request, Duration timeout,
            std::function<void(AttemptResult)> done) override;

  // See the header comment. Idempotent.
  void Shutdown();

  HttpTransportStats stats() const;

  class Impl;  // The engine; internal.

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_HTTP_HTTP_TRANSPORT_H_
