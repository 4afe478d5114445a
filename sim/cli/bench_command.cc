#include "sim/cli/bench_command.h"

#include <unistd.h>

#include <array>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <sstream>
#include <string_view>
#include <thread>

#include "mock-receivers/http/http_receiver_server.h"
#include "mock-receivers/receiver.h"
#include "sim/base/latency_histogram.h"
#include "sim/base/parse_number.h"
#include "sim/base/throughput_series.h"
#include "sim/cli/deliver_command.h"
#include "sim/contract/payload_validator.h"
#include "sim/contract/release_events.h"
#include "sim/engine/delivery_engine.h"
#include "sim/engine/retry_policy.h"
#include "sim/http/http_transport.h"
#include "sim/http/http_url.h"
#include "sim/http/real_clock.h"
#include "sim/os/interrupt_watcher.h"
#include "sim/os/peak_memory.h"
#include "sim/report/html_bench_report.h"
#include "sim/report/html_page.h"

namespace hooksim {
namespace {

constexpr char kPrefix[] = "hooksim bench: ";
constexpr int64_t kDefaultEvents = 10'000;
constexpr auto kProgressEvery = std::chrono::milliseconds(250);
constexpr size_t kReceiverJournalCapacity = 1024;
constexpr int kMaxStatus = 600;

using SteadyClock = std::chrono::steady_clock;

Error FlagError(std::string_view flag, std::string_view expected,
                std::string_view got) {
  return MakeError("--" + std::string(flag) + ": expected " +
                   std::string(expected) + ", got \"" + std::string(got) +
                   "\"");
}

Result<int64_t> ParseRange(std::string_view flag, std::string_view text,
                           int64_t min, int64_t max) {
  const std::optional<uint64_t> v = ParseUint64(text);
  if (!v || *v < static_cast<uint64_t>(min) ||
      *v > static_cast<uint64_t>(max)) {
    return FlagError(
        flag, "an integer " + std::to_string(min) + ".." + std::to_string(max),
        text);
  }
  return static_cast<int64_t>(*v);
}

// Counts the attempts handed to the inner transport and not yet answered
// (queued for a worker or in flight), and first attempts published but not
// yet sent, so the publisher can keep the transport busy without queuing
// the whole run. `on_done` runs on the loop thread after each answer has
// been handed to the engine.
class CountingTransport : public Transport {
 public:
  CountingTransport(Transport& inner, std::function<void()> on_done)
      : inner_(inner), on_done_(std::move(on_done)) {}

  void Send(const HttpRequest& request, Duration timeout,
            std::function<void(AttemptResult)> done) override {
    ++in_flight_;
    const std::optional<std::string_view> attempt =
        request.FindHeader(kAttemptHeader);
    if (attempt && *attempt == "1" && unsent_ > 0) --unsent_;
    inner_.Send(request, timeout,
                [this, done = std::move(done)](AttemptResult result) {
                  --in_flight_;
                  done(result);
                  on_done_();
                });
  }

  void AddUnsent(size_t n) { unsent_ += n; }
  // Attempts the publisher counts as queued: in flight or about to be.
  size_t busy() const { return in_flight_ + unsent_; }

 private:
  Transport& inner_;
  std::function<void()> on_done_;
  size_t in_flight_ = 0;
  size_t unsent_ = 0;
};

struct Figures {
  uint64_t events_published = 0;
  uint64_t deliveries_published = 0;
  uint64_t delivered = 0;
  uint64_t gave_up = 0;
  uint64_t attempts = 0;  // Ended attempts.
  uint64_t body_bytes = 0;
  std::array<uint64_t, kMaxStatus> status{};  // Attempts per HTTP status.
  std::array<uint64_t, kAttemptErrorKinds> errors{};  // Per AttemptError.
  LatencyHistogram delivery_latency;
  LatencyHistogram attempt_latency;
  ThroughputSeries throughput;  // Per second since `start`.
  SteadyClock::time_point start{};
  SteadyClock::time_point last_end{};
  uint64_t receiver_requests = 0;
  uint64_t receiver_schema_failures = 0;
};

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  // Bounded by the file: a few dozen lines per core.
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        const size_t start = line.find_first_not_of(' ', colon + 1);
        return start == std::string::npos ? "" : line.substr(start);
      }
    }
  }
  return "";
}

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

double Ms(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

double Rate(uint64_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
}

std::string Fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", digits, value);
  return text;
}

nlohmann::ordered_json LatencyJson(const LatencyHistogram& h) {
  nlohmann::ordered_json j;
  j["count"] = h.count();
  j["p50"] = Ms(h.Percentile(0.50));
  j["p90"] = Ms(h.Percentile(0.90));
  j["p99"] = Ms(h.Percentile(0.99));
  j["p99_9"] = Ms(h.Percentile(0.999));
  j["max"] = Ms(h.max());
  j["mean"] = Ms(h.mean());
  return j;
}

// Attempts by outcome: "http_200", "http_500", "timeout", "reset", ...
nlohmann::ordered_json OutcomesJson(const Figures& f, bool errors_only) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (int s = 0; s < kMaxStatus; ++s) {
    if (f.status[s] == 0 || (errors_only && s >= 200 && s < 300)) continue;
    j["http_" + std::to_string(s)] = f.status[s];
  }
  for (size_t e = 1; e < f.errors.size(); ++e) {
    if (f.errors[e] == 0) continue;
    j[std::string(AttemptErrorName(static_cast<AttemptError>(e)))] =
        f.errors[e];
  }
  return j;
}

struct Served {
  std::unique_ptr<MockReceiver> receiver;
  std::unique_ptr<HttpReceiverServer> server;
};

BehaviorSpec FailureBehavior(double failure_rate) {
  BehaviorSpec spec;
  if (failure_rate <= 0) {
    spec.answers = FixedAnswer{Answer{200, Fault::kNone}};
  } else if (failure_rate >= 1) {
    spec.answers = FixedAnswer{Answer{500, Fault::kNone}};
  } else {
    spec.answers =
        WeightedAnswer{{{Answer{200, Fault::kNone}, 1 - failure_rate},
                        {Answer{500, Fault::kNone}, failure_rate}}};
  }
  return spec;
}

int Bench(const BenchOptions& options, std::ostream& out, std::ostream& err) {
  EngineOptions engine_options;
  engine_options.seed = options.seed;
  engine_options.id_salt = options.id_salt;
  engine_options.policy.max_reattempts = options.contract.max_reattempts;
  engine_options.contract = options.contract;
  engine_options.policy.schedule = options.schedule;
  engine_options.policy.jitter = options.jitter;
  engine_options.policy.timeout = options.timeout;
  engine_options.keep_attempt_log = false;
  engine_options.slots = SlotReuse::kEnded;
  engine_options.max_deliveries = kMaxBenchOpenDeliveries + kMaxBenchReceivers;
  if (Status s = engine_options.policy.Validate()) {
    err << kPrefix << "retry policy " << s->ToString() << "\n";
    return 2;
  }
  if (options.receivers < 1 || options.receivers > kMaxBenchReceivers ||
      options.connections < 1 || options.connections > kMaxBenchConnections ||
      (options.events &&
       (*options.events < 1 || *options.events > kMaxBenchEvents)) ||
      (options.duration && *options.duration <= Duration::zero()) ||
      options.payload_bytes < 0 ||
      options.payload_bytes > kMaxBenchPayloadBytes ||
      !(options.failure_rate >= 0 && options.failure_rate <= 1)) {
    err << kPrefix << "an option is out of range (see hooksim bench --help)\n";
    return 2;
  }
  if (!options.target &&
      options.receivers * options.connections > kMaxBenchReceiverConnections) {
    err << kPrefix << "--receivers x --connections: at most "
        << kMaxBenchReceiverConnections << "\n";
    return 2;
  }
  if (options.target) {
    if (Result<HttpUrl> url = ParseHttpUrl(*options.target); !url.ok()) {
      err << kPrefix << "--target: " << url.error().message << "\n";
      return 2;
    }
  }
  if (options.report_html) {
    // Checked before the run, so the figures are not lost to a bad path.
    std::ofstream probe(*options.report_html, std::ios::app);
    if (!probe) {
      err << kPrefix << "--report-html: cannot write " << *options.report_html
          << "\n";
      return 2;
    }
  }
  const size_t hooks = static_cast<size_t>(options.receivers);
  const size_t connections = static_cast<size_t>(options.connections);

  // Receivers, unless the deliveries go to --target.
  std::vector<Served> served;
  std::vector<std::string> urls;
  if (options.target) {
    urls.assign(hooks, *options.target);
  } else {
    Result<std::shared_ptr<const PayloadValidator>> bundled =
        PayloadValidator::Bundled();
    if (!bundled.ok()) {
      err << kPrefix
          << "cannot load the bundled schemas: " << bundled.error().ToString()
          << "\n";
      return 1;
    }
    auto cache = std::make_shared<CachedPayloadValidator>(*bundled);
    const Random master(options.seed);
    for (size_t i = 0; i < hooks; ++i) {
      const std::string name = "bench" + std::to_string(i + 1);
      ReceiverOptions ropts;
      ropts.name = name;
      ropts.validator = cache;
      ropts.journal.capacity = kReceiverJournalCapacity;
      ropts.journal.max_deliveries = kBenchReceiverTrackedDeliveries;
      Served s;
      s.receiver = std::make_unique<MockReceiver>(
          ropts, FailureBehavior(options.failure_rate),
          master.Fork("receiver:" + name));
      HttpReceiverOptions hopts;
      // Each transport worker keeps one connection to each receiver.
      hopts.threads = connections + 4;
      s.server = std::make_unique<HttpReceiverServer>(*s.receiver, hopts);
      if (Status status = s.server->Start()) {
        err << kPrefix << "cannot start receiver " << name << ": "
            << status->message << "\n";
        return 1;
      }
      urls.push_back(s.server->base_url() + "/hook");
      served.push_back(std::move(s));
    }
  }

  Figures f;
  const bool by_events = !options.duration;
  const uint64_t event_limit =
      static_cast<uint64_t>(options.events.value_or(kDefaultEvents));
  const size_t max_busy = 2 * connections;
  bool publishing_done = false;
  bool finished = false;

  RealClock clock;
  HttpTransport http(clock, HttpTransportOptions{.workers = connections});
  std::function<void()> top_up;
  CountingTransport counting(http, [&top_up] { top_up(); });
  DeliveryEngine engine(clock, counting, engine_options);
  for (size_t h = 0; h < hooks; ++h) {
    engine.AddHook(Hook{"bench" + std::to_string(h + 1), urls[h], true, "", nullptr});
  }
  engine.SetAttemptObserver([&f](const AttemptRecord& record) {
    ++f.attempts;
    const AttemptResult& r = record.result;
    if (r.error == AttemptError::kNone) {
      if (r.status >= 0 && r.status < kMaxStatus) ++f.status[r.status];
    } else if (static_cast<size_t>(r.error) < f.errors.size()) {
      ++f.errors[static_cast<size_t>(r.error)];
    }
    f.attempt_latency.Record(record.ended - record.started);
    f.throughput.RecordAttempt(
        std::chrono::duration_cast<Duration>(SteadyClock::now() - f.start),
        !r.IsSuccess());
  });
  engine.SetEndedObserver([&f](const Delivery& d, const EventRecord&) {
    if (d.state == DeliveryState::kDelivered) {
      ++f.delivered;
    } else {
      ++f.gave_up;
    }
    f.delivery_latency.Record(d.ended - d.created);
    f.last_end = SteadyClock::now();
    f.throughput.RecordDelivery(
        std::chrono::duration_cast<Duration>(f.last_end - f.start));
  });

  ReleaseEventGenerator generator(ReleaseEventOptions{},
                                  Random(options.seed).Fork("events"));
  const size_t payload_bytes = static_cast<size_t>(options.payload_bytes);
  // Publishes while the transport has fewer than 2 x connections attempts
  // queued or in flight. Bounded: each round publishes one event, and
  // stops at max_busy, the open-delivery cap or the end of the run.
  top_up = [&] {
    if (publishing_done) {
      finished = engine.open_deliveries() == 0;
      return;
    }
    while (counting.busy() < max_busy &&
           engine.open_deliveries() + hooks <= kMaxBenchOpenDeliveries) {
      const bool more =
          by_events ? f.events_published < event_limit
                    : SteadyClock::now() - f.start <
                          std::chrono::duration_cast<SteadyClock::duration>(
                              *options.duration);
      if (!more) {
        publishing_done = true;
        finished = engine.open_deliveries() == 0;
        return;
      }
      std::string body = generator.Next().body;
      if (body.size() < payload_bytes) {
        // Trailing JSON whitespace: the body still parses and validates.
        body.append(payload_bytes - body.size(), ' ');
      }
      f.body_bytes += body.size();
      if (!engine.Publish("release", std::move(body)).ok()) {
        publishing_done = true;  // Unreachable: the cap is below the limit.
        return;
      }
      ++f.events_published;
      f.deliveries_published += hooks;
      counting.AddUnsent(hooks);
    }
  };

  const bool progress = options.progress && isatty(STDERR_FILENO) == 1;
  std::function<void()> show_progress = [&] {
    const double elapsed =
        std::chrono::duration<double>(SteadyClock::now() - f.start).count();
    const uint64_t ended = f.delivered + f.gave_up;
    err << "\r" << kPrefix << Fixed(elapsed, 1) << " s  " << ended << "/"
        << (by_events ? event_limit * hooks : f.deliveries_published)
        << " deliveries  " << f.attempts << " attempts  "
        << Fixed(Rate(ended, elapsed), 0) << " deliveries/s  rss "
        << CurrentRssBytes().value_or(0) / (1 << 20) << " MB   " << std::flush;
    if (!finished) clock.ScheduleAfter(kProgressEvery, show_progress);
  };

  std::optional<InterruptWatcher> watcher;
  if (options.handle_interrupt) watcher.emplace([&clock] { clock.Stop(); });
  const std::string started_at = UtcNow();
  f.start = SteadyClock::now();
  f.last_end = f.start;
  clock.ScheduleAfter(Duration::zero(), top_up);
  if (progress) clock.ScheduleAfter(kProgressEvery, show_progress);
  const Status run = clock.Run();
  // Attempts still in flight (after Ctrl-C) are abandoned here, before the
  // engine whose requests they read is destroyed.
  http.Shutdown();
  const bool interrupted = watcher && watcher->interrupted();
  watcher.reset();
  if (progress) err << "\r\033[K" << std::flush;
  for (Served& s : served) {
    s.server->Stop();
    s.receiver->WithJournal([&f](const Journal& j) {
      f.receiver_requests += j.total_requests();
      f.receiver_schema_failures += j.schema_failures();
    });
  }

  const double wall_s =
      std::chrono::duration<double>(f.last_end - f.start).count();
  const uint64_t ended = f.delivered + f.gave_up;
  const std::optional<uint64_t> peak = PeakRssBytes();

  nlohmann::ordered_json j;
  j["hooksim_version"] = std::string(kHooksimVersion);
  j["started_at"] = started_at;
  j["machine"] = {{"cores", std::thread::hardware_concurrency()},
                  {"cpu_model", CpuModel()}};
  j["target"] = options.target ? *options.target : "in-process receivers";
  j["receivers"] = options.receivers;
  j["connections"] = options.connections;
  j["failure_rate"] = options.failure_rate;
  j["seed"] = options.seed;
  j["retry_schedule_ms"] = nlohmann::ordered_json::array();
  for (Duration d : options.schedule) j["retry_schedule_ms"].push_back(Ms(d));
  j["timeout_ms"] = Ms(options.timeout);
  j["events"] = f.events_published;
  j["deliveries"] = ended;
  j["delivered"] = f.delivered;
  j["gave_up"] = f.gave_up;
  j["pending"] = f.deliveries_published - ended;
  j["attempts"] = f.attempts;
  j["retries"] = f.attempts - std::min(f.attempts, ended);
  j["payload_bytes_mean"] =
      f.events_published ? f.body_bytes / f.events_published : 0;
  j["wall_s"] = wall_s;
  j["deliveries_per_s"] = Rate(ended, wall_s);
  j["attempts_per_s"] = Rate(f.attempts, wall_s);
  j["latency_ms"] = LatencyJson(f.delivery_latency);
  j["attempt_latency_ms"] = LatencyJson(f.attempt_latency);
  j["outcomes"] = OutcomesJson(f, false);
  j["errors"] = OutcomesJson(f, true);
  if (!options.target) {
    j["receiver_requests"] = f.receiver_requests;
    j["receiver_schema_failures"] = f.receiver_schema_failures;
  }
  j["peak_rss_bytes"] = peak.value_or(0);
  j["interrupted"] = interrupted;
  j["throughput"] = f.throughput.ToJson();

  // The text report.
  out << "hooksim bench: " << f.events_published << " events x " << hooks
      << (hooks == 1 ? " hook" : " hooks") << " -> "
      << (options.target ? *options.target
                         : std::to_string(hooks) + " in-process receiver" +
                               (hooks == 1 ? "" : "s"))
      << ", " << connections << " connections, failure rate "
      << options.failure_rate << ", seed " << options.seed << "\n";
  out << "  deliveries  " << ended << " (" << f.delivered << " delivered, "
      << f.gave_up << " gave_up) in " << Fixed(wall_s, 3)
      << " s: " << Fixed(Rate(ended, wall_s), 0) << " deliveries/s\n";
  out << "  attempts    " << f.attempts << " ("
      << f.attempts - std::min(f.attempts, ended)
      << " retries): " << Fixed(Rate(f.attempts, wall_s), 0) << " attempts/s\n";
  out << "  latency ms  p50 / p90 / p99 / p99.9 / max\n";
  auto latency_line = [&out](const char* name, const LatencyHistogram& h) {
    out << "    " << name << Fixed(Ms(h.Percentile(0.5)), 3) << " / "
        << Fixed(Ms(h.Percentile(0.9)), 3) << " / "
        << Fixed(Ms(h.Percentile(0.99)), 3) << " / "
        << Fixed(Ms(h.Percentile(0.999)), 3) << " / " << Fixed(Ms(h.max()), 3)
        << "\n";
  };
  latency_line("delivery  ", f.delivery_latency);
  latency_line("attempt   ", f.attempt_latency);
  out << "  errors      ";
  const nlohmann::ordered_json errors = j["errors"];
  if (errors.empty()) out << "none";
  for (const auto& [kind, count] : errors.items()) {
    out << kind << "=" << count.get<uint64_t>() << " ";
  }
  out << "\n";
  if (!options.target) {
    out << "  receivers   " << f.receiver_requests
        << (f.receiver_requests == 1 ? " request, " : " requests, ")
        << f.receiver_schema_failures
        << (f.receiver_schema_failures == 1 ? " schema failure\n"
                                            : " schema failures\n");
  }
  out << "  peak rss    "
      << (peak ? Fixed(static_cast<double>(*peak) / (1 << 20), 1) + " MB"
               : std::string("unknown"))
      << "\n";
  out.flush();

  int code = 0;
  if (options.json) {
    std::ofstream file(*options.json, std::ios::binary | std::ios::trunc);
    file << j.dump(2) << "\n";
    file.close();
    if (!file) {
      err << kPrefix << "--json: cannot write " << *options.json << "\n";
      code = 1;
    }
  }
  if (options.report_html) {
    BenchPicture picture{options.command, j, f.delivery_latency,
                         f.attempt_latency, f.throughput};
    picture.figures.erase("started_at");  // No timestamp in the page.
    std::ofstream file(*options.report_html, std::ios::binary | std::ios::trunc);
    file << RenderBenchHtml(picture);
    file.close();
    if (!file) {
      err << kPrefix << "--report-html: cannot write " << *options.report_html
          << "\n";
      code = 1;
    }
  }
  if (interrupted) {
    err << kPrefix << "interrupted: " << f.deliveries_published - ended
        << " deliveries still open\n";
    return kInterruptedExitCode;
  }
  if (run) {
    err << kPrefix << run->message << "\n";
    return 1;
  }
  return code;
}

namespace po = boost::program_options;

po::options_description BenchOptionsDesc() {
  po::options_description d("options");
  d.add_options()("help,h", "show this help")(
      "events,n", po::value<std::string>(),
      "deliver N events (1..100000000; default 10000)")(
      "duration", po::value<std::string>(),
      "publish for S seconds, then let open deliveries end; excludes --events")(
      "receivers", po::value<std::string>(),
      "in-process receivers, one hook each (1..64, default 1); with --target, "
      "hooks to the target")(
      "connections", po::value<std::string>(),
      "sender connections: at most this many attempts in flight, each on "
      "its own keep-alive connection (1..1024, default 16)")(
      "payload-bytes", po::value<std::string>(),
      "pad bodies shorter than B bytes with trailing JSON whitespace "
      "(0..1048576, default 0: as generated, ~310 bytes)")(
      "failure-rate", po::value<std::string>(),
      "in-process receivers answer 500 with this probability, seeded (0..1, "
      "default 0; not with --target)")(
      "target", po::value<std::string>(),
      "deliver to this http://host[:port]/path instead of in-process "
      "receivers")("json", po::value<std::string>(),
                   "also write the figures as JSON to FILE")(
      "seed", po::value<std::string>(),
      "seed of events, ids, jitter and answers (default 1)")(
      "retry-schedule-ms", po::value<std::string>(),
      "delays before re-attempts 1..5 in ms, the last repeating (default "
      "1,2,4,8,16)")("timeout-ms", po::value<std::string>(),
                     "per-attempt timeout (1..3600000, default 10000)")(
      "jitter", po::value<std::string>(),
      "each delay is scaled by 1 +- this fraction (0..1, default 0.2)")(
      "report-html", po::value<std::string>(),
      "write one self-contained HTML page to FILE: throughput per second, "
      "latency histograms, attempts by outcome, the machine and the command")(
      "contract", po::value<std::string>(),
      "NAME|FILE: send as this contract profile says (attempts, 410, "
      "Retry-After, signing; its jitter and timeout unless given; the "
      "schedule stays compressed unless --retry-schedule-ms; default "
      "divshot)");
  return d;
}

constexpr const char* kBenchUsage =
    "usage: hooksim bench [--events N | --duration S] [--receivers R]\n"
    "         [--connections C] [--payload-bytes B] [--failure-rate P]\n"
    "         [--target URL] [--json FILE] [--report-html FILE] [--seed S]\n"
    "         [--retry-schedule-ms D1,...] [--timeout-ms T] [--jitter F]\n"
    "         [--contract NAME|FILE]\n"
    "\n"
    "Delivers generated release events over real HTTP/1.1 with the delivery\n"
    "engine to R in-process receivers on 127.0.0.1 (journal and schema check\n"
    "on) or to --target, and reports deliveries/s, attempts/s, latency\n"
    "percentiles per delivery and per attempt, retries, errors by kind and\n"
    "peak memory. Memory stays flat however many events are sent. A progress\n"
    "line is shown when stderr is a terminal.\n"
    "Exit codes: 0 finished, 1 could not run, 2 bad usage, 130 interrupted.\n";

}  // namespace

Result<BenchOptions> ParseBenchFlags(const BenchFlags& flags) {
  BenchOptions options;
  if (flags.events && flags.duration) {
    return MakeError(
        "--events and --duration: give one (a run is either "
        "so many events or so long)");
  }
  if (flags.events) {
    Result<int64_t> v = ParseRange("events", *flags.events, 1, kMaxBenchEvents);
    if (!v.ok()) return v.error();
    options.events = *v;
  }
  if (flags.duration) {
    const std::optional<double> s = ParseFiniteDouble(*flags.duration);
    if (!s || !(*s > 0) || *s > kMaxBenchDurationS) {
      return FlagError(
          "duration",
          "seconds in (0, " + std::to_string(kMaxBenchDurationS) + "]",
          *flags.duration);
    }
    options.duration =
        std::chrono::duration_cast<Duration>(std::chrono::duration<double>(*s));
    if (*options.duration <= Duration::zero()) options.duration = Duration(1);
  }
  if (flags.receivers) {
    Result<int64_t> v =
        ParseRange("receivers", *flags.receivers, 1, kMaxBenchReceivers);
    if (!v.ok()) return v.error();
    options.receivers = *v;
  }
  if (flags.connections) {
    Result<int64_t> v =
        ParseRange("connections", *flags.connections, 1, kMaxBenchConnections);
    if (!v.ok()) return v.error();
    options.connections = *v;
  }
  if (flags.payload_bytes) {
    Result<int64_t> v = ParseRange("payload-bytes", *flags.payload_bytes, 0,
                                   kMaxBenchPayloadBytes);
    if (!v.ok()) return v.error();
    options.payload_bytes = *v;
  }
  if (flags.failure_rate) {
    const std::optional<double> p = ParseFiniteDouble(*flags.failure_rate);
    if (!p || !(*p >= 0 && *p <= 1)) {
      return FlagError("failure-rate", "a fraction 0..1", *flags.failure_rate);
    }
    options.failure_rate = *p;
  }
  if (flags.target) {
    if (Result<HttpUrl> url = ParseHttpUrl(*flags.target); !url.ok()) {
      return MakeError("--target: " + url.error().message);
    }
    options.target = *flags.target;
    if (flags.failure_rate) {
      return MakeError(
          "--failure-rate applies to the in-process receivers only; a "
          "--target decides its own answers");
    }
  }
  if (!options.target &&
      options.receivers * options.connections > kMaxBenchReceiverConnections) {
    return MakeError(
        "--receivers x --connections: at most " +
        std::to_string(kMaxBenchReceiverConnections) +
        " in-process receiver connections (each has its own server thread), "
        "got " +
        std::to_string(options.receivers) + " x " +
        std::to_string(options.connections));
  }
  if (flags.json) {
    if (flags.json->empty()) return FlagError("json", "a file name", "");
    options.json = *flags.json;
  }
  if (flags.report_html) {
    if (flags.report_html->empty()) {
      return FlagError("report-html", "a file name", "");
    }
    options.report_html = *flags.report_html;
  }
  // Seed, schedule, timeout and jitter mean what they mean for `hooksim
  // deliver`: its parser checks them (and names the flag in its errors).
  DeliverFlags deliver;
  deliver.url = "http://127.0.0.1/";
  deliver.seed = flags.seed;
  deliver.retry_schedule_ms = flags.retry_schedule_ms;
  deliver.timeout_ms = flags.timeout_ms;
  deliver.jitter = flags.jitter;
  deliver.contract = flags.contract;
  Result<DeliverOptions> parsed = ParseDeliverFlags(deliver);
  if (!parsed.ok()) return parsed.error();
  options.seed = parsed->seed;
  options.id_salt = parsed->id_salt;
  if (flags.retry_schedule_ms) options.schedule = parsed->schedule;
  options.timeout = parsed->timeout;
  options.jitter = parsed->jitter;
  options.contract = parsed->contract;
  if (!flags.retry_schedule_ms && options.schedule.size() >
      static_cast<size_t>(options.contract.max_reattempts)) {
    // A profile with fewer re-attempts keeps that many compressed delays.
    options.schedule.resize(
        static_cast<size_t>(options.contract.max_reattempts));
    if (options.schedule.empty() && options.contract.max_reattempts > 0) {
      options.schedule.push_back(Millis(1));
    }
  }
  return options;
}

int RunBench(const BenchOptions& options, std::ostream& out,
             std::ostream& err) {
  try {
    return Bench(options, out, err);
  } catch (const std::exception& e) {
    err << kPrefix << e.what() << "\n";
  }
  return 1;
}

std::string BenchHelp() {
  std::ostringstream s;
  s << kBenchUsage << "\n" << BenchOptionsDesc();
  return s.str();
}

int RunBenchCli(const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err) {
  const po::options_description d = BenchOptionsDesc();
  po::variables_map vm;
  const po::parsed_options parsed =
      po::command_line_parser(args).options(d).run();
  for (const po::option& o : parsed.options) {
    if (o.position_key >= 0) {
      err << kPrefix << "unexpected argument \""
          << (o.value.empty() ? o.string_key : o.value[0])
          << "\" (every setting is a flag)\n"
          << "try: hooksim bench --help\n";
      return 2;
    }
  }
  po::store(parsed, vm);
  po::notify(vm);
  if (vm.count("help")) {
    out << BenchHelp();
    return 0;
  }
  auto flag = [&vm](const char* name) -> std::optional<std::string> {
    if (!vm.count(name)) return std::nullopt;
    return vm[name].as<std::string>();
  };
  const BenchFlags flags{flag("events"),        flag("duration"),
                         flag("receivers"),     flag("connections"),
                         flag("payload-bytes"), flag("failure-rate"),
                         flag("target"),        flag("json"),
                         flag("seed"),          flag("retry-schedule-ms"),
                         flag("timeout-ms"),    flag("jitter"),
                         flag("report-html"),   flag("contract")};
  Result<BenchOptions> options = ParseBenchFlags(flags);
  if (!options.ok()) {
    err << "hooksim bench: " << options.error().message << "\n"
        << "try: hooksim bench --help\n";
    return 2;
  }
  options->command = CommandLine("bench", args);
  return RunBench(*options, out, err);
}

}  // namespace hooksim
