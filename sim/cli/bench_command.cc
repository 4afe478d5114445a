#include "sim/cli/bench_command.h"

#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include "mock-receivers/behavior_parser.h"
#include "sim/base/parse_number.h"
#include "sim/base/shell_quote.h"
#include "sim/bench/sender_bench.h"
#include "sim/cli/behavior_input.h"
#include "sim/cli/deliver_command.h"
#include "sim/contract/event_file.h"
#include "sim/contract/sender_env.h"
#include "sim/report/junit_writer.h"
#include "sim/report/bench_reporter.h"
#include "sim/report/html_bench_report.h"
#include "sim/report/html_page.h"

namespace hooksim {
namespace {

constexpr char kPrefix[] = "hooksim bench: ";

constexpr const char* kBenchUsage =
    "usage: hooksim bench [--count N | --duration-s S] [--receivers R]\n"
    "         [--concurrency C] [--io-threads T] [--payload-bytes B]\n"
    "         [--failure-rate P] [--target URL] [--report-json FILE]\n"
    "         [--report-html FILE] [--seed S] [--retry-schedule-ms D1,...]\n"
    "         [--timeout-ms T] [--jitter F] [--contract NAME|FILE] [--rate R]\n"
    "         [--event-file F] [--behavior JSON | --behavior-file F]\n"
    "         [--threshold EXPR]... [--junit FILE]\n"
    "       hooksim bench --sender-cmd CMD [--count N | --duration-s S]\n"
    "         [--rate R] [--receivers R] [--event-file F] [--behavior JSON |\n"
    "         --behavior-file F | --failure-rate P] [--contract NAME|FILE]\n"
    "         [--retry-schedule-ms D1,...] [--jitter F] [--vs-engine]\n"
    "         [--sender-wait-s S] [--quiet-ms Q] [--threshold EXPR]...\n"
    "         [--report-json FILE] [--junit FILE]\n"
    "\n"
    "Delivers generated release events over real HTTP/1.1 with the delivery\n"
    "engine to R in-process receivers on 127.0.0.1 (journal and schema check\n"
    "on) or to --target, and reports deliveries/s, attempts/s, latency\n"
    "percentiles per delivery and per attempt, retries, errors by kind and\n"
    "peak memory. Memory stays flat however many events are sent. A progress\n"
    "line is shown when stderr is a terminal.\n"
    "With --sender-cmd, measures your sender instead: starts CMD with /bin/sh\n"
    "-c in its own process group, with HOOKSIM_URL (HOOKSIM_URLS: one per\n"
    "receiver), HOOKSIM_EVENT_FILE, HOOKSIM_RETRY_SCHEDULE_MS (--retry-\n"
    "schedule-ms; default as conform: 500,750,... one per re-attempt) and,\n"
    "under a signing --contract, HOOKSIM_SECRET set (the receivers then\n"
    "answer 401 to a request not signed with it); hands it the events on\n"
    "standard input (one JSON document per line; all at once, or --rate per\n"
    "second), stops it at the end, and reports from the receivers' side:\n"
    "deliveries/s (first 2xx), attempts/s, publish to first attempt and to\n"
    "first 2xx (p50 .. max), retry gaps against the schedule (mean and worst\n"
    "error, gaps outside its --jitter), duplicates, deliveries never seen,\n"
    "most open connections, answers by status and errors by kind.\n"
    "--threshold 'FIGURE OP NUMBER' (OP: >= <= == > <; FIGURE: a key of the\n"
    "JSON report, dotted: publish_to_first_2xx_ms.p99) fails the run.\n"
    "Exit codes: 0 finished and every threshold passed, 1 a threshold failed\n"
    "or it could not run, 2 bad usage (also a threshold on an unknown\n"
    "figure), 130 interrupted (SIGINT), 143 stopped by SIGTERM; either way\n"
    "the figures so far are reported and a --sender-cmd is stopped.\n";

// A report of the run's shape, with every figure at zero: thresholds are
// checked against its keys before the run.
nlohmann::ordered_json ReportShape(const BenchOptions& options, bool vs_engine) {
  BenchRun shape;
  shape.options = options;
  shape.options.file_events.clear();
  if (options.sender_cmd) {
    SenderFigures& f = shape.sender.emplace();
    f.receivers.resize(static_cast<size_t>(options.receivers));
    if (vs_engine) {
      auto engine = std::make_shared<BenchRun>(shape);
      engine->options.sender_cmd = "hooksim deliver";
      shape.engine = std::move(engine);
    }
  }
  return BenchJson(shape);
}

// `hooksim deliver` to each of the receivers, as a --sender-cmd: the
// engine measured exactly as the user's sender is.
std::string EngineSenderCommand(const BenchCommandOptions& options) {
  // This binary; a program embedding the CLI (the tests) uses the
  // hooksim next to it, else the one on PATH.
  std::error_code ec;
  const std::filesystem::path exe =
      std::filesystem::read_symlink("/proc/self/exe", ec);
  std::string self = "hooksim";
  if (!ec && exe.filename() == "hooksim") {
    self = exe.string();
  } else if (!ec && access((exe.parent_path() / "hooksim").c_str(), X_OK) ==
                        0) {
    self = (exe.parent_path() / "hooksim").string();
  }
  const BenchOptions& o = options.bench;
  return "for u in $HOOKSIM_URLS; do " + ShellQuote(self) +
         " deliver --url \"$u\" --event-file \"$HOOKSIM_EVENT_FILE\" "
         "--contract " + ShellQuote(options.contract_arg) +
         " --jitter " + FormatFixed(o.jitter, 6) + " --timeout-ms " +
         std::to_string(ToMillis(o.timeout)) +
         " ${HOOKSIM_RETRY_SCHEDULE_MS:+--retry-schedule-ms "
         "\"$HOOKSIM_RETRY_SCHEDULE_MS\"}"
         " ${HOOKSIM_SECRET:+--secret \"$HOOKSIM_SECRET\"} >/dev/null & "
         "done; wait";
}

// Writes `text` to `path`; false when it could not be written.
bool WriteReport(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  return static_cast<bool>(file);
}

}  // namespace

FlagSet BenchFlagSet(BenchCommandOptions* options) {
  BenchOptions* o = &options->bench;
  FlagSet flags("bench", kBenchUsage);
  flags.Integer("count,n", "deliver N events (1..100000000; default 10000)",
                1, kMaxBenchEvents, &o->count);
  flags.PositiveSeconds("duration-s",
                        "publish for S seconds, then let open deliveries end; "
                        "excludes --count (with --sender-cmd: needs --rate)",
                        kMaxBenchDurationS, &o->duration);
  flags.Integer("receivers",
                "in-process receivers, one hook each (1..64, default 1); with "
                "--target, hooks to the target",
                1, kMaxBenchReceivers, &o->receivers);
  AddConcurrencyFlag(flags,
                     "sender connections: at most this many attempts in "
                     "flight, each on its own keep-alive connection (1..1024, "
                     "default 16)",
                     kMaxBenchConcurrency, &o->concurrency);
  flags.Integer("io-threads",
                "epoll I/O threads besides the engine's loop thread, each "
                "carrying an equal share of the connections, as the loop "
                "thread does (0..64, default 1: two threads read answers; at "
                "most --concurrency loops are used; 0: the loop thread "
                "carries them all)",
                0, kMaxBenchIoThreads, &o->io_threads);
  flags.Integer("payload-bytes",
                "pad bodies shorter than B bytes with trailing JSON "
                "whitespace (0..1048576, default 0: as generated, ~310 bytes)",
                0, kMaxBenchPayloadBytes, &o->payload_bytes);
  flags.Number("failure-rate",
               "in-process receivers answer 500 with this probability, seeded "
               "(0..1, default 0; not with --target)",
               0, false, 1, "a fraction 0..1", &o->failure_rate);
  AddHttpUrlFlag(flags, "target",
                 "deliver to this http://host[:port]/path instead of "
                 "in-process receivers",
                 &o->target);
  AddReportFlags(
      flags, {.report_json = &options->report_json,
              .report_html = &options->report_html},
      {.report_json = "also write the figures as JSON to FILE",
       .report_html = "write one self-contained HTML page to FILE: throughput "
                      "per second, latency histograms, attempts by outcome, "
                      "the machine and the command"});
  AddSeedFlag(flags, "seed of events, ids, jitter and answers (default 1)",
              &o->seed);
  AddContractFlag(flags,
                  "NAME|FILE: send as this contract profile says (attempts, "
                  "410, Retry-After, signing; its jitter and timeout unless "
                  "given; the schedule stays compressed unless "
                  "--retry-schedule-ms; default divshot)",
                  &o->contract, std::nullopt, &options->contract_arg);
  AddRetryFlags(flags,
                {&o->schedule, &o->timeout, &o->jitter,
                 &o->contract.max_reattempts},
                {.schedule_default = "1,2,4,8,16"});
  flags.Text("sender-cmd",
             "measure this shell command's deliveries (run by /bin/sh -c, "
             "events on its standard input) instead of the engine's",
             &o->sender_cmd)
      .Value("CMD");
  flags
      .Custom("rate",
              "open model: publish R events per second, each at its own "
              "time, and report publish lag (default: closed model, as fast "
              "as taken)",
              [o](const std::string& text) -> Status {
                const std::optional<double> v = ParseFiniteDouble(text);
                if (!v || *v <= 0 || *v > kMaxBenchRate) {
                  return Status::InvalidArgument(
                      "expected events per second in (0, 1000000], got \"" +
                      text + "\"");
                }
                o->rate = *v;
                return Status::Ok();
              })
      .Value("R");
  flags.File("event-file",
             "publish these payloads (one JSON document per line) instead "
             "of generated release events",
             &o->event_file);
  flags
      .Custom("behavior",
              "the receivers' behaviour, as for hooksim receiver (default: "
              "--failure-rate's)",
              [o](const std::string& text) -> Status {
                Result<BehaviorSpec> spec = ParseBehaviorText(text);
                if (!spec.ok()) return spec.error();
                o->behavior = *spec;
                return Status::Ok();
              })
      .Value("JSON");
  flags.Custom("behavior-file", "the receivers' behaviour from FILE",
               [o](const std::string& path) -> Status {
                 Result<std::string> text = ReadBehaviorFile(path);
                 if (!text.ok()) return text.error();
                 Result<BehaviorSpec> spec = ParseBehaviorText(*text);
                 if (!spec.ok()) {
                   return Status::InvalidArgument(path + ": " +
                                                  spec.error().message());
                 }
                 o->behavior = *spec;
                 return Status::Ok();
               })
      .Value("FILE");
  flags.Switch("vs-engine",
               "with --sender-cmd: afterwards measure hooksim's own engine "
               "(hooksim deliver, one per receiver) the same way on the same "
               "events, receivers and schedule, and report both side by "
               "side (closed model only)",
               &options->vs_engine);
  flags.PositiveSeconds("sender-wait-s",
                        "with --sender-cmd: after the last event is handed "
                        "over, wait at most S seconds for the deliveries "
                        "(default 60)",
                        3600, &options->sender_wait);
  flags.Millis("quiet-ms",
               "with --sender-cmd: the run ends once no request has come for "
               "Q ms and every delivery has had its 2xx or the sender has "
               "exited (0..600000, default 1000)",
               0, 600'000, &o->quiet);
  flags
      .Repeatable("threshold",
                  "FIGURE OP NUMBER (OP: >=, <=, ==, >, <; FIGURE: a key of "
                  "the JSON report, dotted, e.g. 'publish_to_first_2xx_ms.p99"
                  "<50'); a miss makes the exit code 1. Repeatable",
                  [options](const std::string& text) -> Status {
                    Result<Threshold> t = ParseThreshold(text);
                    if (!t.ok()) return t.error();
                    options->thresholds.push_back(*t);
                    return Status::Ok();
                  })
      .Value("EXPR");
  flags.File("junit",
             "write the thresholds as JUnit XML to FILE (one test case "
             "each)",
             &options->junit);
  flags.Renamed("events", "count");
  flags.Renamed("duration", "duration-s");
  flags.Renamed("connections", "concurrency");
  flags.Renamed("json", "report-json FILE");
  flags.PositionalHint("(every setting is a flag)");
  return flags;
}

Status CheckBenchFlags(const FlagSet& flags, BenchCommandOptions& options) {
  if (flags.Given("count") && flags.Given("duration-s")) {
    return Status::InvalidArgument(
        "--count and --duration-s: give one (a run is either so many events "
        "or so long)");
  }
  if (flags.Given("target") && flags.Given("failure-rate")) {
    return Status::InvalidArgument(
        "--failure-rate applies to the in-process receivers only; a --target "
        "decides its own answers");
  }
  if (!flags.Given("seed")) options.bench.id_salt = FreshIdSalt();
  BenchOptions& o = options.bench;
  if (flags.Given("behavior") + flags.Given("behavior-file") +
          flags.Given("failure-rate") >
      1) {
    return Status::InvalidArgument(
        "give at most one of --behavior, --behavior-file, --failure-rate");
  }
  if (flags.Given("target") &&
      (flags.Given("behavior") || flags.Given("behavior-file"))) {
    return Status::InvalidArgument(
        "--behavior applies to the in-process receivers only; a --target "
        "decides its own answers");
  }
  if (o.sender_cmd) {
    if (o.sender_cmd->empty()) {
      return Status::InvalidArgument("--sender-cmd: the command is empty");
    }
    for (const char* engine_only :
         {"target", "concurrency", "io-threads", "report-html",
          "timeout-ms"}) {
      if (flags.Given(engine_only)) {
        return Status::InvalidArgument(
            std::string("--") + engine_only +
            " is for the engine's own bench, not with --sender-cmd (your "
            "sender has its own)");
      }
    }
    if (flags.Given("duration-s") && !o.rate) {
      return Status::InvalidArgument(
          "--duration-s with --sender-cmd needs --rate (publish R events "
          "per second for S seconds)");
    }
    if (flags.Given("event-file") &&
        (flags.Given("count") || flags.Given("duration-s"))) {
      return Status::InvalidArgument(
          "--event-file with --sender-cmd: the file's events are the run "
          "(each once); leave out --count and --duration-s");
    }
    if (options.sender_wait) o.sender_wait = *options.sender_wait;
    const double events =
        o.duration && o.rate
            ? *o.rate * static_cast<double>(o.duration->count()) / 1e6
            : static_cast<double>(o.count.value_or(kDefaultBenchEvents));
    if (events > static_cast<double>(kMaxSenderBenchEvents)) {
      return Status::InvalidArgument(
          "--sender-cmd: at most " + std::to_string(kMaxSenderBenchEvents) +
          " events (each is tracked at every receiver), got " +
          FormatFixed(events, 0) +
          (o.duration ? " (--rate x --duration-s)" : " (--count)"));
    }
    if (options.vs_engine && o.rate) {
      return Status::InvalidArgument(
          "--vs-engine with --rate: the engine reads its events from "
          "HOOKSIM_EVENT_FILE all at once, so it can be compared in the "
          "closed model only (leave out --rate)");
    }
  } else {
    for (const char* sender_only : {"sender-wait-s", "quiet-ms", "vs-engine"}) {
      if (flags.Given(sender_only)) {
        return Status::InvalidArgument(std::string("--") + sender_only +
                                       " applies to --sender-cmd only");
      }
    }
  }
  if (o.event_file) {
    Result<std::vector<FileEvent>> events = ReadEventFile(*o.event_file);
    if (!events.ok()) {
      return Status::InvalidArgument("--event-file: " +
                                     events.error().message());
    }
    if (events->empty()) {
      return Status::InvalidArgument("--event-file: " + *o.event_file +
                                     " holds no event");
    }
    o.file_events = std::move(*events);
  }
  if (flags.Given("contract")) {
    if (!flags.Given("jitter")) o.jitter = o.contract.jitter;
    if (!flags.Given("timeout-ms")) o.timeout = o.contract.timeout;
    const size_t max = static_cast<size_t>(o.contract.max_reattempts);
    if (!flags.Given("retry-schedule-ms") && o.schedule.size() > max) {
      // A profile with fewer re-attempts keeps that many compressed delays.
      o.schedule.resize(max);
      if (o.schedule.empty() && max > 0) o.schedule.push_back(Millis(1));
    }
  }
  if (o.sender_cmd && !flags.Given("retry-schedule-ms")) {
    // What `conform` hands a sender too: delays long enough to judge.
    o.schedule = CompressedSchedule(o.contract);
  }
  if (Status s = ValidateBenchOptions(options.bench); !s.ok()) return s;
  if (!options.thresholds.empty()) {
    const nlohmann::ordered_json shape = ReportShape(o, options.vs_engine);
    for (const Threshold& t : options.thresholds) {
      if (Result<double> v = ThresholdFigure(t, shape); !v.ok()) {
        return v.error();
      }
    }
  }
  return Status::Ok();
}

const CommandFlags<BenchCommandOptions> kBenchFlags{BenchFlagSet,
                                                    CheckBenchFlags};

std::string BenchHelp() { return HelpOf(kBenchFlags); }

int RunBenchCli(const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err) {
  return ParseAndRun(kBenchFlags, args, out, err,
                     [&](BenchCommandOptions& options) {
                       options.command = CommandLine("bench", args);
                       return RunBench(options, out, err);
                     });
}

int RunBench(const BenchCommandOptions& options, std::ostream& out,
             std::ostream& err) {
  if (Status s = ValidateBenchOptions(options.bench); !s.ok()) {
    err << kPrefix << s.message() << "\n";
    return ToInt(ExitCodeFor(s));
  }
  if (options.report_html) {
    // Checked before the run, so the figures are not lost to a bad path.
    std::ofstream probe(*options.report_html, std::ios::app);
    if (!probe) {
      err << kPrefix << "--report-html: cannot write " << *options.report_html
          << "\n";
      return ToInt(ExitCode::kUsage);
    }
  }
  Result<BenchRun> run = options.bench.sender_cmd
                            ? RunSenderBench(options.bench, err)
                            : RunDeliveryBench(options.bench, err);
  if (!run.ok()) {
    err << kPrefix << run.error().message() << "\n";
    return ToInt(ExitCode::kFailed);
  }
  if (options.vs_engine && !run->interrupted) {
    BenchOptions engine = options.bench;
    engine.sender_cmd = EngineSenderCommand(options);
    err << kPrefix << "--vs-engine: now hooksim's own engine on the same "
        << "events\n";
    Result<BenchRun> engine_run = RunSenderBench(engine, err);
    if (!engine_run.ok()) {
      err << kPrefix << "--vs-engine: " << engine_run.error().message()
          << "\n";
      return ToInt(ExitCode::kFailed);
    }
    // Its interruption is the run's: the figures so far are reported.
    run->interrupted = engine_run->interrupted;
    run->stop_signal = engine_run->stop_signal;
    run->engine = std::make_shared<const BenchRun>(std::move(*engine_run));
  }
  TextBenchReporter(out).Report(*run);

  int code = 0;
  if (options.report_json) {
    std::ostringstream json;
    JsonBenchReporter(json).Report(*run);
    if (!WriteReport(*options.report_json, json.str())) {
      err << kPrefix << "--report-json: cannot write " << *options.report_json
          << "\n";
      code = 1;
    }
  }
  if (options.report_html) {
    BenchPicture picture{options.command, BenchJson(*run),
                         run->figures.delivery_latency,
                         run->figures.attempt_latency, run->figures.throughput};
    picture.figures.erase("started_at");  // No timestamp in the page.
    if (!WriteReport(*options.report_html, RenderBenchHtml(picture))) {
      err << kPrefix << "--report-html: cannot write " << *options.report_html
          << "\n";
      code = ToInt(ExitCode::kFailed);
    }
  }
  if (!options.thresholds.empty()) {
    const std::vector<ThresholdResult> results =
        EvaluateThresholds(options.thresholds, BenchJson(*run));
    size_t failed = 0;
    for (const ThresholdResult& r : results) {
      out << "  threshold   " << (r.passed ? "pass " : "FAIL ")
          << DescribeThreshold(r) << "\n";
      if (!r.passed) ++failed;
    }
    if (options.junit) {
      std::ostringstream xml;
      WriteJUnit({ThresholdSuite("hooksim bench", results, run->wall_s)}, xml);
      if (!WriteReport(*options.junit, xml.str())) {
        err << kPrefix << "--junit: cannot write " << *options.junit << "\n";
        code = ToInt(ExitCode::kFailed);
      }
    }
    if (failed > 0) {
      err << kPrefix << failed << " of " << results.size()
          << (results.size() == 1 ? " threshold" : " thresholds")
          << " failed\n";
      code = ToInt(ExitCode::kFailed);
    }
  } else if (options.junit) {
    std::ostringstream xml;
    WriteJUnit({ThresholdSuite("hooksim bench", {}, run->wall_s)}, xml);
    if (!WriteReport(*options.junit, xml.str())) {
      err << kPrefix << "--junit: cannot write " << *options.junit << "\n";
      code = ToInt(ExitCode::kFailed);
    }
  }
  const BenchFigures& f = run->figures;
  if (run->interrupted) {
    if (run->sender) {
      err << kPrefix << "interrupted: the sender was stopped\n";
    } else {
      err << kPrefix << "interrupted: " << f.deliveries_published - f.ended()
          << " deliveries still open\n";
    }
    return ToInt(run->stop_signal == SIGTERM ? ExitCode::kTerminated
                                             : ExitCode::kInterrupted);
  }
  if (!run->error.ok()) {
    err << kPrefix << run->error.message() << "\n";
    return ToInt(ExitCode::kFailed);
  }
  if (run->sender) {
    const SenderFigures& sf = *run->sender;
    if (sf.total.delivered == 0) {
      err << kPrefix << "the sender delivered nothing: "
          << sf.total.requests << " requests; it "
          << sf.sender.Describe() << "\n";
    }
  }
  return code;
}

}  // namespace hooksim
