// `hooksim bench`: delivery throughput over real HTTP on loopback. Parses
// the flags into BenchOptions (sim/bench/delivery_bench.h, which measures),
// runs the bench and hands the run to the reporters
// (sim/report/bench_reporter.h: text on stdout, JSON with --report-json
// FILE; the HTML page with --report-html FILE).
//
// With --sender-cmd CMD the deliveries measured are CMD's, from the
// receivers' side (sim/bench/sender_bench.h); --threshold EXPR (either
// bench) fails the run when a figure of the JSON report misses it.
//
// Exit codes: 0 the run finished (deliveries that gave up are figures, not
// failures) and every threshold passed; 1 a threshold failed, or it could
// not run (receivers did not start, a report file
// could not be written, the wall limit passed); 2 bad usage (the flags'
// errors, a bad threshold or one on an unknown figure); 130 interrupted
// by SIGINT (the figures so far are printed).
// Errors: never throws. Thread: runs on the calling thread and owns the
// process's SIGINT handling while it runs.
#ifndef HOOKSIM_SIM_CLI_BENCH_COMMAND_H_
#define HOOKSIM_SIM_CLI_BENCH_COMMAND_H_

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/result.h"
#include "sim/bench/delivery_bench.h"
#include "sim/cli/flags.h"
#include "sim/report/thresholds.h"

namespace hooksim {

struct BenchCommandOptions {
  BenchOptions bench;                      // What to measure.
  std::optional<std::string> report_json;  // Write the figures as JSON.
  std::optional<std::string> report_html;  // See html_bench_report.h.
  std::optional<std::string> junit;        // Thresholds as JUnit XML.
  std::vector<Threshold> thresholds;       // --threshold, in order.
  std::optional<Duration> sender_wait;     // --sender-wait-s.
  // --vs-engine: after the sender, measure `hooksim deliver` (one per
  // receiver) the same way, on the same events, receivers and schedule.
  bool vs_engine = false;
  std::string contract_arg = "divshot";  // --contract as given.
  std::string command;  // The command line, shown in the HTML page.
};

// `hooksim bench`'s flags, each bound to its field of `*options`.
FlagSet BenchFlagSet(BenchCommandOptions* options);

// The rules between flags, after parsing: --count and --duration-s exclude
// each other; --failure-rate is not for --target; the options' ranges
// (ValidateBenchOptions). Without --seed, `id_salt` becomes this run's own.
Status CheckBenchFlags(const FlagSet& flags, BenchCommandOptions& options);

// Both: ParseArgs(kBenchFlags, args) gives the options, or the error naming
// the flag and the value, e.g. `--concurrency: expected an integer 1..1024,
// got "0"`.
extern const CommandFlags<BenchCommandOptions> kBenchFlags;

// `hooksim bench ARGS...`: --help, or parse, run and report.
int RunBenchCli(const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err);
std::string BenchHelp();

// Runs the bench and reports it; returns the exit code described above.
int RunBench(const BenchCommandOptions& options, std::ostream& out,
             std::ostream& err);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_BENCH_COMMAND_H_
