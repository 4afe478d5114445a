// `hooksim bench`: delivery throughput over real HTTP on loopback.
//
// Delivers generated release events with the DeliveryEngine on a RealClock
// (time scale 1) and the HttpTransport (--connections workers, each with
// one keep-alive connection per receiver) to R in-process HTTP mock
// receivers (HttpReceiverServer on 127.0.0.1, kernel-chosen ports; each
// journals and schema-checks every request, as `hooksim receiver` does),
// one hook per receiver, or with --target to R hooks at one external URL.
// Each receiver answers 500 with probability --failure-rate (seeded), 200
// otherwise.
//
// Memory is flat in the number of events: the engine runs with
// its slot pool reusing ended slots (SlotReuse::kEnded), events are
// generated as they are published, at most
// 2 x connections attempts are queued or in flight and at most
// kMaxBenchOpenDeliveries deliveries are open at once; figures are folded
// into counters and fixed-size histograms (sim/base/latency_histogram.h); the
// receivers' journals keep the last 1024 requests and counters for the
// first kBenchReceiverTrackedDeliveries deliveries.
//
// Figures (stdout, and with --json FILE the same as one JSON object):
// deliveries/s and attempts/s over the wall time from the first publish to
// the last delivery's end; latency from a delivery's publication (its
// first attempt is due at once) to its final outcome, and per attempt
// (from the engine's send, which includes waiting for a free connection,
// to the answer): p50, p90, p99, p99.9, max, mean; retries; attempts by
// outcome; deliveries delivered and given up; peak RSS. On a terminal
// (stderr is a tty) one progress line is rewritten a few times a second.
//
// Exit codes: 0 the run finished (deliveries that gave up are figures, not
// failures); 1 it could not run (receivers did not start, the JSON file
// could not be written, the wall limit passed); 2 bad usage
// (ParseBenchFlags' errors); 130 interrupted by SIGINT (the figures so far
// are printed).
// Errors: RunBench never throws. Thread: RunBench runs its loop on the
// calling thread and owns the process's SIGINT handling while it runs.
#ifndef HOOKSIM_SIM_CLI_BENCH_COMMAND_H_
#define HOOKSIM_SIM_CLI_BENCH_COMMAND_H_

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/result.h"
#include "sim/base/time.h"
#include "sim/contract/contract.h"

namespace hooksim {

inline constexpr int64_t kMaxBenchEvents = 100'000'000;
inline constexpr int64_t kMaxBenchDurationS = 24 * 3600;
inline constexpr int64_t kMaxBenchReceivers = 64;
inline constexpr int64_t kMaxBenchConnections = 1024;
inline constexpr int64_t kMaxBenchPayloadBytes = 1 << 20;
inline constexpr size_t kMaxBenchOpenDeliveries = 65536;
inline constexpr size_t kBenchReceiverTrackedDeliveries = 4096;
// In-process receivers serve each connection from a thread of their own:
// receivers x connections is bounded (not checked with --target).
inline constexpr int64_t kMaxBenchReceiverConnections = 4096;

struct BenchOptions {
  // Exactly one of events and duration is used; neither: 10,000 events.
  std::optional<int64_t> events;
  std::optional<Duration> duration;   // Publish for this long, then drain.
  int64_t receivers = 1;              // Hooks (and in-process receivers).
  int64_t connections = 16;           // Transport workers.
  int64_t payload_bytes = 0;          // 0: bodies as generated.
  double failure_rate = 0;            // Receivers' 500 probability.
  std::optional<std::string> target;  // External URL instead of receivers.
  std::optional<std::string> json;    // Write the figures to this file.
  std::optional<std::string> report_html;  // See html_bench_report.h.
  std::string command;  // The command line, shown in the HTML page.
  uint64_t seed = 1;
  uint64_t id_salt = 0;  // EngineOptions::id_salt (per run without --seed).
  // Delays before re-attempts 1..5 (the last repeating), compressed so
  // retries happen within a bench run.
  std::vector<Duration> schedule = {Millis(1), Millis(2), Millis(4), Millis(8),
                                    Millis(16)};
  Duration timeout = std::chrono::seconds(10);
  double jitter = 0.2;
  // --contract: attempts, success, 410, Retry-After and signing; its jitter
  // and timeout unless their flags are given. The schedule stays the
  // compressed one above unless --retry-schedule-ms.
  Contract contract = DivshotContract();
  // Progress line on stderr: only when also a terminal.
  bool progress = true;
  bool handle_interrupt = true;  // Install the SIGINT handling.
};

// The flags as typed; nullopt when absent (the default applies).
struct BenchFlags {
  std::optional<std::string> events;
  std::optional<std::string> duration;
  std::optional<std::string> receivers;
  std::optional<std::string> connections;
  std::optional<std::string> payload_bytes;
  std::optional<std::string> failure_rate;
  std::optional<std::string> target;
  std::optional<std::string> json;
  std::optional<std::string> seed;
  std::optional<std::string> retry_schedule_ms;
  std::optional<std::string> timeout_ms;
  std::optional<std::string> jitter;
  std::optional<std::string> report_html;
  std::optional<std::string> contract;
};

// Strict parsing and range checks; the error names the flag and the value,
// e.g. `--connections: expected an integer 1..1024, got "0"`. --events and
// --duration exclude each other; --seed, --retry-schedule-ms, --timeout-ms
// and --jitter follow `hooksim deliver`'s rules; --target must be
// http://host[:port]/path; without --target, receivers x connections is at
// most kMaxBenchReceiverConnections.
Result<BenchOptions> ParseBenchFlags(const BenchFlags& flags);

// `hooksim bench ARGS...`: parses the flags (Boost.Program_options errors
// propagate as po::error, which the CLI turns into exit 2), prints the help
// or runs the bench. BenchHelp() is the text of `hooksim help bench`.
int RunBenchCli(const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err);
std::string BenchHelp();

// Runs the bench; returns the exit code described above.
int RunBench(const BenchOptions& options, std::ostream& out, std::ostream& err);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_BENCH_COMMAND_H_
