// The real world's network: a Transport that sends each attempt as an
// HTTP/1.1 request over TCP from a bounded pool of worker threads.
//
// Send() (on the clock's loop thread) calls clock.BeginExternalWork() and
// queues the attempt; a worker sends it with its own HttpClient
// (sim/http_client.h: the wire format, keep-alive and error rules live
// there) and hands the result back with clock.CompleteExternalWork(), so
// `done` runs on the loop thread, never inline inside Send().
//
// - Pool: `workers` threads, so at most that many attempts in flight;
//   at most `max_queued` attempts wait for a worker. An attempt beyond that
//   is not sent: it completes with kRefused (counted in stats().rejected).
// - Connections: each worker keeps one idle keep-alive connection per
//   host:port (TCP_NODELAY on) and reuses it for the next attempt there.
//   An idle connection the server has closed is replaced by a new one,
//   without making a new attempt (see HttpClient for the exact rule).
// - Timeout: the attempt's timeout is run time; ToWall() converts it at the
//   clock's scale. It bounds the whole attempt from the moment a worker
//   takes it: connect, write, and reading the complete answer (a receiver
//   that dribbles its answer past the deadline is a timeout). Time spent
//   waiting in the queue for a worker is not counted: that is the sender's
//   own capacity, not the receiver's speed.
// - Answers: any status, 3xx included, is returned as is; redirects are
//   never followed.
// - Errors map to AttemptError: kRefused (nothing listens, connection
//   refused, a URL that is not http://host[:port]/path, a host that does
//   not resolve), kTimeout, kReset (ECONNRESET), kEmptyReply (closed before
//   any byte of an answer), kMalformed (bytes that are not an HTTP answer,
//   or an answer cut short).
//
// The request's views (URL, headers, body) are read by a worker without
// copying: the Transport contract keeps them valid until `done` is called.
//
// Thread: Send on the clock's loop thread; stats() from any thread.
// Ownership: the clock is borrowed and must outlive the transport.
// Shutdown() (also run by the destructor) cancels attempts in flight at
// their next wait, drops queued ones, and joins the workers; the `done` of
// those attempts is never called and their external work is never
// completed, so shut down only after the clock's Run() has returned (after
// it finished, or after Stop()), and before whatever owns the requests'
// bytes (the engine) is destroyed.
#ifndef HOOKSIM_SIM_HTTP_TRANSPORT_H_
#define HOOKSIM_SIM_HTTP_TRANSPORT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "sim/real_clock.h"
#include "sim/transport.h"

namespace hooksim {

struct HttpTransportOptions {
  size_t workers = 16;            // Attempts in flight at once (1..1024).
  size_t max_queued = 1'000'000;  // Attempts waiting for a worker.
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
  HttpTransport(RealClock& clock, HttpTransportOptions options = {});
  ~HttpTransport() override;
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  void Send(const HttpRequest& request, Duration timeout,
            std::function<void(AttemptResult)> done) override;

  // See the header comment. Idempotent.
  void Shutdown();

  HttpTransportStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_HTTP_TRANSPORT_H_
