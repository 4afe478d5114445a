#include "sim/durable/worker_metrics.h"

#include "sim/metrics/metrics.h"

namespace hooksim {

WorkerMetrics::WorkerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      deliveries_(prometheus::BuildGauge()
                      .Name("hooksim_worker_deliveries")
                      .Help("Deliveries in the state store, by state (the "
                            "store's whole queue, whoever holds it)")
                      .Register(*registry_)),
      due_(prometheus::BuildGauge()
               .Name("hooksim_worker_queue_due")
               .Help("Pending deliveries of active hooks due now that no "
                     "live lease holds")
               .Register(*registry_)
               .Add({})),
      leased_(prometheus::BuildGauge()
                  .Name("hooksim_worker_queue_leased")
                  .Help("Pending deliveries under a live lease (any worker)")
                  .Register(*registry_)
                  .Add({})),
      attempts_(prometheus::BuildCounter()
                    .Name("hooksim_worker_attempts_total")
                    .Help("Attempts this worker made, by outcome (status "
                          "class or error)")
                    .Register(*registry_)),
      duration_(prometheus::BuildHistogram()
                    .Name("hooksim_worker_attempt_duration_seconds")
                    .Help("Time from an attempt's start to its outcome")
                    .Register(*registry_)
                    .Add({}, LatencyBucketsSeconds())),
      takeovers_(prometheus::BuildCounter()
                     .Name("hooksim_worker_lease_takeovers_total")
                     .Help("Deliveries this worker claimed after another "
                           "worker's lease on them expired")
                     .Register(*registry_)
                     .Add({})),
      queue_errors_(prometheus::BuildCounter()
                        .Name("hooksim_worker_queue_errors_total")
                        .Help("Scrapes whose reading of the store's queue "
                              "failed (the queue gauges kept their values)")
                        .Register(*registry_)
                        .Add({})) {
  // Every state present from the first scrape, zero or not.
  SetQueue(QueueDepth{});
}

void WorkerMetrics::CountAttempt(const AttemptResult& result, double seconds) {
  attempts_.Add({{"outcome", AttemptOutcomeLabel(result)}}).Increment();
  duration_.Observe(seconds);
}

void WorkerMetrics::SetQueue(const QueueDepth& depth) {
  const DeliveryCounts& c = depth.by_state;
  const std::pair<const char*, int64_t> states[] = {
      {"pending", c.pending},     {"held", c.held},
      {"delivered", c.delivered}, {"gave_up", c.gave_up},
      {"cancelled", c.cancelled}, {"failed", c.failed}};
  for (const auto& [state, n] : states) {
    deliveries_.Add({{"state", state}}).Set(static_cast<double>(n));
  }
  due_.Set(static_cast<double>(depth.due));
  leased_.Set(static_cast<double>(depth.leased));
}

std::string AttemptOutcomeLabel(const AttemptResult& result) {
  if (result.error != AttemptError::kNone) {
    return std::string(AttemptErrorName(result.error));
  }
  if (result.status >= 100 && result.status < 600) {
    return std::to_string(result.status / 100) + "xx";
  }
  return "other";
}

}  // namespace hooksim
