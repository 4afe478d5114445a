#include "sim/cli/deliver_command.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <exception>
#include <functional>
#include <optional>
#include <ostream>
#include <random>
#include <string_view>

#include "sim/base/parse_number.h"
#include "sim/cli/exit_code.h"
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

constexpr const char* kDeliverUsage =
    "usage: hooksim deliver --url URL [--count N | --event-file F] [--seed S]\n"
    "         [--retry-schedule-ms D1,...,D5] [--timeout-ms T] [--jitter F]\n"
    "         [--concurrency C] [--interval-ms I] [--secret S] [--contract NAME|FILE]\n"
    "\n"
    "Delivers generated release events to URL over real HTTP/1.1, in real\n"
    "time, as the contract says: a POST of the raw JSON body; any answer but\n"
    "a 2xx (redirects are not followed), a timeout or a connection error is\n"
    "re-attempted after the scheduled delay, 6 attempts at most (another\n"
    "--contract profile: its attempts, 410 and Retry-After rules). Prints each\n"
    "attempt as it ends, one line per delivery, and a summary.\n"
    "Exit codes: 0 all delivered, 1 some gave up, 2 bad usage,\n"
    "130 interrupted (Ctrl-C), 143 SIGTERM (open deliveries are listed as\n"
    "pending).\n"
    "\n"
    "usage: hooksim deliver [--count N | --generate N | --event-file F]\n"
    "         [--state FILE|URL] [--trace] [--lease-ms L] [retry flags as above]\n"
    "         [--contract NAME|FILE]\n"
    "       hooksim deliver --resume [--state FILE|URL] [--trace] [--lease-ms L]\n"
    "         [retry flags] [--contract NAME|FILE]\n"
    "\n"
    "Without --url, delivers to every hook of the state database (see\n"
    "hooksim hooks): the events and their deliveries are stored first\n"
    "(held for paused hooks), every attempt is recorded as started just\n"
    "before its first byte is written and as ended with its result, and the\n"
    "command returns once every delivery to an active hook has ended, with\n"
    "one line per hook. SIGINT or SIGTERM drains: no new attempts, those in\n"
    "flight end and are recorded, the rest is released; a second signal\n"
    "stops at once. After a crash or a stop, --resume carries on where it\n"
    "stopped (attempts made before count toward the 6, or the contract's\n"
    "attempts: the hook's own from hooks add --contract, else --contract's).\n"
    "Exit codes: 0 all delivered, 1 some gave up or failed (or a state\n"
    "error), 2 bad usage, no hooks, or no state database at the path,\n"
    "130 SIGINT, 143 SIGTERM (deliveries stay stored).\n";


std::string DeliveryLine(const Delivery& d) {
  std::string line = d.id.str();
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

EngineOptions DeliverEngineOptions(const DeliverOptions& options) {
  EngineOptions engine_options;
  engine_options.seed = options.seed;
  engine_options.id_salt = options.id_salt;
  // Signed deliveries carry Unix timestamps: the clock starts about now.
  engine_options.unix_origin = UnixTimeNow();
  engine_options.policy = RetryPolicy::WithAttemptsOf(
      options.contract, options.schedule, options.jitter, options.timeout);
  engine_options.contract = options.contract;
  return engine_options;
}

// What flag parsing also checks, for options built by hand.
Status ValidateDeliverOptions(const DeliverOptions& options,
                              const EngineOptions& engine_options) {
  if (Status s = engine_options.policy.Validate(); !s.ok()) {
    return Status::InvalidArgument("retry policy " + s.ToString());
  }
  if (Result<HttpUrl> url = ParseHttpUrl(options.url); !url.ok()) {
    return Status::InvalidArgument("--url: " + url.error().message());
  }
  if (options.count < 1 || options.count > kMaxDeliverCount ||
      options.concurrency < 1 || options.concurrency > kMaxDeliverConcurrency ||
      options.interval < Duration::zero()) {
    return Status::InvalidArgument("count, concurrency or interval out of range");
  }
  return Status::Ok();
}

// Publishes the events (the file's, or `count` generated ones): all at
// once, or one every `interval` on `clock`. Returns how many are
// published so far (the rest follow as the clock runs).
class Publisher {
 public:
  Publisher(const DeliverOptions& options, DeliveryEngine& engine,
            EventLoop& clock)
      : options_(options),
        engine_(engine),
        clock_(clock),
        generator_(ReleaseEventOptions{}, Random(options.seed).Fork("events")),
        count_(options.events ? static_cast<int64_t>(options.events->size())
                              : options.count) {}

  void Start() {
    if (options_.interval == Duration::zero()) {
      // Bounded by kMaxDeliverCount / kMaxEventFileEvents.
      while (published_ < count_) PublishOne();
    } else {
      clock_.ScheduleAfter(Duration::zero(), [this] { PublishNext(); });
    }
  }
  int64_t count() const { return count_; }
  int64_t published() const { return published_; }

 private:
  // Publish cannot fail: count is far below the engine's delivery limit.
  void PublishOne() {
    if (options_.events) {
      const FileEvent& e = (*options_.events)[static_cast<size_t>(published_)];
      (void)engine_.Publish(e.type, e.body);
    } else {
      (void)engine_.Publish("release", generator_.Next().body);
    }
    ++published_;
  }
  void PublishNext() {
    PublishOne();
    if (published_ < count_) {
      clock_.ScheduleAfter(options_.interval, [this] { PublishNext(); });
    }
  }

  const DeliverOptions& options_;
  DeliveryEngine& engine_;
  EventLoop& clock_;
  ReleaseEventGenerator generator_;
  const int64_t count_;
  int64_t published_ = 0;
};

struct DeliverySummary {
  size_t total = 0;
  size_t delivered = 0;
  size_t gave_up = 0;
  size_t pending() const { return total - delivered - gave_up; }
};

// One line per delivery, then the summary line.
DeliverySummary PrintDeliveries(const DeliveryEngine& engine, double wall_s,
                                uint64_t seed, std::ostream& out) {
  DeliverySummary sum;
  for (const Delivery& d : engine.deliveries()) {
    out << DeliveryLine(d) << "\n";
    sum.delivered += d.state == DeliveryState::kDelivered;
    sum.gave_up += d.state == DeliveryState::kGaveUp;
  }
  sum.total = engine.deliveries().size();
  char wall[32];
  std::snprintf(wall, sizeof(wall), "%.3f", wall_s);
  out << sum.total << (sum.total == 1 ? " delivery: " : " deliveries: ")
      << sum.delivered << " delivered, " << sum.gave_up << " gave_up";
  if (sum.pending() > 0) out << ", " << sum.pending() << " pending";
  out << "; " << engine.total_attempts() << " attempts in " << wall
      << " s (seed " << seed << ")\n";
  out.flush();
  return sum;
}

int Deliver(const DeliverOptions& options, std::ostream& out,
            std::ostream& err) {
  const EngineOptions engine_options = DeliverEngineOptions(options);
  if (Status s = ValidateDeliverOptions(options, engine_options); !s.ok()) {
    err << "hooksim deliver: " << s.message() << "\n";
    return ToInt(ExitCodeFor(s));
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
    return ToInt(ExitCodeFor(world.error()));
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

  Publisher publisher(options, engine, clock);
  const int64_t count = publisher.count();
  out << "delivering " << count
      << (options.events ? " event" : " release event")
      << (count == 1 ? "" : "s") << " to " << options.url << " (seed "
      << options.seed << ")\n";
  out.flush();
  publisher.Start();

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
  const DeliverySummary sum = PrintDeliveries(engine, wall_s, options.seed, out);

  if (interrupted) {
    err << "hooksim deliver: "
        << (interrupted_code == ToInt(ExitCode::kTerminated) ? "terminated (SIGTERM)"
                                                    : "interrupted")
        << ": " << sum.pending()
        << (sum.pending() == 1 ? " delivery" : " deliveries")
        << " still pending (" << (count - publisher.published())
        << " events not published)\n";
    return interrupted_code;
  }
  if (!run.ok()) {
    err << "hooksim deliver: " << run.message() << "\n";
    return ToInt(ExitCode::kFailed);
  }
  return sum.gave_up == 0 && sum.pending() == 0 ? 0 : 1;
}

}  // namespace

FlagSet DeliverFlagSet(DeliverOptions* o) {
  FlagSet flags("deliver", kDeliverUsage);
  AddHttpUrlFlag(flags, "url",
                 "http://host[:port]/path to POST the events to; without it, "
                 "to every hook of the state database",
                 &o->url);
  flags.Integer("count,n",
                "how many release events (1.." +
                    std::to_string(kMaxDeliverCount) + ", default 1)",
                1, kMaxDeliverCount, &o->count);
  AddSeedFlag(flags,
              "random seed for events, ids and jitter (0..2^64-1, default 1)",
              &o->seed);
  const RetryTargets retry{&o->schedule, &o->timeout, &o->jitter,
                           &o->contract.max_reattempts};
  AddContractFlag(flags,
                  "NAME|FILE, send as this contract profile says (attempts, "
                  "schedule, jitter, timeout, 410, Retry-After, signing; the "
                  "retry flags override its timing; default divshot). "
                  "Without --url: for hooks added without --contract of "
                  "their own",
                  &o->contract, retry);
  AddRetryFlags(flags, retry,
                {.timeout = "per-attempt timeout: connect, send and the whole "
                            "answer"});
  AddConcurrencyFlag(flags, "attempts in flight at once (1..1024, default 16)",
                     kMaxDeliverConcurrency, &o->concurrency);
  flags.Millis("interval-ms",
               "time between two events (0..86400000, default 0: all at once)",
               0, kMaxDeliverIntervalMs, &o->interval);
  flags.Custom("event-file",
               "deliver the events in FILE (one JSON document per line, each "
               "sent byte for byte) instead of generated ones; excludes --count",
               [o](const std::string& text) -> Status {
                 Result<std::vector<FileEvent>> events = ReadEventFile(text);
                 if (!events.ok()) return Status::InvalidArgument(events.error().ToString());
                 o->events = std::move(*events);
                 return Status::Ok();
               })
      .Value("FILE");
  flags.Custom("secret",
               "--url only: sign every attempt (Standard Webhooks headers) "
               "with this whsec_... secret",
               [o](const std::string& text) -> Status {
                 if (Result<std::string> key = DecodeWebhookSecret(text);
                     !key.ok()) {
                   return key.error();
                 }
                 o->secret = text;
                 return Status::Ok();
               })
      .Value("whsec_...");
  flags.Integer("generate", "the same as --count: how many release events", 1,
                kMaxDeliverCount, &o->count);
  AddStateFlag(flags,
               "without --url: the state holding the hooks, an SQLite file or "
               "postgres://USER@HOST:PORT/DB (default $HOOKSIM_STATE or "
               "./.hooksim/state.db)",
               &o->state);
  flags.Switch("resume",
               "without --url: deliver what is pending in the state (held "
               "deliveries of resumed hooks, and any a stopped run left)",
               &o->resume);
  flags.Switch("trace", "without --url: print every attempt as it ends",
               &o->trace);
  AddLeaseFlag(flags, "without --url: ", &o->lease);
  flags.PositionalHint("(give the URL with --url)");
  return flags;
}

Status CheckDeliverFlags(const FlagSet& flags, DeliverOptions& options) {
  const bool url = flags.Given("url");
  if (url) {
    if (flags.Given("state") || flags.Given("resume")) {
      return Status::InvalidArgument(
          std::string(flags.Given("resume") ? "--resume" : "--state") +
          ": not with --url (it delivers to the state's hooks)");
    }
    if (flags.Given("lease-ms")) {
      return Status::InvalidArgument("--lease-ms: not with --url (nothing is stored)");
    }
  } else {
    if (flags.Given("secret")) {
      return Status::InvalidArgument(
          "--secret: only with --url (registered hooks keep their own: "
          "hooks add URL --secret)");
    }
    if (flags.Given("interval-ms")) {
      return Status::InvalidArgument("--interval-ms: only with --url");
    }
  }
  const bool count = flags.Given("count");
  const bool generate = flags.Given("generate");
  if (flags.Given("resume") && (count || generate || flags.Given("event-file"))) {
    return Status::InvalidArgument(
        "--resume: delivers what is pending; give no --count, --generate or "
        "--event-file");
  }
  if (count && generate) {
    return Status::InvalidArgument("--count and --generate: give one (they are synonyms)");
  }
  if (flags.Given("event-file") && (count || generate)) {
    return Status::InvalidArgument(std::string("--event-file and --") +
                     (count ? "count" : "generate") +
                     ": give one (the file sets the count)");
  }
  // Hooks with a contract of their own keep its timing but for the flags
  // given (durable_delivery.h).
  options.schedule_given = flags.Given("retry-schedule-ms");
  options.timeout_given = flags.Given("timeout-ms");
  options.jitter_given = flags.Given("jitter");
  // No --seed: events are still seed 1's, but delivery ids are this run's
  // own, so a second run against a receiver that stayed up is not taken for
  // re-attempts of the first run's deliveries.
  if (!flags.Given("seed")) options.id_salt = FreshIdSalt();
  return Status::Ok();
}

const CommandFlags<DeliverOptions> kDeliverFlags{DeliverFlagSet,
                                                  CheckDeliverFlags};

std::string DeliverHelp() { return HelpOf(kDeliverFlags); }

void AddLeaseFlag(FlagSet& flags, const std::string& prefix, Duration* lease) {
  flags.Millis("lease-ms",
               prefix +
                   "lease on claimed deliveries, renewed every third of it; "
                   "another runner takes them over this long after a crash "
                   "(1000..3600000, default 30000)",
               kMinLeaseMs, kMaxLeaseMs, lease);
}

uint64_t FreshIdSalt() {
  std::random_device device;
  uint64_t salt = (uint64_t{device()} << 32 | device()) ^
                  static_cast<uint64_t>(
                      std::chrono::steady_clock::now().time_since_epoch().count());
  return salt == 0 ? 1 : salt;
}

int RunDeliverCli(const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err) {
  return ParseAndRun(kDeliverFlags, args, out, err,
                     [&](const DeliverOptions& options) {
                       return RunDeliver(options, out, err);
                     });
}

int RunDeliver(const DeliverOptions& options, std::ostream& out,
               std::ostream& err) {
  try {
    if (options.url.empty()) return RunStoreDeliver(options, out, err);
    return Deliver(options, out, err);
  } catch (const std::exception& e) {
    err << "hooksim deliver: " << e.what() << "\n";
  }
  return ToInt(ExitCode::kFailed);
}

}  // namespace hooksim
