#include "sim/cli/deliver_command.h"

#include <charconv>
#include <chrono>
#include <random>
#include <cstdio>
#include <exception>
#include <functional>
#include <optional>
#include <ostream>
#include <string_view>

#include "sim/base/parse_number.h"
#include "sim/cli/worker_command.h"
#include "sim/contract/contract_file.h"
#include "sim/contract/release_events.h"
#include "sim/contract/webhook_signature.h"
#include "sim/engine/attempt_line.h"
#include "sim/engine/delivery_engine.h"
#include "sim/engine/retry_policy.h"
#include "sim/http/http_url.h"
#include "sim/os/interrupt_watcher.h"
#include "sim/world/sender_world.h"

namespace hooksim {
namespace {

constexpr int64_t kMaxDelayMs = 30LL * 24 * 3600 * 1000;  // RetryPolicy's.
constexpr int64_t kMaxTimeoutMs = 3600 * 1000;            // RetryPolicy's.

Error FlagError(std::string_view flag, std::string_view expected,
                std::string_view got) {
  return MakeError("--" + std::string(flag) + ": expected " +
                   std::string(expected) + ", got \"" + std::string(got) +
                   "\"");
}

// Decimal integer in [min, max]: digits only, no sign, no spaces.
Result<int64_t> ParseInt(std::string_view flag, std::string_view text,
                         int64_t min, int64_t max) {
  const std::string expected =
      "an integer " + std::to_string(min) + ".." + std::to_string(max);
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || text.front() == '-' || text.front() == '+' ||
      ec != std::errc() || ptr != end || value < min || value > max) {
    return FlagError(flag, expected, text);
  }
  return value;
}

// At most `max_delays` delays (the contract's re-attempts).
Result<std::vector<Duration>> ParseSchedule(std::string_view text,
                                            int max_delays) {
  constexpr std::string_view kFlag = "retry-schedule-ms";
  const std::string expected =
      "1 to " + std::to_string(max_delays) +
      " comma-separated delays in ms, each 0.." + std::to_string(kMaxDelayMs);
  std::vector<Duration> delays;
  size_t start = 0;
  // Bounded: each round consumes one item, and items are capped.
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view item = text.substr(
        start, comma == std::string_view::npos ? text.npos : comma - start);
    if (delays.size() == static_cast<size_t>(max_delays)) {
      return MakeError("--retry-schedule-ms: at most " +
                       std::to_string(max_delays) +
                       " delays (the contract allows " +
                       std::to_string(max_delays) + " re-attempts), got \"" +
                       std::string(text) + "\"");
    }
    Result<int64_t> ms = ParseInt(kFlag, item, 0, kMaxDelayMs);
    if (!ms.ok()) return FlagError(kFlag, expected, text);
    delays.push_back(Millis(*ms));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return delays;
}

Result<double> ParseFraction(std::string_view flag, std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] =
      std::from_chars(text.data(), end, value, std::chars_format::fixed);
  if (text.empty() || text.front() == '-' || text.front() == '+' ||
      ec != std::errc() || ptr != end || !(value >= 0.0 && value <= 1.0)) {
    return FlagError(flag, "a fraction 0..1", text);
  }
  return value;
}

std::string DeliveryLine(const Delivery& d) {
  std::string line = d.id;
  line += "  attempts=" + std::to_string(d.attempts);
  switch (d.state) {
    case DeliveryState::kDelivered:
      line += "  delivered";
      break;
    case DeliveryState::kGaveUp:
      line += "  gave_up";
      break;
    default:
      line += "  pending";
      break;
  }
  // An attempt that has not ended yet leaves `last` at its default.
  const bool ended_any =
      d.last.error != AttemptError::kNone || d.last.status != 0;
  line += "  last=";
  line += ended_any ? DescribeAttemptResult(d.last) : std::string("none");
  return line;
}

int Deliver(const DeliverOptions& options, std::ostream& out,
            std::ostream& err) {
  EngineOptions engine_options;
  engine_options.seed = options.seed;
  engine_options.id_salt = options.id_salt;
  // Signed deliveries carry Unix timestamps: the clock starts about now.
  engine_options.unix_origin = UnixTimeNow();
  engine_options.policy.max_reattempts = options.contract.max_reattempts;
  engine_options.policy.schedule = options.schedule;
  engine_options.policy.jitter = options.jitter;
  engine_options.policy.timeout = options.timeout;
  engine_options.contract = options.contract;
  if (Status s = engine_options.policy.Validate()) {
    err << "hooksim deliver: retry policy " << s->ToString() << "\n";
    return 2;
  }
  if (Result<HttpUrl> url = ParseHttpUrl(options.url); !url.ok()) {
    err << "hooksim deliver: --url: " << url.error().message << "\n";
    return 2;
  }
  if (options.count < 1 || options.count > kMaxDeliverCount ||
      options.concurrency < 1 || options.concurrency > kMaxDeliverConcurrency ||
      options.interval < Duration::zero()) {
    err << "hooksim deliver: count, concurrency or interval out of range\n";
    return 2;
  }

  const auto wall_start = std::chrono::steady_clock::now();
  // The real world (a RealClock, an HttpTransport with a connection per
  // --concurrency), from the factory `run` and the durable sender use.
  SenderWorldOptions world_options;
  world_options.world = World::kHttp;
  world_options.http_workers = static_cast<size_t>(options.concurrency);
  Result<std::unique_ptr<SenderWorld>> world =
      SenderWorld::Make(world_options);
  if (!world.ok()) {
    err << "hooksim deliver: " << world.error().ToString() << "\n";
    return 1;
  }
  EventLoop& clock = (*world)->loop();
  DeliveryEngine engine(clock, (*world)->transport(), engine_options);
  engine.AddHook(Hook{"deliver", options.url, true, options.secret, nullptr});
  engine.SetAttemptObserver([&](const AttemptRecord& record) {
    out << FormatAttemptLine(engine, record, {.show_hook = false}) << "\n";
    out.flush();
  });
  // From here on, Ctrl-C stops the clock instead of killing the process.
  std::optional<InterruptWatcher> watcher;
  if (options.handle_interrupt) {
    InterruptWatcherOptions watch;
    watch.sigterm = true;
    watcher.emplace([&clock] { clock.Stop(); }, std::move(watch));
  }

  const int64_t count = options.events
                            ? static_cast<int64_t>(options.events->size())
                            : options.count;
  out << "delivering " << count
      << (options.events ? " event" : " release event")
      << (count == 1 ? "" : "s") << " to " << options.url << " (seed "
      << options.seed << ")\n";
  out.flush();
  ReleaseEventGenerator events(ReleaseEventOptions{},
                               Random(options.seed).Fork("events"));
  int64_t published = 0;
  // Publish cannot fail: count is far below the engine's delivery limit.
  auto publish_one = [&] {
    if (options.events) {
      const FileEvent& e = (*options.events)[static_cast<size_t>(published)];
      (void)engine.Publish(e.type, e.body);
    } else {
      (void)engine.Publish("release", events.Next().body);
    }
    ++published;
  };
  std::function<void()> publish_next = [&] {
    publish_one();
    if (published < count) {
      clock.ScheduleAfter(options.interval, publish_next);
    }
  };
  if (options.interval == Duration::zero()) {
    // Bounded by kMaxDeliverCount / kMaxEventFileEvents.
    while (published < count) publish_one();
  } else {
    clock.ScheduleAfter(Duration::zero(), publish_next);
  }

  const Status run = clock.Run(LoopLimits{});
  // Attempts still in flight (after Ctrl-C or the wall limit) are abandoned
  // here; nothing touches the engine's requests afterwards.
  (*world)->Shutdown();
  const bool interrupted = watcher && watcher->interrupted();
  const int interrupted_code = interrupted ? watcher->exit_code() : 0;
  watcher.reset();
  const double wall_s = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - wall_start)
                            .count();

  size_t delivered = 0;
  size_t gave_up = 0;
  for (const Delivery& d : engine.deliveries()) {
    out << DeliveryLine(d) << "\n";
    delivered += d.state == DeliveryState::kDelivered;
    gave_up += d.state == DeliveryState::kGaveUp;
  }
  const size_t total = engine.deliveries().size();
  const size_t pending = total - delivered - gave_up;
  char wall[32];
  std::snprintf(wall, sizeof(wall), "%.3f", wall_s);
  out << total << (total == 1 ? " delivery: " : " deliveries: ") << delivered
      << " delivered, " << gave_up << " gave_up";
  if (pending > 0) out << ", " << pending << " pending";
  out << "; " << engine.total_attempts() << " attempts in " << wall
      << " s (seed " << options.seed << ")\n";
  out.flush();

  if (interrupted) {
    err << "hooksim deliver: "
        << (interrupted_code == kTerminatedExitCode ? "terminated (SIGTERM)"
                                                    : "interrupted")
        << ": " << pending << (pending == 1 ? " delivery" : " deliveries")
        << " still pending (" << (count - published)
        << " events not published)\n";
    return interrupted_code;
  }
  if (run) {
    err << "hooksim deliver: " << run->message << "\n";
    return 1;
  }
  return gave_up == 0 && pending == 0 ? 0 : 1;
}

}  // namespace

Result<DeliverOptions> ParseDeliverFlags(const DeliverFlags& flags) {
  DeliverOptions options;
  if (flags.url) {
    if (Result<HttpUrl> url = ParseHttpUrl(*flags.url); !url.ok()) {
      return MakeError("--url: " + url.error().message);
    }
    options.url = *flags.url;
    if (flags.state || flags.resume) {
      return MakeError(std::string(flags.resume ? "--resume" : "--state") +
                       ": not with --url (it delivers to the state's hooks)");
    }
  } else {
    if (flags.secret) {
      return MakeError(
          "--secret: only with --url (registered hooks keep their own: "
          "hooks add URL --secret)");
    }
    if (flags.interval_ms) return MakeError("--interval-ms: only with --url");
  }
  if (flags.lease_ms) {
    if (flags.url) {
      return MakeError("--lease-ms: not with --url (nothing is stored)");
    }
    Result<int64_t> v =
        ParseInt("lease-ms", *flags.lease_ms, kMinLeaseMs, kMaxLeaseMs);
    if (!v.ok()) return v.error();
    options.lease = Millis(*v);
  }
  options.state = flags.state;
  options.resume = flags.resume;
  options.trace = flags.trace;
  if (flags.resume && (flags.count || flags.generate || flags.event_file)) {
    return MakeError(
        "--resume: delivers what is pending; give no --count, --generate or "
        "--event-file");
  }
  if (flags.secret) {
    if (Result<std::string> key = DecodeWebhookSecret(*flags.secret);
        !key.ok()) {
      return MakeError("--secret: " + key.error().message);
    }
    options.secret = *flags.secret;
  }
  if (flags.count && flags.generate) {
    return MakeError("--count and --generate: give one (they are synonyms)");
  }
  if (flags.count || flags.generate) {
    const char* name = flags.count ? "count" : "generate";
    Result<int64_t> v = ParseInt(name, flags.count ? *flags.count
                                                   : *flags.generate,
                                 1, kMaxDeliverCount);
    if (!v.ok()) return v.error();
    options.count = *v;
  }
  if (flags.event_file) {
    if (flags.count || flags.generate) {
      return MakeError(std::string("--event-file and --") +
                       (flags.count ? "count" : "generate") +
                       ": give one (the file sets the count)");
    }
    Result<std::vector<FileEvent>> events = ReadEventFile(*flags.event_file);
    if (!events.ok()) {
      return MakeError("--event-file: " + events.error().ToString());
    }
    options.events = std::move(*events);
  }
  if (flags.seed) {
    const std::optional<uint64_t> seed = ParseUint64(*flags.seed);
    if (!seed) {
      return FlagError("seed", "an integer 0..18446744073709551615",
                       *flags.seed);
    }
    options.seed = *seed;
  } else {
    // No --seed: events are still seed 1's, but delivery ids are this
    // run's own, so a second run against a receiver that stayed up is not
    // taken for re-attempts of the first run's deliveries.
    std::random_device device;
    options.id_salt =
        (uint64_t{device()} << 32 | device()) ^
        static_cast<uint64_t>(
            std::chrono::steady_clock::now().time_since_epoch().count());
    if (options.id_salt == 0) options.id_salt = 1;
  }
  if (flags.contract) {
    Result<Contract> contract = LoadContract(*flags.contract);
    if (!contract.ok()) return MakeError("--contract: " + contract.error().ToString());
    options.contract = std::move(contract).value();
    options.schedule = options.contract.retry_schedule;
    options.jitter = options.contract.jitter;
    options.timeout = options.contract.timeout;
  }
  if (flags.retry_schedule_ms) {
    Result<std::vector<Duration>> s = ParseSchedule(
        *flags.retry_schedule_ms, options.contract.max_reattempts);
    if (!s.ok()) return s.error();
    options.schedule = std::move(*s);
    options.schedule_given = true;
  }
  if (flags.timeout_ms) {
    Result<int64_t> v =
        ParseInt("timeout-ms", *flags.timeout_ms, 1, kMaxTimeoutMs);
    if (!v.ok()) return v.error();
    options.timeout = Millis(*v);
    options.timeout_given = true;
  }
  if (flags.jitter) {
    Result<double> v = ParseFraction("jitter", *flags.jitter);
    if (!v.ok()) return v.error();
    options.jitter = *v;
    options.jitter_given = true;
  }
  if (flags.concurrency) {
    Result<int64_t> v =
        ParseInt("concurrency", *flags.concurrency, 1, kMaxDeliverConcurrency);
    if (!v.ok()) return v.error();
    options.concurrency = *v;
  }
  if (flags.interval_ms) {
    Result<int64_t> v =
        ParseInt("interval-ms", *flags.interval_ms, 0, kMaxDeliverIntervalMs);
    if (!v.ok()) return v.error();
    options.interval = Millis(*v);
  }
  return options;
}

int RunDeliver(const DeliverOptions& options, std::ostream& out,
               std::ostream& err) {
  try {
    if (options.url.empty()) return RunStoreDeliver(options, out, err);
    return Deliver(options, out, err);
  } catch (const std::exception& e) {
    err << "hooksim deliver: " << e.what() << "\n";
  }
  return 1;
}

}  // namespace hooksim
