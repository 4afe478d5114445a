// How fast the virtual world runs the engine.
//
// BM_VirtualWorld/EVENTS/HOOKS: a full scenario run (event generation,
// engine, virtual clock, network, receivers with journal and schema check)
// against receivers answering 500 with probability 0.3 under the default
// multi-hour retry schedule. Reports attempts/s (items_per_second).
// BM_VirtualWorldVerify: the same run plus the verifier.
// BM_WorldWithoutSchema: the same machinery (network, receiver, journal,
// wire recorder) without the per-body schema check.
// BM_EngineOnly: the engine and virtual clock with a trivial transport, to
// separate the engine's per-attempt cost from the receivers'.
// BM_EngineOnlySigned: the same with every hook signing its attempts.
//
// Targets (issue 2): >= 1,000,000 attempts/s on one core, and 10,000 events
// x 10 hooks finishing in under 1 s.
#include <benchmark/benchmark.h>

#include <string>

#include "mock-receivers/receiver.h"
#include "sim/contract/release_events.h"
#include "sim/engine/delivery_engine.h"
#include "sim/engine/wire_recorder.h"
#include "sim/judge/verifier.h"
#include "sim/scenario/scenario.h"
#include "sim/virtual/virtual_clock.h"
#include "sim/virtual/virtual_network.h"
#include "sim/world/runner.h"

namespace hooksim {
namespace {

Scenario MakeScenario(int events, int hooks) {
  std::string json = R"({"name": "bench", "seed": 7,
    "events": {"count": )" + std::to_string(events) + R"(, "interval_ms": 100},
    "receivers": {"flaky": {"behavior": {"weighted": {"200": 0.7, "500": 0.3}}}},
    "hooks": [)";
  for (int h = 0; h < hooks; ++h) {
    json += (h ? "," : "") + std::string(R"({"id": "h)") +
            std::to_string(h) + R"(", "receiver": "flaky"})";
  }
  json += "]}";
  Result<Scenario> s = ParseScenarioText(json);
  if (!s.ok()) {
    fprintf(stderr, "bench scenario: %s\n", s.error().ToString().c_str());
    std::abort();
  }
  return std::move(s).value();
}

void BM_VirtualWorld(benchmark::State& state) {
  const Scenario scenario = MakeScenario(state.range(0), state.range(1));
  uint64_t attempts = 0;
  for (auto _ : state) {
    auto run = RunScenario(scenario, RunOptions{});
    if (!run.ok()) state.SkipWithError(run.error().ToString().c_str());
    attempts += (*run)->engine->total_attempts();
    benchmark::DoNotOptimize(run);
  }
  state.SetItemsProcessed(static_cast<int64_t>(attempts));
  state.counters["attempts_per_run"] = benchmark::Counter(
      static_cast<double>(attempts) / state.iterations());
}
BENCHMARK(BM_VirtualWorld)
    ->Args({1000, 10})
    ->Args({10000, 10})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_VirtualWorldVerify(benchmark::State& state) {
  const Scenario scenario = MakeScenario(state.range(0), state.range(1));
  for (auto _ : state) {
    auto run = RunScenario(scenario, RunOptions{});
    Verdict v = Verify((*run)->Record());
    if (!v.passed()) state.SkipWithError("verdict failed");
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_VirtualWorldVerify)
    ->Args({10000, 10})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// A transport that answers 500 or 200 (30 % / 70 %) at once.
class InstantTransport : public Transport {
 public:
  explicit InstantTransport(Clock& clock) : clock_(clock), rng_(3) {}
  void Send(const HttpRequest&, Duration,
            std::function<void(AttemptResult)> done) override {
    const int status = rng_.Bernoulli(0.3) ? 500 : 200;
    clock_.ScheduleAfter(Duration::zero(), [done = std::move(done), status] {
      done(AttemptResult{AttemptError::kNone, status});
    });
  }

 private:
  Clock& clock_;
  Random rng_;
};

void BM_EngineOnly(benchmark::State& state) {
  uint64_t attempts = 0;
  for (auto _ : state) {
    VirtualClock clock;
    InstantTransport transport(clock);
    EngineOptions options;
    options.keep_attempt_log = false;
    DeliveryEngine engine(clock, transport, options);
    for (int h = 0; h < 10; ++h) {
      engine.AddHook(Hook{"h" + std::to_string(h), "http://x/", true});
    }
    for (int e = 0; e < state.range(0); ++e) {
      (void)engine.Publish("release", R"({"event":"release","data":{}})");
    }
    (void)clock.Run(UINT64_MAX);
    attempts += engine.total_attempts();
  }
  state.SetItemsProcessed(static_cast<int64_t>(attempts));
}
BENCHMARK(BM_EngineOnly)->Arg(10000)->Unit(benchmark::kMillisecond);

// BM_EngineOnly with every hook signing (Standard Webhooks headers, one
// HMAC-SHA256 per attempt): compare the two in one run for the cost of
// signing.
void BM_EngineOnlySigned(benchmark::State& state) {
  uint64_t attempts = 0;
  for (auto _ : state) {
    VirtualClock clock;
    InstantTransport transport(clock);
    EngineOptions options;
    options.keep_attempt_log = false;
    DeliveryEngine engine(clock, transport, options);
    for (int h = 0; h < 10; ++h) {
      Hook hook{"h" + std::to_string(h), "http://x/", true};
      hook.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
      engine.AddHook(hook);
    }
    for (int e = 0; e < state.range(0); ++e) {
      (void)engine.Publish("release", R"({"event":"release","data":{}})");
    }
    (void)clock.Run(UINT64_MAX);
    attempts += engine.total_attempts();
  }
  state.SetItemsProcessed(static_cast<int64_t>(attempts));
}
BENCHMARK(BM_EngineOnlySigned)->Arg(10000)->Unit(benchmark::kMillisecond);

// The world without the payload schema check: engine, virtual clock, wire
// recorder, in-process network and a receiver with its journal, fed
// pre-generated events. Separates the per-attempt machinery from the
// per-body valijson cost (about 10 us per distinct body).
void BM_WorldWithoutSchema(benchmark::State& state) {
  const int events = static_cast<int>(state.range(0));
  std::vector<std::string> bodies;
  ReleaseEventGenerator generator(ReleaseEventOptions{}, Random(5));
  for (int e = 0; e < events; ++e) bodies.push_back(generator.Next().body);
  BehaviorSpec behavior;
  behavior.answers = WeightedAnswer{{{Answer{200, Fault::kNone}, 0.7},
                                     {Answer{500, Fault::kNone}, 0.3}}};
  uint64_t attempts = 0;
  for (auto _ : state) {
    VirtualClock clock;
    VirtualNetwork network(clock);
    WireRecorder wire(network);
    MockReceiver receiver(ReceiverOptions{"r", {}, nullptr}, behavior,
                          Random(9));
    network.Attach("http://r/hook", &receiver);
    EngineOptions options;
    DeliveryEngine engine(clock, wire, options);
    for (int h = 0; h < 10; ++h) {
      engine.AddHook(Hook{"h" + std::to_string(h), "http://r/hook", true});
    }
    for (const std::string& body : bodies) {
      (void)engine.Publish("release", body);
    }
    (void)clock.Run(UINT64_MAX);
    attempts += engine.total_attempts();
  }
  state.SetItemsProcessed(static_cast<int64_t>(attempts));
}
BENCHMARK(BM_WorldWithoutSchema)->Arg(1000)->Arg(10000)->Unit(
    benchmark::kMillisecond);

}  // namespace
}  // namespace hooksim

BENCHMARK_MAIN();
