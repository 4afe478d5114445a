#include "mock-receivers/http/receiver_metrics.h"

#include "mock-receivers/admin_api.h"
#include "sim/metrics/metrics.h"

namespace hooksim {
namespace {

using prometheus::Labels;

Labels Constant(const std::string& receiver_name) {
  return Labels{{"receiver", receiver_name}};
}

}  // namespace

ReceiverMetrics::ReceiverMetrics(const std::string& receiver_name)
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("hooksim_receiver_requests_total")
                    .Help("Requests answered, by route and status (or "
                          "socket fault)")
                    .Labels(Constant(receiver_name))
                    .Register(*registry_)),
      duration_(prometheus::BuildHistogram()
                    .Name("hooksim_receiver_request_duration_seconds")
                    .Help("Time from a request's head being read to its "
                          "answer being handed to the socket (behaviour "
                          "latency included), by route")
                    .Labels(Constant(receiver_name))
                    .Register(*registry_)),
      signature_failures_(
          prometheus::BuildCounter()
              .Name("hooksim_receiver_signature_failures_total")
              .Help("Requests whose webhook signature was checked and "
                    "refused (missing, bad or stale)")
              .Labels(Constant(receiver_name))
              .Register(*registry_)
              .Add({})),
      schema_failures_(prometheus::BuildCounter()
                           .Name("hooksim_receiver_schema_failures_total")
                           .Help("Requests whose body failed the payload "
                                 "schema (C3/C4)")
                           .Labels(Constant(receiver_name))
                           .Register(*registry_)
                           .Add({})),
      journal_dropped_(prometheus::BuildCounter()
                           .Name("hooksim_receiver_journal_dropped_total")
                           .Help("Journal entries dropped from the ring "
                                 "(--journal-capacity) to make room")
                           .Labels(Constant(receiver_name))
                           .Register(*registry_)
                           .Add({})),
      open_connections_(prometheus::BuildGauge()
                            .Name("hooksim_receiver_open_connections")
                            .Help("Connections open now (the scrape's own "
                                  "included)")
                            .Labels(Constant(receiver_name))
                            .Register(*registry_)
                            .Add({})),
      webhook_duration_(duration_.Add({{"route", std::string(kWebhookRoute)}},
                                      LatencyBucketsSeconds())) {}

void ReceiverMetrics::CountRequest(std::string_view route,
                                   std::string_view status, double seconds) {
  requests_.Add({{"route", std::string(route)},
                 {"status", std::string(status)}})
      .Increment();
  duration_.Add({{"route", std::string(route)}}, LatencyBucketsSeconds())
      .Observe(seconds);
}

void ReceiverMetrics::CountWebhook(int status, double seconds) {
  if (status < 100 || status >= static_cast<int>(webhook_by_status_.size())) {
    CountRequest(kWebhookRoute, std::to_string(status), seconds);
    return;
  }
  std::atomic<prometheus::Counter*>& slot = webhook_by_status_[status];
  prometheus::Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Add returns the one counter of these labels, whoever asks first.
    counter = &requests_.Add({{"route", std::string(kWebhookRoute)},
                              {"status", std::to_string(status)}});
    slot.store(counter, std::memory_order_release);
  }
  counter->Increment();
  webhook_duration_.Observe(seconds);
}

void ReceiverMetrics::CountRefused(int status) {
  requests_.Add({{"route", std::string(kRefusedRoute)},
                 {"status", std::to_string(status)}})
      .Increment();
}

std::string ReceiverMetrics::Render() const { return RenderMetrics(*registry_); }

std::string AdminRouteLabel(std::string_view path) {
  std::string_view p = path;
  if (p.size() > kAdminPrefix.size() && p.back() == '/') p.remove_suffix(1);
  if (p == "/__hooksim" || p == "/__hooksim/") return "/__hooksim/";
  // A known route has a non-empty Allow list.
  if (!AdminAllow(p).empty()) return std::string(p);
  return "/__hooksim/unknown";
}

}  // namespace hooksim
