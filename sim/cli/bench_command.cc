#include "sim/cli/bench_command.h"

#include <fstream>
#include <ostream>
#include <sstream>

#include "sim/cli/deliver_command.h"
#include "sim/report/bench_reporter.h"
#include "sim/report/html_bench_report.h"
#include "sim/report/html_page.h"

namespace hooksim {
namespace {

constexpr char kPrefix[] = "hooksim bench: ";

constexpr const char* kBenchUsage =
    "usage: hooksim bench [--count N | --duration-s S] [--receivers R]\n"
    "         [--concurrency C] [--payload-bytes B] [--failure-rate P]\n"
    "         [--target URL] [--report-json FILE] [--report-html FILE]\n"
    "         [--seed S] [--retry-schedule-ms D1,...] [--timeout-ms T]\n"
    "         [--jitter F] [--contract NAME|FILE]\n"
    "\n"
    "Delivers generated release events over real HTTP/1.1 with the delivery\n"
    "engine to R in-process receivers on 127.0.0.1 (journal and schema check\n"
    "on) or to --target, and reports deliveries/s, attempts/s, latency\n"
    "percentiles per delivery and per attempt, retries, errors by kind and\n"
    "peak memory. Memory stays flat however many events are sent. A progress\n"
    "line is shown when stderr is a terminal.\n"
    "Exit codes: 0 finished, 1 could not run, 2 bad usage, 130 interrupted.\n";

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
                        "excludes --count",
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
                  &o->contract);
  AddRetryFlags(flags,
                {&o->schedule, &o->timeout, &o->jitter,
                 &o->contract.max_reattempts},
                {.schedule_default = "1,2,4,8,16"});
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
  return ValidateBenchOptions(options.bench);
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
  Result<BenchRun> run = RunDeliveryBench(options.bench, err);
  if (!run.ok()) {
    err << kPrefix << run.error().message() << "\n";
    return ToInt(ExitCode::kFailed);
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
  const BenchFigures& f = run->figures;
  if (run->interrupted) {
    err << kPrefix << "interrupted: " << f.deliveries_published - f.ended()
        << " deliveries still open\n";
    return ToInt(ExitCode::kInterrupted);
  }
  if (!run->error.ok()) {
    err << kPrefix << run->error.message() << "\n";
    return ToInt(ExitCode::kFailed);
  }
  return code;
}

}  // namespace hooksim
