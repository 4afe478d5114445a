#include "sim/metrics/metrics.h"

#include <prometheus/text_serializer.h>

namespace hooksim {

const prometheus::Histogram::BucketBoundaries& LatencyBucketsSeconds() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
      0.25,  0.5,    1,     2.5,  5,     10};
  return kBuckets;
}

std::string RenderMetrics(const prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

}  // namespace hooksim
