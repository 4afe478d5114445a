// The receiver's and the scheduler's per-request costs.
//
// BM_ReceiverHandle: one MockReceiver::Handle call (find the delivery,
// decide the answer, check the body against the cached schema verdict,
// append to the journal ring) for requests of `range(0)` distinct
// deliveries in turn, each body already validated once (as retries and
// other hooks of an event are). BM_ReceiverHandleWeighted: the same with a
// seeded 70/30 weighted answer (a forked generator per request).
// BM_JournalRecord: the journal append alone (ring copy and per-delivery
// counters). BM_RetryDelay: the engine's retry scheduling arithmetic: a
// generator forked by (delivery, attempt) and the jittered delay.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "mock-receivers/journal.h"
#include "mock-receivers/receiver.h"
#include "sim/base/random.h"
#include "sim/contract/http_types.h"
#include "sim/contract/payload_validator.h"
#include "sim/contract/release_events.h"
#include "sim/engine/retry_policy.h"

namespace hooksim {
namespace {

// Requests of `deliveries` distinct deliveries, bodies from the generator.
struct Requests {
  explicit Requests(size_t deliveries) {
    ReleaseEventGenerator generator(ReleaseEventOptions{}, Random(3));
    // At most 1024 distinct bodies (deliveries of one event to several
    // hooks share one), so setting up 100,000 deliveries stays cheap.
    for (size_t i = 0; i < std::min<size_t>(deliveries, 1024); ++i) {
      bodies.push_back(generator.Next().body);
    }
    for (size_t i = 0; i < deliveries; ++i) {
      ids.push_back("dlv_" + std::to_string(1000000000000000 + i));
    }
    headers.resize(deliveries);
    for (size_t i = 0; i < deliveries; ++i) {
      headers[i] = {
          Header{"Content-Type", "application/json"},
          Header{"User-Agent", kUserAgent}, Header{kDeliveryIdHeader, ids[i]},
          Header{kEventTypeHeader, "release"}, Header{kAttemptHeader, "1"}};
    }
  }
  HttpRequest Get(size_t i) const {
    return HttpRequest{"POST", "/hook", headers[i], bodies[i % bodies.size()]};
  }
  std::vector<std::string> bodies;
  std::vector<std::string> ids;
  std::vector<std::array<Header, 5>> headers;
};

void HandleLoop(benchmark::State& state, BehaviorSpec behavior) {
  const size_t n = static_cast<size_t>(state.range(0));
  const Requests requests(n);
  auto cache =
      std::make_shared<CachedPayloadValidator>(*PayloadValidator::Bundled());
  ReceiverOptions options{"bench", JournalLimits{}, cache};
  options.journal.max_deliveries = n;
  MockReceiver receiver(options, std::move(behavior), Random(1));
  // Validate each body once, outside the timing (the cache's steady state).
  for (size_t i = 0; i < n; ++i) receiver.Handle(requests.Get(i), TimePoint{});
  size_t i = 0;
  for (auto _ : state) {
    Reply reply = receiver.Handle(requests.Get(i), TimePoint{});
    benchmark::DoNotOptimize(reply);
    if (++i == n) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ReceiverHandle(benchmark::State& state) {
  HandleLoop(state, BehaviorSpec{});
}
BENCHMARK(BM_ReceiverHandle)->Arg(1000)->Arg(100000);

void BM_ReceiverHandleWeighted(benchmark::State& state) {
  BehaviorSpec behavior;
  behavior.answers = WeightedAnswer{
      {{Answer{200, Fault::kNone}, 0.7}, {Answer{500, Fault::kNone}, 0.3}}};
  HandleLoop(state, std::move(behavior));
}
BENCHMARK(BM_ReceiverHandleWeighted)->Arg(1000);

void BM_JournalRecord(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  std::vector<std::string> keys;
  for (size_t i = 0; i < n; ++i) keys.push_back("dlv_" + std::to_string(i));
  Journal journal(JournalLimits{1024, n, n});
  JournalEntry entry;
  entry.method = "POST";
  entry.target = "/hook";
  entry.content_type = "application/json";
  entry.event_type = "release";
  entry.has_delivery_id = true;
  entry.body_size = 400;
  size_t i = 0;
  for (auto _ : state) {
    entry.delivery_key = keys[i];
    entry.body_hash = i;
    journal.RecordCopy(entry);
    if (++i == n) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_JournalRecord)->Arg(1000)->Arg(100000);

void BM_RetryDelay(benchmark::State& state) {
  const RetryPolicy policy;
  const Random engine_rng(1);
  uint64_t delivery = 0;
  for (auto _ : state) {
    const int attempt = static_cast<int>(delivery % 5) + 1;
    Random jitter = engine_rng.Fork((delivery << 8) | attempt);
    Duration delay = policy.DelayBefore(attempt, jitter);
    benchmark::DoNotOptimize(delay);
    ++delivery;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RetryDelay);

}  // namespace
}  // namespace hooksim

BENCHMARK_MAIN();
