// A small HTTP server (cpp-httplib, as the receiver's) that answers
// GET /metrics with a registry in the Prometheus text format; every other
// path is 404, every other method 405. `hooksim worker --metrics-listen`
// serves its metrics with it.
//
// Why not prometheus-cpp's pull Exposer (Debian ships it, on civetweb): its
// constructor throws on a port in use with a message that names neither the
// address nor the cause, and it brings a second HTTP server library; this
// one reports "HOST:PORT: Address already in use" like the receiver and
// binds without SO_REUSEPORT (so a port in use is an error, not shared).
//
// Thread: Start/Stop from one controlling thread; the server runs its own
// threads (one listening, two serving; all signals blocked on them).
// Ownership: shares the registry. Started at most once.
#ifndef HOOKSIM_SIM_METRICS_METRICS_SERVER_H_
#define HOOKSIM_SIM_METRICS_METRICS_SERVER_H_

#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <string>

#include "sim/base/result.h"

namespace hooksim {

struct MetricsServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: a kernel-chosen port (see MetricsServer::port()).
  // Called before each scrape is rendered (to refresh gauges read from
  // elsewhere), on a serving thread, never twice at once. May be empty.
  std::function<void()> before_scrape;
};

class MetricsServer {
 public:
  MetricsServer(std::shared_ptr<prometheus::Registry> registry,
                MetricsServerOptions options);
  ~MetricsServer();  // Stops and joins.
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds and serves; returns once connections are accepted. Errors name
  // the address and the kernel's reason ("127.0.0.1:9100: Address already
  // in use"); a bad port or a second Start are errors too.
  Status Start();
  // Stops serving and joins its threads. Idempotent.
  void Stop();
  // The bound port (the kernel's choice for port 0); 0 before Start.
  int port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_METRICS_METRICS_SERVER_H_
