// The Prometheus metrics of one receiver's HTTP server (GET /metrics on its
// port), kept apart from the journal: the journal forgets (its ring drops
// old entries, POST /__hooksim/reset clears it), these counters only grow
// while the server runs, so they count every request, also those whose
// journal entries were dropped or reset away.
//
// Families (every one with the constant label receiver="NAME"):
//   hooksim_receiver_requests_total{route,status}        counter
//   hooksim_receiver_request_duration_seconds{route}     histogram
//   hooksim_receiver_signature_failures_total            counter
//   hooksim_receiver_schema_failures_total               counter
//   hooksim_receiver_journal_dropped_total               counter
//   hooksim_receiver_open_connections                    gauge
// route: "webhook" (any path outside /__hooksim/ and /metrics), the admin
// route ("/__hooksim/stats", ...; "/__hooksim/unknown" for others),
// "/metrics", or "refused" (a request refused before routing: bad
// framing, too large, unknown method). status: the HTTP status answered,
// or the socket fault ("hang", "reset", "empty", "garbage").
// Thread: every method is thread-safe.
#ifndef HOOKSIM_MOCK_RECEIVERS_HTTP_RECEIVER_METRICS_H_
#define HOOKSIM_MOCK_RECEIVERS_HTTP_RECEIVER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace hooksim {

inline constexpr std::string_view kWebhookRoute = "webhook";
inline constexpr std::string_view kRefusedRoute = "refused";

class ReceiverMetrics {
 public:
  explicit ReceiverMetrics(const std::string& receiver_name);

  // One request answered on `route` with `status` (a number or a fault
  // name), `seconds` after its head was read.
  void CountRequest(std::string_view route, std::string_view status,
                    double seconds);
  // The hot path: a webhook request answered with HTTP `status` (100..599;
  // others go through CountRequest), without building label sets once the
  // status has been seen.
  void CountWebhook(int status, double seconds);
  // A request refused before routing (route "refused"): counted, not
  // timed.
  void CountRefused(int status);
  void CountSignatureFailure() { signature_failures_.Increment(); }
  void CountSchemaFailure() { schema_failures_.Increment(); }
  void CountJournalDrop() { journal_dropped_.Increment(); }
  void SetOpenConnections(size_t open) {
    open_connections_.Set(static_cast<double>(open));
  }

  // The whole registry in the Prometheus text format.
  std::string Render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Counter& signature_failures_;
  prometheus::Counter& schema_failures_;
  prometheus::Counter& journal_dropped_;
  prometheus::Gauge& open_connections_;
  // Webhook route: its histogram, and its counter per status once made.
  prometheus::Histogram& webhook_duration_;
  std::array<std::atomic<prometheus::Counter*>, 600> webhook_by_status_{};
};

// The route label of an admin path ("/__hooksim/stats/" ->
// "/__hooksim/stats"; unknown ones -> "/__hooksim/unknown").
std::string AdminRouteLabel(std::string_view path);

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_HTTP_RECEIVER_METRICS_H_
