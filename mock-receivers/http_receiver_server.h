// A mock receiver behind a real HTTP/1.1 server (cpp-httplib) on loopback.
//
// Every request outside the admin prefix is handed to the MockReceiver
// (behaviour, journal, schema check) and answered as its Reply says, after
// the reply's latency (run time, converted to wall time with time_scale):
// a status with a small JSON body, or a fault at the socket level: hang
// (hold the connection, answer nothing, until the peer closes or the
// server stops), reset (RST), empty (close with no answer), garbage (bytes
// that are not HTTP, then close). When the peer has closed the connection
// by the time a 2xx would be written, the attempt is marked abandoned in
// the journal (the sender stopped waiting: see Journal::MarkAbandoned).
//
// Admin API under /__hooksim/ (JSON in and out; errors are 4xx with
// {"error": "..."}): GET requests[?limit=N] (journal, newest last),
// GET stats, POST reset, PUT behavior (body: a behaviour, as in scenarios).
//
// Thread: Start/Stop from one controlling thread; the server runs its own
// threads. Ownership: the receiver is borrowed and must outlive the server.
#ifndef HOOKSIM_MOCK_RECEIVERS_HTTP_RECEIVER_SERVER_H_
#define HOOKSIM_MOCK_RECEIVERS_HTTP_RECEIVER_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "mock-receivers/receiver.h"
#include "sim/result.h"
#include "sim/time.h"

namespace hooksim {

struct HttpReceiverOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: a kernel-chosen port.
  // Wall seconds per run-time second for latencies; in (0, 1].
  double time_scale = 1.0;
  // The run timeline (outage windows, journal times). Null: run time since
  // Start(), scaled by time_scale. Must be thread-safe.
  std::function<TimePoint()> now;
  size_t max_body_bytes = 8 << 20;  // Larger bodies get 413.
  size_t threads = 32;              // Connections served at once.
};

class HttpReceiverServer {
 public:
  HttpReceiverServer(MockReceiver& receiver, HttpReceiverOptions options);
  ~HttpReceiverServer();  // Stops and joins.
  HttpReceiverServer(const HttpReceiverServer&) = delete;
  HttpReceiverServer& operator=(const HttpReceiverServer&) = delete;

  // Binds and starts serving; returns once the server accepts connections.
  // Errors name the address ("127.0.0.1:8080: address already in use").
  Status Start();
  // Stops accepting, wakes hanging and sleeping handlers, joins. Idempotent.
  void Stop();

  int port() const;
  // "http://127.0.0.1:PORT" (no path): the base URL of the receiver.
  std::string base_url() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_HTTP_RECEIVER_SERVER_H_
