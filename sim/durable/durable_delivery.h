// Durable delivery: the DeliveryEngine on a world's event loop and
// transport (DurableEnv: real sockets for `deliver` and `worker`, or the
// virtual world in tests; sim/world/sender_world.h builds either), fed from
// and recorded into a DeliveryStore by its lease protocol (state_store.h),
// so deliveries survive the process being killed and several runners can
// share one store. Every time the store keeps (leases, due times, attempt
// times) is the env's wall time, so in the virtual world leases expire in
// virtual time.
//
// The runner claims pending deliveries of active hooks due within
// max(5 s, poll_interval) under a lease (`lease`, renewed every lease / 3
// while it runs) and hands them to the engine with their stored id, the
// attempts already made, and the time their next attempt is due (stored as
// wall-clock time: an overdue one starts at once). At most `concurrency`
// attempts are in flight, as many as the transport has connections, so an
// attempt the engine starts takes a connection at once: its gate then
// records it as started in the store, just before its first byte is
// written, and only if the hook is still active and the row still the
// runner's (a paused hook holds the delivery, a removed one cancels it,
// both without sending). It is then signed (webhook-timestamp is the send
// time) and written. Due attempts waiting for a connection are not
// attempts: nothing about them is recorded. Each attempt's end and the
// delivery's new state are recorded as the attempt ends; a retry due
// later than the claim horizon is handed back to the store, so memory and
// leases follow the deliveries due soon, not all that are open.
//
// Stops. The first SIGINT (or SIGTERM), or a store error, starts a drain:
// no more claims or attempts; attempts in flight end (bounded by the
// attempt timeout, plus 2 s), their outcomes are recorded, every row still
// held is released, and Run returns. A second signal stops at once:
// attempts in flight are abandoned (recorded as started, so they count),
// and waiting for a busy database gives up (`abort`).
//
// Without keep_running, Run returns once nothing in `scope` is pending
// (whoever holds it: it waits for other runners' leases to end or their
// deliveries to finish); with it (`hooksim worker`) it runs until stopped.
//
// Thread: everything on the env's loop thread; Run() owns SIGINT and
// SIGTERM while it runs (see InterruptWatcher).
#ifndef HOOKSIM_SIM_DURABLE_DURABLE_DELIVERY_H_
#define HOOKSIM_SIM_DURABLE_DURABLE_DELIVERY_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "sim/base/result.h"
#include "sim/base/time.h"
#include "sim/contract/contract.h"
#include "sim/durable/state_store.h"
#include "sim/durable/worker_metrics.h"
#include "sim/engine/event_loop.h"
#include "sim/engine/transport.h"

namespace hooksim {

// Deliveries one runner keeps at once, at most.
inline constexpr size_t kMaxOpenDeliveries = 100'000;

struct DurableRunOptions {
  // Retry tuning, as `deliver --url` takes it (see deliver_command.h).
  std::vector<Duration> schedule = {Millis(100), Millis(200), Millis(400),
                                    Millis(800), Millis(1600)};
  Duration timeout = std::chrono::seconds(10);
  double jitter = 0.2;
  // The contract profile of hooks stored without one (`hooks add
  // --contract`): its attempts, success statuses, 410 handling (the hook
  // is disabled in the store: DeliveryStore::DisableHook), Retry-After and
  // signing; the schedule, jitter and timeout above. A hook with its own
  // contract sends by all of that profile's figures, except the schedule,
  // jitter or timeout marked given here (the runner's flags).
  Contract contract = DivshotContract();
  bool schedule_given = false;
  bool jitter_given = false;
  bool timeout_given = false;
  int64_t concurrency = 16;
  uint64_t seed = 1;
  // Which deliveries: a `deliver` batch, or those that existed when
  // `deliver --resume` started; all when empty.
  DeliveryScope scope;
  bool keep_running = false;  // `worker`: poll until stopped.
  Duration poll_interval = Millis(200);
  Duration lease = Millis(kDefaultLeaseMs);
  bool trace = false;     // One line per ended attempt on `out`.
  bool progress = false;  // A progress line on `out` (a terminal).
  bool handle_signals = true;  // SIGINT and SIGTERM drain, see above.
  // Set on the second signal; the store's busy waits watch it (pass the
  // same flag in StoreOptions::abort). May be null.
  std::atomic<bool>* abort = nullptr;
  // When set (borrowed, outlives the run): every attempt's outcome and
  // latency, and every lease takeover, are counted in it.
  WorkerMetrics* metrics = nullptr;
};

struct DurableRunSummary {
  // Outcomes of the deliveries this run handled, per hook id; `pending`:
  // rows it held when it stopped (released, still pending in the store).
  std::map<std::string, DeliveryCounts> by_hook;
  uint64_t attempts = 0;
  bool interrupted = false;
  int signal = 0;  // The first signal (SIGINT, SIGTERM), 0 when none.
  // Attempts in flight abandoned at the stop (second signal, drain past
  // its bound, or a wall limit): recorded as started, outcome unknown.
  uint64_t abandoned = 0;
  size_t peak_open = 0;  // Most deliveries the runner kept at once.
  Status error;          // A store or engine error that stopped the run.
};

// What a runner runs on. Borrowed: loop and transport outlive the runner.
struct DurableEnv {
  EventLoop* loop = nullptr;
  // Sends at most DurableRunOptions::concurrency attempts at once without
  // queueing them (the HTTP transport with that many workers; the virtual
  // network sends at once).
  Transport* transport = nullptr;
  // Unix time now, ms: what the store keeps (claims, leases, due times).
  std::function<int64_t()> wall_now_ms;
  // The Unix time of the loop's zero (webhook-timestamp).
  Duration unix_origin{0};
  // Called once the loop has returned, before rows are released: stops
  // whatever may still complete work on the loop (transport threads).
  // May be empty.
  std::function<void()> stop_transport;
};

// One runner: a process's worth of durable-delivery state (engine, open
// deliveries, owner token). Destroying it releases nothing, as a crash
// (kill -9) would: its rows stay leased until their leases end.
class DurableRunner {
 public:
  DurableRunner(DeliveryStore& store, DurableEnv env,
                const DurableRunOptions& options, std::ostream& out);
  ~DurableRunner();
  DurableRunner(const DurableRunner&) = delete;
  DurableRunner& operator=(const DurableRunner&) = delete;

  // Start(), the loop run under `limits` (with the signal watcher when
  // options.handle_signals), then Finish().
  DurableRunSummary Run(const LoopLimits& limits);

  // Sets up the engine and schedules the first claim and lease renewal on
  // the loop (which the caller then runs). An error (a bad retry policy)
  // means nothing was scheduled. Once.
  Status Start();
  // After the loop returned with `run` (its error, if any, is the run's):
  // counts attempts in flight as abandoned, stops the transport, releases
  // every row still held and returns the summary. Once.
  DurableRunSummary Finish(Status run);
  // Attempts sent and not yet ended (those a crash now would lose).
  size_t in_flight() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Wall-clock now, ms since the Unix epoch (what the store keeps).
int64_t WallNowMs();

}  // namespace hooksim

#endif  // HOOKSIM_SIM_DURABLE_DURABLE_DELIVERY_H_
