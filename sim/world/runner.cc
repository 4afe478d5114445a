#include "sim/world/runner.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "mock-receivers/http/http_receiver_server.h"
#include "sim/base/random.h"
#include "sim/contract/release_events.h"
#include "sim/engine/attempt_line.h"

namespace hooksim {

struct RealWorld {
  std::unique_ptr<SenderWorld> sender;  // Real clock and HTTP transport.
  std::vector<std::unique_ptr<HttpReceiverServer>> servers;

  // Stops the servers (waking handlers that hang or sleep) and joins the
  // transport's workers. Idempotent.
  void Shutdown() {
    for (auto& server : servers) server->Stop();
    if (sender) sender->Shutdown();
  }
};

namespace {

// Deliveries the run will make to `receiver`: events x its hooks (paused
// ones included: their deliveries are held, and may go out on resume).
size_t ExpectedDeliveries(const Scenario& scenario,
                          const std::string& receiver) {
  const size_t events = scenario.EventCount();
  size_t hooks = 0;
  for (const HookSpec& h : scenario.hooks) {
    hooks += h.receiver == receiver ? 1 : 0;
  }
  return events * hooks;
}

}  // namespace

Duration LongestRunTime(const Scenario& scenario) {
  const size_t events = scenario.EventCount();
  Duration total = scenario.events.interval *
                   static_cast<int64_t>(events > 0 ? events - 1 : 0);
  // A delivery held by a pause starts over no later than the last resume.
  if (!scenario.timeline.empty()) {
    total = std::max(total, scenario.timeline.back().at);
  }
  // The slowest policy of any hook (the scenario's when none has its own).
  Duration longest = Duration::zero();
  for (size_t h = 0; h <= scenario.hooks.size(); ++h) {
    if (h < scenario.hooks.size() && !scenario.hooks[h].contract) continue;
    const RetryPolicy& p =
        h < scenario.hooks.size() ? scenario.hooks[h].retry : scenario.retry;
    Duration one = Duration::zero();
    for (int k = 1; k <= p.max_reattempts; ++k) one += p.DelayBounds(k).second;
    one += p.timeout * p.max_attempts();
    longest = std::max(longest, one);
  }
  return total + longest;
}

// Makes each event when its publication falls due (not all up front: a big
// run would hold every body from the start), checks its payload, and
// publishes it. The clock runs publications in the order they were
// scheduled (their times never decrease; equal times keep their order),
// so the generator is called in event order, as if up front.
struct EventSource {
  const Scenario* scenario = nullptr;
  DeliveryEngine* engine = nullptr;
  CachedPayloadValidator* cache = nullptr;
  PublishedPayloads* payloads = nullptr;
  std::optional<ReleaseEventGenerator> generator;  // Without payloads.
  Status publish_error;  // The first publication error.

  // Publishes the next generated event, or scenario payload `i`.
  void PublishNext(size_t i) {
    if (generator) {
      Publish("release", generator->Next().body);
      return;
    }
    std::string body = scenario->events.payloads[i];
    std::string type = "unknown";
    nlohmann::json parsed =
        nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object() && parsed.contains("event") &&
        parsed["event"].is_string()) {
      type = parsed["event"].get<std::string>();
    }
    Publish(std::move(type), std::move(body));
  }

  void Publish(std::string type, std::string body) {
    // The verdict the judge reads (rules C3, C4 on the sender's side); the
    // receivers then find it in the cache.
    const std::shared_ptr<const PayloadVerdict> verdict =
        cache->Validate(body, Hash64(body));
    Result<uint32_t> r = engine->Publish(std::move(type), std::move(body));
    if (!r.ok()) {
      if (publish_error.ok()) publish_error = r.error();
      return;
    }
    payloads->release.push_back(verdict->event == "release");
    if (!verdict->valid()) {
      payloads->invalid.push_back({*r, verdict->issues.front()});
    }
  }
};

RunResult::RunResult() = default;
RunResult::~RunResult() {
  // Stop every thread first, then drop what refers to the clock and the
  // transports (engine, wrapper, wire recorder) before they go.
  if (real) real->Shutdown();
  engine.reset();
  sender_wrapper.reset();
  wire.reset();
}

RunRecord RunResult::Record() const {
  RunRecord record;
  record.scenario = scenario;
  if (scenario != nullptr) record.contract = &scenario->contract;
  record.engine = engine.get();
  record.log = log.get();
  record.wire = wire.get();
  for (const std::unique_ptr<MockReceiver>& r : receivers) {
    record.receivers.push_back(r.get());
  }
  record.hook_receiver = hook_receiver;
  record.validator = validator.get();
  record.payloads = &payloads;
  record.clock_status = clock_status;
  return record;
}

std::string RunResult::Fingerprint() const {
  return log ? log->Fingerprint() : SummariseLog(*engine).Fingerprint();
}

void RunStop::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
  if (clock_ != nullptr) clock_->Stop();
}

void RunStop::Attach(EventLoop* clock) {
  std::lock_guard<std::mutex> lock(mu_);
  clock_ = clock;
  if (stopped_) clock_->Stop();
}

void RunStop::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  clock_ = nullptr;
}

namespace {

// The run's seed, world, time scale, validator and Unix origin.
Status PrepareRun(RunResult& run, const Scenario& scenario,
                  const RunOptions& options) {
  run.scenario = &scenario;
  run.seed = options.seed.value_or(scenario.seed);
  run.world = options.world;
  run.time_scale = options.world == World::kHttp ? options.time_scale : 1.0;
  if (options.world == World::kHttp &&
      !(options.time_scale > 0 && options.time_scale <= 1)) {
    return Status::InvalidArgument("time scale must be in (0, 1], got " +
                                   std::to_string(options.time_scale));
  }
  run.validator = options.validator;
  if (!run.validator) {
    Result<std::shared_ptr<const PayloadValidator>> bundled =
        PayloadValidator::Bundled();
    if (!bundled.ok()) return bundled.error();
    run.validator = *bundled;
  }
  // The Unix time of the timeline's zero, for signed deliveries and the
  // receivers that verify them: fixed by the scenario in the virtual world
  // (reproducible), the system time in the HTTP world.
  run.unix_origin =
      options.world == World::kHttp
          ? UnixTimeNow()
          : Duration(std::chrono::seconds(scenario.start_unix_s));
  return Status::Ok();
}

// The world: its event loop and the network the engine sends through.
struct WorldSeams {
  EventLoop* clock = nullptr;
  Transport* network = nullptr;
};

Result<WorldSeams> BuildWorld(RunResult& run, const RunOptions& options) {
  WorldSeams seams;
  seams.clock = &run.clock;
  if (options.world == World::kHttp) {
    run.real = std::make_unique<RealWorld>();
    SenderWorldOptions wopts;
    wopts.world = World::kHttp;
    wopts.time_scale = options.time_scale;
    wopts.http_workers = options.http_workers;
    Result<std::unique_ptr<SenderWorld>> sender = SenderWorld::Make(wopts);
    if (!sender.ok()) return sender.error();
    run.real->sender = std::move(*sender);
    seams.clock = &run.real->sender->loop();
    seams.network = &run.real->sender->transport();
  } else {
    run.network = std::make_unique<VirtualNetwork>(run.clock);
    seams.network = run.network.get();
  }
  return seams;
}

// One MockReceiver per receiver of the scenario.
void MakeReceivers(RunResult& run, const Scenario& scenario,
                   const Random& master) {
  auto cache = std::make_shared<CachedPayloadValidator>(run.validator);
  run.payload_cache = cache;
  for (const ReceiverSpec& spec : scenario.receivers) {
    ReceiverOptions ropts;
    ropts.name = spec.name;
    ropts.validator = cache;
    ropts.journal.expected_deliveries = ExpectedDeliveries(scenario, spec.name);
    ropts.unix_origin = run.unix_origin;
    auto receiver = std::make_unique<MockReceiver>(
        ropts, spec.behavior, master.Fork("receiver:" + spec.name));
    run.receivers.push_back(std::move(receiver));
  }
}

// Where each receiver is reached: sim://NAME/hook in the virtual world.
std::vector<std::string> AttachVirtualReceivers(RunResult& run) {
  std::vector<std::string> urls;
  for (const auto& receiver : run.receivers) {
    urls.push_back(SimReceiverUrl(receiver->name()));
    run.network->Attach(urls.back(), receiver.get());
  }
  return urls;
}

// Its own server's URL in the HTTP world: one server per receiver.
Result<std::vector<std::string>> ServeHttpReceivers(RunResult& run,
                                                    const RunOptions& options) {
  std::vector<std::string> urls;
  for (const auto& receiver : run.receivers) {
    HttpReceiverOptions sopts;
    sopts.time_scale = options.time_scale;
    EventLoop* real_clock = &run.real->sender->loop();
    sopts.now = [real_clock] { return real_clock->Now(); };
    // Each transport worker may hold a keep-alive connection to every
    // receiver, and the server keeps a thread per open connection: room
    // for all of them, so no request waits behind an idle connection.
    sopts.threads = options.http_workers + 8;
    auto server = std::make_unique<HttpReceiverServer>(*receiver, sopts);
    if (Status s = server->Start(); !s.ok()) {
      return Status(s.code(), "receiver " + receiver->name() + ": " +
                                  s.ToString());
    }
    urls.push_back(server->base_url() + "/hook");
    run.real->servers.push_back(std::move(server));
  }
  return urls;
}

// The engine, sending through the wire recorder (and the test's wrapper),
// with the scenario's hooks pointed at `receiver_urls`.
void BuildEngine(RunResult& run, const Scenario& scenario,
                 const RunOptions& options, EventLoop& clock,
                 const std::vector<std::string>& receiver_urls,
                 const Random& master) {
  EngineOptions eopts;
  eopts.policy = scenario.retry;
  eopts.contract = scenario.contract;
  eopts.seed = master.Fork("engine").seed();
  eopts.max_deliveries = kMaxScenarioDeliveries;
  eopts.unix_origin = run.unix_origin;
  eopts.keep_attempt_log = options.keep_attempt_log;
  // Bodies go once their deliveries have ended; the judge reads the
  // payload verdicts taken at publication (EventSource).
  eopts.slots = SlotReuse::kBodies;
  Transport* sender_transport = run.wire.get();
  if (options.wrap_sender) {
    run.sender_wrapper = options.wrap_sender(*run.wire);
    sender_transport = run.sender_wrapper.get();
  }
  run.engine = std::make_unique<DeliveryEngine>(clock, *sender_transport, eopts);
  for (const HookSpec& h : scenario.hooks) {
    int receiver_index = -1;
    for (size_t i = 0; i < scenario.receivers.size(); ++i) {
      if (scenario.receivers[i].name == h.receiver) {
        receiver_index = static_cast<int>(i);
      }
    }
    Hook hook{h.id, receiver_index >= 0 ? receiver_urls[receiver_index] : h.url,
              !h.paused, h.secret, nullptr};
    if (h.contract) {
      hook.contract = std::make_shared<const HookContract>(
          HookContract{*h.contract, h.retry});
    }
    run.engine->AddHook(std::move(hook));
    run.hook_receiver.push_back(receiver_index);
  }
  // Every record of a hook the scenario ever pauses is kept whole (the
  // judge checks each attempt against the pause windows).
  AttemptLogSummary::Options log_options;
  for (size_t h = 0; h < scenario.hooks.size(); ++h) {
    log_options.keep_hooks.push_back(scenario.EverPaused(h));
  }
  run.log = std::make_unique<AttemptLogSummary>(std::move(log_options));
  run.log->Reserve(scenario.DeliveryCount());
  DeliveryEngine* engine = run.engine.get();
  AttemptLogSummary* log = run.log.get();
  if (!options.trace && !options.progress) {
    run.engine->SetAttemptObserver(
        [engine, log](const AttemptRecord& r) { log->Add(*engine, r); });
    return;
  }
  const uint64_t deliveries = scenario.DeliveryCount();
  // The wall clock is read every 1024th attempt in the virtual world
  // (about a million attempts a second), on every attempt over HTTP.
  const uint64_t check_every = options.world == World::kVirtual ? 1024 : 1;
  const auto started = std::chrono::steady_clock::now();
  auto next_progress = started + options.progress_after;
  run.engine->SetAttemptObserver(
      [engine, log, trace = options.trace, progress = options.progress,
       every = options.progress_every, deliveries, check_every, started,
       next_progress, ended = uint64_t{0}](const AttemptRecord& r) mutable {
        log->Add(*engine, r);
        if (trace) trace(FormatAttemptLine(*engine, r));
        if (!progress || ++ended % check_every != 0) return;
        const auto now = std::chrono::steady_clock::now();
        if (now < next_progress) return;
        next_progress = now + every;
        RunProgress p;
        p.attempts = ended;
        p.deliveries = deliveries;
        p.deliveries_ended =
            engine->deliveries().size() - engine->open_deliveries();
        p.now = r.ended;
        p.wall_seconds = std::chrono::duration<double>(now - started).count();
        progress(p);
      });
}

// The timeline's pauses and resumes, scheduled before the events so a step
// and an event at the same time take the step first. Engine hooks were
// added in the scenario's order: the indices match.
void ScheduleTimeline(const Scenario& scenario, DeliveryEngine* engine,
                      EventLoop& clock) {
  for (const TimelineStep& step : scenario.timeline) {
    clock.ScheduleAfter(step.at, [engine, step] {
      engine->SetHookActive(static_cast<uint32_t>(step.hook_index),
                            !step.pause);
    });
  }
}

// Publishes the events on the timeline, one every interval, each made when
// it falls due (EventSource); the first publication error goes to
// run.events->publish_error.
void ScheduleEvents(RunResult& run, const Scenario& scenario, EventLoop& clock,
                    const Random& master) {
  run.events = std::make_unique<EventSource>();
  EventSource* source = run.events.get();
  source->scenario = &scenario;
  source->engine = run.engine.get();
  source->cache = run.payload_cache.get();
  source->payloads = &run.payloads;
  const bool payloads = !scenario.events.payloads.empty();
  if (!payloads) {
    source->generator.emplace(scenario.events.generator,
                              master.Fork("events"));
  }
  const size_t count = payloads ? scenario.events.payloads.size()
                                : static_cast<size_t>(scenario.events.count);
  run.payloads.release.reserve(count);
  // Two words of capture: no allocation per event.
  for (size_t i = 0; i < count; ++i) {
    clock.ScheduleAfter(scenario.events.interval * static_cast<int64_t>(i),
                        [source, i] { source->PublishNext(i); });
  }
}

// Runs the loop to its end. Bounded in both worlds: the step limit, and
// over HTTP a generous wall limit (three times the longest possible
// timeline, plus a minute).
void RunToEnd(RunResult& run, const Scenario& scenario,
              const RunOptions& options, EventLoop& clock) {
  LoopLimits limits;
  limits.max_steps = options.max_steps;
  if (run.real) {
    limits.wall_limit =
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            clock.ToWall(LongestRunTime(scenario)) * 3) +
        std::chrono::minutes(1);
  }
  if (options.stop) options.stop->Attach(&clock);
  run.clock_status = clock.Run(limits);
  if (options.stop) options.stop->Detach();
  run.ended_at = clock.Now();
  if (run.real) run.real->Shutdown();
}

}  // namespace

Result<std::unique_ptr<RunResult>> RunScenario(const Scenario& scenario,
                                               const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  auto run = std::make_unique<RunResult>();
  if (Status s = PrepareRun(*run, scenario, options); !s.ok()) return s;
  const Random master(run->seed);
  Result<WorldSeams> built = BuildWorld(*run, options);
  if (!built.ok()) return built.error();
  const WorldSeams world = *built;
  run->wire = std::make_unique<WireRecorder>(*world.network);
  // The run's size is known: size the per-delivery tables once.
  run->wire->Reserve(scenario.DeliveryCount());
  MakeReceivers(*run, scenario, master);
  std::vector<std::string> receiver_urls;
  if (options.world == World::kVirtual) {
    receiver_urls = AttachVirtualReceivers(*run);
  } else {
    Result<std::vector<std::string>> urls = ServeHttpReceivers(*run, options);
    if (!urls.ok()) return urls.error();
    receiver_urls = std::move(*urls);
  }
  BuildEngine(*run, scenario, options, *world.clock, receiver_urls, master);
  ScheduleTimeline(scenario, run->engine.get(), *world.clock);
  ScheduleEvents(*run, scenario, *world.clock, master);
  RunToEnd(*run, scenario, options, *world.clock);
  if (!run->events->publish_error.ok()) return run->events->publish_error;
  run->wall_seconds = std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - wall_start)
                          .count();
  return run;
}

}  // namespace hooksim
