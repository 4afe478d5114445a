// Runs a scenario in one of two worlds and keeps the whole world for the
// verifier and the reports.
//
// Virtual world: receivers behind the in-process network, a virtual clock
// that jumps to the next timer; runs until every delivery has ended.
// HTTP world: each receiver behind its own HTTP server on 127.0.0.1 (a
// kernel-chosen port), the engine sending over real sockets with the HTTP
// transport, on a real clock compressed by time_scale (retry delays,
// timeouts, latencies, outage windows and event intervals all shrink by
// the same factor). The same engine and the same receiver objects run in
// both; with the same seed they draw the same jitter and the same answers,
// so verdicts and per-delivery attempt counts are the same (the parity
// test checks it).
//
// All randomness is forked from the run's seed: "events" for the event
// generator, "receiver:NAME" for each receiver, "engine" for jitter. The
// same scenario and seed give the same attempt log, byte for byte
// (Fingerprint()).
// Thread: RunScenario is called from one thread; in the HTTP world it runs
// the clock's loop on that thread while servers and transport workers run
// their own threads, all stopped and joined before it returns.
#ifndef HOOKSIM_SIM_WORLD_RUNNER_H_
#define HOOKSIM_SIM_WORLD_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "mock-receivers/receiver.h"
#include "sim/contract/payload_validator.h"
#include "sim/engine/attempt_log_summary.h"
#include "sim/engine/delivery_engine.h"
#include "sim/engine/event_loop.h"
#include "sim/engine/wire_recorder.h"
#include "sim/scenario/run_record.h"
#include "sim/scenario/scenario.h"
#include "sim/virtual/virtual_clock.h"
#include "sim/virtual/virtual_network.h"
#include "sim/world/sender_world.h"

namespace hooksim {

// Stops HTTP-world runs from another thread (a signal watcher): the run in
// progress returns at once (attempts in flight are abandoned), and runs
// started afterwards return at once too. Thread: Stop and stopped from any
// thread; Attach/Detach from RunScenario's thread.
class RunStop {
 public:
  void Stop();
  bool stopped() const { return stopped_; }
  void Attach(EventLoop* clock);  // Stops it at once when already stopped.
  void Detach();

 private:
  std::mutex mu_;
  EventLoop* clock_ = nullptr;  // Guarded by mu_.
  std::atomic<bool> stopped_{false};
};

// How far a run has come, for a progress line.
struct RunProgress {
  uint64_t attempts = 0;          // Attempts ended so far.
  uint64_t deliveries_ended = 0;  // Delivered or given up so far.
  uint64_t deliveries = 0;        // The run's deliveries (events x hooks).
  TimePoint now{};                // The run's clock.
  double wall_seconds = 0;        // Since the run started.
};

struct RunOptions {
  World world = World::kVirtual;
  // HTTP world: wall seconds per run-time second, in (0, 1].
  double time_scale = 1.0;
  // HTTP world: attempts in flight at once (transport workers).
  size_t http_workers = 16;
  std::optional<uint64_t> seed;  // Overrides the scenario's seed.
  // Receives one line per attempt when set (see FormatAttemptLine in
  // sim/engine/attempt_line.h).
  std::function<void(const std::string&)> trace;
  // Bound on virtual-clock steps; the run fails when it is reached.
  uint64_t max_steps = 500'000'000;
  // The payload validator to use; null builds the bundled one. Pass one to
  // share it (and its parsed schemas) across many runs.
  std::shared_ptr<const PayloadValidator> validator;
  // Test seam: wraps the transport the engine sends through (before the
  // wire recorder), to play a sender that breaks the contract.
  std::function<std::unique_ptr<Transport>(Transport& inner)> wrap_sender;
  // HTTP world: stops the run when stopped (null: none). Borrowed.
  RunStop* stop = nullptr;
  // Called on the run's thread as attempts end, once the run has taken
  // progress_after of wall time and then at most every progress_every
  // (null: never). It only reads the run; it cannot change it.
  std::function<void(const RunProgress&)> progress;
  std::chrono::steady_clock::duration progress_after = std::chrono::seconds(1);
  std::chrono::steady_clock::duration progress_every =
      std::chrono::milliseconds(250);
  // Keep every attempt record in engine->attempts() (the HTML report draws
  // them). Off: only RunResult::log, the summary the judge needs, so a big
  // run's memory does not grow with its attempts.
  bool keep_attempt_log = true;
};

struct RealWorld;  // The HTTP world's sender world and servers.
struct EventSource;  // Makes and publishes the scenario's events.

// Everything a finished run leaves behind. Owns the world; addresses are
// stable (the object is only handed out by unique_ptr).
struct RunResult {
  RunResult();
  ~RunResult();

  const Scenario* scenario = nullptr;  // Borrowed; must outlive the result.
  uint64_t seed = 0;
  World world = World::kVirtual;
  double time_scale = 1.0;
  VirtualClock clock;  // The virtual world's clock (idle in the HTTP world).
  TimePoint ended_at{};  // Run time when the last delivery ended.
  // The Unix time of the run timeline's zero (signature timestamps).
  Duration unix_origin{0};
  std::unique_ptr<VirtualNetwork> network;
  std::unique_ptr<WireRecorder> wire;
  std::unique_ptr<Transport> sender_wrapper;  // From RunOptions, or null.
  std::vector<std::unique_ptr<MockReceiver>> receivers;  // As scenario's.
  std::vector<int> hook_receiver;  // Per engine hook: receiver index or -1.
  std::unique_ptr<DeliveryEngine> engine;
  // The attempt log as the judge needs it, taken as attempts end (kept
  // whole for the hooks the scenario pauses; attempt_log_summary.h).
  std::unique_ptr<AttemptLogSummary> log;
  std::shared_ptr<const PayloadValidator> validator;
  // The receivers' verdict cache, which also checks each payload as it is
  // published (the verdicts land in `payloads`).
  std::shared_ptr<CachedPayloadValidator> payload_cache;
  PublishedPayloads payloads;
  std::unique_ptr<EventSource> events;
  Status clock_status;  // Set when a step or wall-time limit stopped the run.
  double wall_seconds = 0;
  // HTTP world only (stopped and joined: servers no longer serve). Declared
  // last so it goes first, before the receivers its servers borrow.
  std::unique_ptr<RealWorld> real;

  // Hex digest of the attempt log (delivery ids, attempt numbers, times,
  // results, next-attempt times).
  std::string Fingerprint() const;

  // The view the judge reads (borrows from this result).
  RunRecord Record() const;
};

// Upper bound of a scenario's timeline (run time): the last event, then
// every retry delay at its longest, every attempt running into its timeout.
Duration LongestRunTime(const Scenario& scenario);

Result<std::unique_ptr<RunResult>> RunScenario(const Scenario& scenario,
                                               const RunOptions& options);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_WORLD_RUNNER_H_
