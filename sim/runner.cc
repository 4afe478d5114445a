#include "sim/runner.h"

#include <chrono>
#include <cstdio>

namespace hooksim {
namespace {

// Deliveries the run will make to `receiver`: events x its active hooks.
size_t ExpectedDeliveries(const Scenario& scenario,
                          const std::string& receiver) {
  const size_t events = scenario.events.payloads.empty()
                            ? static_cast<size_t>(scenario.events.count)
                            : scenario.events.payloads.size();
  size_t hooks = 0;
  for (const HookSpec& h : scenario.hooks) {
    hooks += !h.paused && h.receiver == receiver ? 1 : 0;
  }
  return events * hooks;
}

}  // namespace

std::string RunResult::Fingerprint() const {
  uint64_t h = 0x6a09e667f3bcc908ULL;
  auto mix = [&h](uint64_t v) {
    uint64_t state = h ^ v;
    h = SplitMix64(state);
  };
  for (const AttemptRecord& a : engine->attempts()) {
    mix(Hash64(engine->deliveries()[a.delivery].id));
    mix(a.attempt);
    mix(static_cast<uint64_t>(a.started.time_since_epoch().count()));
    mix(static_cast<uint64_t>(a.ended.time_since_epoch().count()));
    mix(static_cast<uint64_t>(a.result.error));
    mix(static_cast<uint64_t>(a.result.status));
    mix(a.next_at ? static_cast<uint64_t>(
                        a.next_at->time_since_epoch().count())
                  : ~0ULL);
  }
  char buf[20];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string FormatTraceLine(const DeliveryEngine& engine,
                            const AttemptRecord& record) {
  const Delivery& d = engine.deliveries()[record.delivery];
  std::string line = FormatRunTime(record.started);
  line += "  hook=" + engine.hooks()[d.hook].id;
  line += "  " + d.id;
  line += "  attempt " + std::to_string(record.attempt) + "/" +
          std::to_string(engine.options().policy.max_attempts());
  line += "  " + DescribeAttemptResult(record.result);
  line += " after " +
          std::to_string(ToMillis(record.ended - record.started)) + " ms";
  if (record.result.IsSuccess()) {
    line += "  -> delivered";
  } else if (record.next_at) {
    line += "  -> retry at " + FormatRunTime(*record.next_at);
  } else {
    line += "  -> gave_up";
  }
  return line;
}

Result<std::unique_ptr<RunResult>> RunScenario(const Scenario& scenario,
                                               const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  auto run = std::make_unique<RunResult>();
  run->scenario = &scenario;
  run->seed = options.seed.value_or(scenario.seed);
  const Random master(run->seed);

  run->validator = options.validator;
  if (!run->validator) {
    Result<std::shared_ptr<const PayloadValidator>> bundled =
        PayloadValidator::Bundled();
    if (!bundled.ok()) return bundled.error();
    run->validator = *bundled;
  }
  auto cache = std::make_shared<CachedPayloadValidator>(run->validator);

  run->network = std::make_unique<SimNetwork>(run->clock);
  run->wire = std::make_unique<WireRecorder>(*run->network);
  // The run's size is known: size the per-delivery tables once.
  run->wire->Reserve(scenario.DeliveryCount());
  for (const ReceiverSpec& spec : scenario.receivers) {
    ReceiverOptions ropts;
    ropts.name = spec.name;
    ropts.validator = cache;
    ropts.journal.expected_deliveries = ExpectedDeliveries(scenario, spec.name);
    auto receiver = std::make_unique<MockReceiver>(
        ropts, spec.behavior, master.Fork("receiver:" + spec.name));
    run->network->Attach(SimReceiverUrl(spec.name), receiver.get());
    run->receivers.push_back(std::move(receiver));
  }

  EngineOptions eopts;
  eopts.policy = scenario.retry;
  eopts.seed = master.Fork("engine").seed();
  eopts.max_deliveries = kMaxScenarioDeliveries;
  Transport* sender_transport = run->wire.get();
  if (options.wrap_sender) {
    run->sender_wrapper = options.wrap_sender(*run->wire);
    sender_transport = run->sender_wrapper.get();
  }
  run->engine =
      std::make_unique<DeliveryEngine>(run->clock, *sender_transport, eopts);
  for (const HookSpec& h : scenario.hooks) {
    int receiver_index = -1;
    for (size_t i = 0; i < scenario.receivers.size(); ++i) {
      if (scenario.receivers[i].name == h.receiver) {
        receiver_index = static_cast<int>(i);
      }
    }
    run->engine->AddHook(Hook{
        h.id, receiver_index >= 0 ? SimReceiverUrl(h.receiver) : h.url,
        !h.paused});
    run->hook_receiver.push_back(receiver_index);
  }
  if (options.trace) {
    DeliveryEngine* engine = run->engine.get();
    run->engine->SetAttemptObserver(
        [engine, trace = options.trace](const AttemptRecord& r) {
          trace(FormatTraceLine(*engine, r));
        });
  }

  // Publish the events on the virtual timeline, one every interval.
  Status publish_error;
  DeliveryEngine* engine = run->engine.get();
  auto publish = [engine, &publish_error](std::string type,
                                          std::string body) {
    Result<uint32_t> r = engine->Publish(std::move(type), std::move(body));
    if (!r.ok() && !publish_error) publish_error = r.error();
  };
  if (!scenario.events.payloads.empty()) {
    for (size_t i = 0; i < scenario.events.payloads.size(); ++i) {
      std::string body = scenario.events.payloads[i];
      std::string type = "unknown";
      nlohmann::json parsed =
          nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
      if (parsed.is_object() && parsed.contains("event") &&
          parsed["event"].is_string()) {
        type = parsed["event"].get<std::string>();
      }
      run->clock.ScheduleAfter(
          scenario.events.interval * static_cast<int64_t>(i),
          [publish, type = std::move(type), body = std::move(body)]() mutable {
            publish(std::move(type), std::move(body));
          });
    }
  } else {
    ReleaseEventGenerator generator(scenario.events.generator,
                                    master.Fork("events"));
    for (int64_t i = 0; i < scenario.events.count; ++i) {
      ReleaseEvent event = generator.Next();
      run->clock.ScheduleAfter(
          scenario.events.interval * i,
          [publish, body = std::move(event.body)]() mutable {
            publish("release", std::move(body));
          });
    }
  }

  run->clock_status = run->clock.Run(options.max_steps);
  if (publish_error) return *publish_error;
  run->wall_seconds = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - wall_start)
                          .count();
  return run;
}

}  // namespace hooksim
