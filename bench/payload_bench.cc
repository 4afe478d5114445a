// The per-event costs: generating and serialising a release event, and
// checking a payload against the schemas (C3/C4) with and without the
// verdict cache the receivers share.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "sim/base/random.h"
#include "sim/contract/payload_validator.h"
#include "sim/contract/release_events.h"

namespace hooksim {
namespace {

std::vector<std::string> Bodies(size_t n) {
  ReleaseEventGenerator generator(ReleaseEventOptions{}, Random(1));
  std::vector<std::string> bodies;
  for (size_t i = 0; i < n; ++i) bodies.push_back(generator.Next().body);
  return bodies;
}

void BM_GenerateReleaseEvent(benchmark::State& state) {
  ReleaseEventGenerator generator(ReleaseEventOptions{}, Random(1));
  for (auto _ : state) {
    ReleaseEvent event = generator.Next();
    benchmark::DoNotOptimize(event.body.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GenerateReleaseEvent);

void BM_ValidatePayload(benchmark::State& state) {
  const auto validator = *PayloadValidator::Bundled();
  const std::vector<std::string> bodies = Bodies(1024);
  size_t i = 0;
  for (auto _ : state) {
    PayloadVerdict v = validator->Validate(bodies[i++ & 1023]);
    if (!v.valid()) state.SkipWithError("a generated body was invalid");
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValidatePayload);

void BM_ValidatePayloadCached(benchmark::State& state) {
  CachedPayloadValidator cached(*PayloadValidator::Bundled());
  const std::vector<std::string> bodies = Bodies(1024);
  std::vector<uint64_t> hashes;
  for (const std::string& b : bodies) hashes.push_back(Hash64(b));
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ & 1023;
    auto v = cached.Validate(bodies[k], hashes[k]);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValidatePayloadCached);

}  // namespace
}  // namespace hooksim

BENCHMARK_MAIN();
