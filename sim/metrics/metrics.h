// Prometheus metrics on Debian's prometheus-cpp (core only): the registry,
// metric families and the text serializer are the library's; hooksim only
// chooses names, labels and buckets, and serves the text (metrics_server.h,
// or the receiver's own port).
//
// Names follow Prometheus' conventions: hooksim_<component>_<what>, counters
// end in _total, durations are histograms in seconds. The metrics of each
// component are listed in the README ("Metrics").
// Thread: prometheus-cpp's registry, families and metrics are thread-safe.
#ifndef HOOKSIM_SIM_METRICS_METRICS_H_
#define HOOKSIM_SIM_METRICS_METRICS_H_

#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>
#include <string_view>

namespace hooksim {

// What GET /metrics answers with: the Prometheus text format 0.0.4.
inline constexpr std::string_view kMetricsContentType =
    "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view kMetricsPath = "/metrics";

// The buckets of every latency histogram, in seconds: 1 ms to 10 s
// (1, 2.5, 5 per decade); slower requests land in +Inf.
const prometheus::Histogram::BucketBoundaries& LatencyBucketsSeconds();

// Everything in `registry`, in the Prometheus text format (prometheus-cpp's
// TextSerializer).
std::string RenderMetrics(const prometheus::Registry& registry);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_METRICS_METRICS_H_
