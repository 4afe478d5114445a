// The real world's network: a Transport that sends each attempt as an
// HTTP/1.1 request over TCP, from a bounded pool of worker threads.
//
// Each worker keeps its own keep-alive connections, one per host:port, with
// TCP_NODELAY on; a connection is reused until it fails or the server
// closes it. Redirects are never followed (a 3xx is an answer like any
// other). The attempt's timeout (run time, converted to wall time with the
// clock's scale) bounds connecting, writing the request and reading the
// answer. Errors map to AttemptError: nothing listening -> kRefused,
// no complete answer within the timeout -> kTimeout, RST -> kReset, closed
// before any byte of an answer -> kEmptyReply, bytes that are not an HTTP
// answer -> kMalformed. A request that found a reused keep-alive connection
// closed by the server before any byte was written is retried once on a new
// connection (that is not a new attempt: the receiver never saw it).
//
// Only http:// URLs on any host are supported; others end in kRefused with
// no network traffic. Send() copies the request's bytes before returning
// is not required: the views stay valid until `done` (Transport contract).
// Completions reach the engine through RealClock::CompleteExternalWork, on
// the clock's loop thread.
// Thread: Send on the clock's loop thread. Ownership: the clock is borrowed
// and must outlive the transport; the destructor stops and joins workers
// (queued attempts that never started complete with kRefused... no: they are
// dropped; destroy the transport only after the clock's Run returned).
#ifndef HOOKSIM_SIM_HTTP_TRANSPORT_H_
#define HOOKSIM_SIM_HTTP_TRANSPORT_H_

#include <cstddef>
#include <memory>

#include "sim/real_clock.h"
#include "sim/transport.h"

namespace hooksim {

struct HttpTransportOptions {
  size_t workers = 16;           // Attempts in flight at once.
  size_t max_queued = 1'000'000;  // Attempts waiting for a worker.
};

class HttpTransport : public Transport {
 public:
  HttpTransport(RealClock& clock, HttpTransportOptions options = {});
  ~HttpTransport() override;
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  void Send(const HttpRequest& request, Duration timeout,
            std::function<void(AttemptResult)> done) override;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_HTTP_TRANSPORT_H_
