// Measuring delivery throughput over real HTTP on loopback: what `hooksim
// bench` runs, without its flags or its output (reporters in
// sim/report/bench_reporter.h render a BenchRun).
//
// Delivers generated release events with the DeliveryEngine on a RealClock
// (time scale 1) and the HttpTransport (`concurrency` workers, each with
// one keep-alive connection per receiver) to `receivers` in-process HTTP
// mock receivers (HttpReceiverServer on 127.0.0.1, kernel-chosen ports;
// each journals and schema-checks every request, as `hooksim receiver`
// does), one hook per receiver, or to that many hooks at one external
// `target` URL. Each receiver answers 500 with probability `failure_rate`
// (seeded), 200 otherwise.
//
// Memory is flat in the number of events: the engine runs with its slot
// pool reusing ended slots (SlotReuse::kEnded), events are generated as they are published, at most
// 2 x concurrency attempts are queued or in flight and at most
// kMaxBenchOpenDeliveries deliveries are open at once; figures are folded
// into counters and fixed-size histograms (sim/base/latency_histogram.h);
// the receivers' journals keep the last 1024 requests and counters for the
// first kBenchReceiverTrackedDeliveries deliveries.
//
// Figures: deliveries and attempts over the wall time from the first
// publish to the last delivery's end; latency from a delivery's
// publication (its first attempt is due at once) to its final outcome, and
// per attempt (from the engine's send, which includes waiting for a free
// connection, to the answer); attempts by outcome; peak RSS.
// Errors: never throws; a receiver that cannot start is an error Result.
// Thread: runs its loop on the calling thread; owns the process's SIGINT
// handling while it runs (handle_interrupt).
#ifndef HOOKSIM_SIM_BENCH_DELIVERY_BENCH_H_
#define HOOKSIM_SIM_BENCH_DELIVERY_BENCH_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mock-receivers/behavior.h"
#include "sim/base/latency_histogram.h"
#include "sim/base/result.h"
#include "sim/base/throughput_series.h"
#include "sim/base/time.h"
#include "sim/contract/contract.h"
#include "sim/contract/event_file.h"
#include "sim/contract/http_types.h"
#include "sim/os/child_outcome.h"

namespace hooksim {

inline constexpr int64_t kMaxBenchEvents = 100'000'000;
inline constexpr int64_t kMaxBenchDurationS = 24 * 3600;
inline constexpr int64_t kMaxBenchReceivers = 64;
inline constexpr int64_t kMaxBenchConcurrency = 1024;
inline constexpr int64_t kMaxBenchIoThreads = 64;
inline constexpr int64_t kMaxBenchPayloadBytes = 1 << 20;
inline constexpr size_t kMaxBenchOpenDeliveries = 65536;
inline constexpr size_t kBenchReceiverTrackedDeliveries = 4096;
// In-process receivers serve each connection from a thread of their own:
// receivers x concurrency is bounded (not checked with a target).
inline constexpr int64_t kMaxBenchReceiverConnections = 4096;
inline constexpr int64_t kDefaultBenchEvents = 10'000;
inline constexpr int kBenchMaxStatus = 600;
// --sender-cmd: every event is kept (and tracked per receiver), so a run
// holds at most this many; --rate is at most kMaxBenchRate events/s.
inline constexpr int64_t kMaxSenderBenchEvents = 100'000;
inline constexpr double kMaxBenchRate = 1'000'000;

struct BenchOptions {
  // Exactly one of count and duration is used; neither: 10,000 events.
  std::optional<int64_t> count;
  std::optional<Duration> duration;   // Publish for this long, then drain.
  int64_t receivers = 1;              // Hooks (and in-process receivers).
  int64_t concurrency = 16;           // Transport workers.
  // The transport's epoll I/O threads besides the engine's loop thread,
  // which carries an equal share of the connections as well
  // (HttpTransportOptions::io_threads and share_loop_thread; at most
  // `concurrency` loops are used); 0: the loop thread carries them all.
  int64_t io_threads = 1;
  int64_t payload_bytes = 0;          // 0: bodies as generated.
  double failure_rate = 0;            // Receivers' 500 probability.
  std::optional<std::string> target;  // External URL instead of receivers.
  uint64_t seed = 1;
  uint64_t id_salt = 0;  // EngineOptions::id_salt (per run without --seed).
  // Delays before re-attempts 1..5 (the last repeating), compressed so
  // retries happen within a bench run.
  std::vector<Duration> schedule = {Millis(1), Millis(2), Millis(4), Millis(8),
                                    Millis(16)};
  Duration timeout = std::chrono::seconds(10);
  double jitter = 0.2;
  // What the sender promises: attempts, success, 410, Retry-After and
  // signing (its timing comes from the fields above).
  Contract contract = DivshotContract();
  // Open model: publish this many events per second, each at its own
  // time (lateness is reported); unset: closed model, as fast as taken.
  std::optional<double> rate;
  // The events' bodies, one per line (event_file.h), instead of generated
  // release events; read by the command layer into `file_events` (the
  // engine's bench publishes them in turn, again from the first when
  // --count asks for more).
  std::optional<std::string> event_file;
  std::vector<FileEvent> file_events;
  // The receivers' behaviour instead of failure_rate's (in-process only).
  std::optional<BehaviorSpec> behavior;
  // Measure this shell command's deliveries instead of the engine's
  // (sender_bench.h); the fields below apply to it only.
  std::optional<std::string> sender_cmd;
  // After the last event is handed over: wait at most this long for the
  // deliveries, and end once no request came for `quiet` and every
  // delivery has had its 2xx (or the sender has exited).
  Duration sender_wait = std::chrono::seconds(60);
  Duration quiet = Millis(1000);
  // Progress line on the progress stream: only when stderr is a terminal.
  bool progress = true;
  bool handle_interrupt = true;  // Install the SIGINT handling.
};

// n per second over `seconds` (0 when no time passed).
double PerSecond(uint64_t n, double seconds);
// `value` with `digits` decimals ("12.345").
std::string FormatFixed(double value, int digits);

// The ranges above, the retry policy's rules and the target's URL; the
// error names the option as its flag ("--concurrency").
Status ValidateBenchOptions(const BenchOptions& options);

// Counters and histograms of one run.
struct BenchFigures {
  uint64_t events_published = 0;
  uint64_t deliveries_published = 0;
  uint64_t delivered = 0;
  uint64_t gave_up = 0;
  uint64_t attempts = 0;  // Ended attempts.
  uint64_t body_bytes = 0;
  std::array<uint64_t, kBenchMaxStatus> status{};     // Attempts per status.
  std::array<uint64_t, kAttemptErrorKinds> errors{};  // Per AttemptError.
  LatencyHistogram delivery_latency;
  LatencyHistogram attempt_latency;
  ThroughputSeries throughput;  // Per second since the start.
  uint64_t receiver_requests = 0;  // In-process receivers only.
  uint64_t receiver_schema_failures = 0;

  uint64_t ended() const { return delivered + gave_up; }
  uint64_t retries() const { return attempts - std::min(attempts, ended()); }
};

// How a --sender-cmd sender's re-attempts kept the schedule handed to it
// (HOOKSIM_RETRY_SCHEDULE_MS). A gap runs from the end of attempt k at the
// receiver (its answer written, or the sender gone) to the arrival of
// attempt k + 1 of the same event; it is judged against the schedule's
// delay k (the last repeating) when attempt k's answer was a failure whose
// delay the schedule decides (not a 2xx; not a Retry-After the contract
// honours). Only the first kMaxTimedAttempts requests per delivery are
// timed.
struct RetryGapFigures {
  uint64_t gaps = 0;
  double abs_error_sum_ms = 0;  // Sum of |gap - delay|.
  double worst_error_ms = 0;    // The largest |gap - delay|, with its sign.
  // Gaps outside delay x (1 +- jitter) +- kBenchGapSlack.
  uint64_t outside_schedule = 0;

  double mean_abs_error_ms() const {
    return gaps == 0 ? 0 : abs_error_sum_ms / static_cast<double>(gaps);
  }
  void Merge(const RetryGapFigures& other);
};

inline constexpr size_t kMaxTimedAttempts = 16;
// The sender's own scheduling and the request's travel, each way.
inline constexpr Duration kBenchGapSlack = Millis(50);

// What the receivers saw of a --sender-cmd run, for one receiver or all.
// A delivery is one event at one receiver; requests are matched to events
// by their body (X-Hooksim-Delivery ids are not needed).
struct ReceiverSideFigures {
  std::string name;                 // "bench1", ... or "total".
  uint64_t deliveries = 0;          // Expected: events x receivers.
  uint64_t delivered = 0;           // Deliveries that got a 2xx.
  uint64_t never_seen = 0;          // Deliveries with no request at all.
  uint64_t requests = 0;            // Every request at the receiver.
  uint64_t duplicates = 0;          // Requests after the delivery's 2xx.
  uint64_t unmatched_requests = 0;  // Bodies that are no event's.
  std::map<std::string, uint64_t> answers;  // Requests per answer.
  LatencyHistogram publish_to_first_attempt;
  LatencyHistogram publish_to_first_2xx;
  double delivered_wall_s = 0;  // First publish to the last first 2xx.
  double requests_wall_s = 0;   // First publish to the last request.
  RetryGapFigures retry_gaps;
  // Most connections open at once at the receiver (total: the sum of the
  // receivers' peaks, which may have come at different times).
  uint64_t peak_open_connections = 0;
  // Requests or connections that went wrong, by kind: "bad_request" (400:
  // framing the receiver refused), "method_not_allowed" (405),
  // "request_timeout" (408: head or body too slow), "body_too_large"
  // (413), "head_too_large" (431), "refused_N" (another refusal),
  // "over_connection_limit" (closed on arrival), "abandoned" (the sender
  // stopped waiting for an answer), "schema_invalid", "signature_invalid"
  // (missing, stale or bad under a signing contract). Every kind of
  // kBenchErrorKinds is present (0 when none); "refused_N" only when seen.
  std::map<std::string, uint64_t> errors;
};

inline constexpr std::array<std::string_view, 9> kBenchErrorKinds = {
    "bad_request",    "method_not_allowed",    "request_timeout",
    "body_too_large", "head_too_large",        "over_connection_limit",
    "abandoned",      "schema_invalid",        "signature_invalid"};

struct SenderFigures {
  std::vector<ReceiverSideFigures> receivers;
  ReceiverSideFigures total;
  uint64_t events_published = 0;  // Handed over on standard input.
  uint64_t events_taken = 0;      // Whole lines its stdin took.
  LatencyHistogram publish_lag;   // Open model: handed over after due.
  ChildOutcome sender;            // Exit, run time, output.
  bool budget_ended = false;      // Stopped by --sender-wait-s.
  // CPU time (user + system) of the sender's process group, and the peak
  // resident memory of its largest process (of any child of hooksim so
  // far: one sender per process, as the CLI runs it).
  double sender_cpu_s = 0;
  uint64_t sender_peak_rss_bytes = 0;
};

// One measured run: what was run, where, and what it measured.
struct BenchRun {
  BenchOptions options;
  std::string started_at;  // UTC, "2026-01-02T03:04:05Z".
  unsigned cores = 0;
  std::string cpu_model;
  BenchFigures figures;
  double wall_s = 0;  // First publish to the last delivery's end.
  std::optional<uint64_t> peak_rss_bytes;
  bool interrupted = false;  // Stopped by SIGINT or SIGTERM.
  int stop_signal = 0;       // SIGINT or SIGTERM when interrupted.
  Status error;              // The loop's own error (its wall limit).
  LatencyHistogram publish_lag;  // Engine bench with --rate.
  std::optional<SenderFigures> sender;  // Set by a --sender-cmd run.
  // bench --vs-engine: hooksim's own engine measured as a --sender-cmd on
  // the same events, receivers and schedule, after the sender.
  std::shared_ptr<const BenchRun> engine;
};

// Runs the bench (see above); `progress` gets the progress line. Errors:
// options that ValidateBenchOptions rejects, schemas or receivers that
// cannot be set up.
Result<BenchRun> RunDeliveryBench(const BenchOptions& options,
                                  std::ostream& progress);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_BENCH_DELIVERY_BENCH_H_
