// The Prometheus metrics of a durable-delivery runner (`hooksim worker
// --metrics-listen`): what this runner did (attempts, their latency, lease
// takeovers) as counters and a histogram, and the store's queue (deliveries
// by state, due, leased; the same on every worker sharing a store) as
// gauges refreshed from a QueueDepth at each scrape.
//
// Families:
//   hooksim_worker_deliveries{state}                 gauge (store)
//   hooksim_worker_queue_due                         gauge (store)
//   hooksim_worker_queue_leased                      gauge (store)
//   hooksim_worker_attempts_total{outcome}           counter (this runner)
//   hooksim_worker_attempt_duration_seconds          histogram (this runner)
//   hooksim_worker_lease_takeovers_total             counter (this runner)
//   hooksim_worker_queue_errors_total                counter (this runner)
// state: pending, held, delivered, gave_up, cancelled, failed. outcome:
// the status class ("2xx", "3xx", "4xx", "5xx", "1xx") or the error
// ("timeout", "refused", "reset", "empty_reply", "malformed", "dns"),
// "other" for a status outside 100..599.
// Thread: every method is thread-safe.
#ifndef HOOKSIM_SIM_DURABLE_WORKER_METRICS_H_
#define HOOKSIM_SIM_DURABLE_WORKER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <memory>
#include <string>

#include "sim/contract/http_types.h"
#include "sim/durable/state_store.h"

namespace hooksim {

class WorkerMetrics {
 public:
  WorkerMetrics();

  // One attempt ended with `result` after `seconds`.
  void CountAttempt(const AttemptResult& result, double seconds);
  // A claimed row whose lease another runner let expire.
  void CountTakeover() { takeovers_.Increment(); }
  // The store's queue now.
  void SetQueue(const QueueDepth& depth);
  // Reading the queue failed (the gauges keep their last values).
  void CountQueueError() { queue_errors_.Increment(); }

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>& deliveries_;
  prometheus::Gauge& due_;
  prometheus::Gauge& leased_;
  prometheus::Family<prometheus::Counter>& attempts_;
  prometheus::Histogram& duration_;
  prometheus::Counter& takeovers_;
  prometheus::Counter& queue_errors_;
};

// The outcome label of an attempt result ("5xx", "timeout", ...).
std::string AttemptOutcomeLabel(const AttemptResult& result);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_DURABLE_WORKER_METRICS_H_
