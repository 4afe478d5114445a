// Durable delivery: the DeliveryEngine on real sockets (RealClock +
// HttpTransport), fed from and recorded into a StateStore, so deliveries
// survive the process being killed.
//
// The runner claims pending deliveries of active hooks (state_store.h) and
// hands them to the engine with their stored id, the attempts already
// started, and the time their next attempt is due (stored as wall-clock
// time: an overdue one starts at once). Before each attempt, the engine's
// attempt gate records it as started in the store (so an attempt whose
// outcome a crash loses still counts toward the six); if the hook was
// paused meanwhile, the delivery becomes held instead and nothing is sent;
// if it was removed, the delivery stays cancelled. Each attempt's end and
// the delivery's new state are recorded as the attempt ends.
//
// The runner polls the store every poll_interval for more deliverable rows
// (held ones whose hook was resumed, ones released by a stopped runner),
// at most kMaxOpenDeliveries open at once. Without keep_running it returns
// once nothing it claimed is open and a poll finds nothing more (with
// `events`: nothing of the batch pending, whoever holds it); with it
// (`hooksim worker`) it runs until SIGINT/SIGTERM. On a stop, attempts in
// flight are abandoned (recorded as started, never ended) and every row it
// still holds is released for the next runner.
//
// Errors: a store error stops the run and is returned in the summary.
// Thread: Run() on the calling thread; it owns SIGINT (and SIGTERM when
// asked) while it runs (see InterruptWatcher).
#ifndef HOOKSIM_SIM_DURABLE_DURABLE_DELIVERY_H_
#define HOOKSIM_SIM_DURABLE_DURABLE_DELIVERY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "sim/base/result.h"
#include "sim/base/time.h"
#include "sim/durable/state_store.h"

namespace hooksim {

inline constexpr size_t kMaxOpenDeliveries = 100'000;

struct DurableRunOptions {
  // Retry tuning, as `deliver --url` takes it (see deliver_command.h).
  std::vector<Duration> schedule = {Millis(100), Millis(200), Millis(400),
                                    Millis(800), Millis(1600)};
  Duration timeout = std::chrono::seconds(10);
  double jitter = 0.2;
  int64_t concurrency = 16;
  uint64_t seed = 1;
  // Only deliveries of these event ids (a `deliver` batch); all when unset.
  std::optional<std::pair<int64_t, int64_t>> events;
  bool keep_running = false;  // `worker`: poll until stopped.
  Duration poll_interval = Millis(200);
  bool trace = false;     // One line per ended attempt on `out`.
  bool progress = false;  // A progress line on `out` (a terminal).
  bool handle_signals = true;
  bool sigterm = false;  // Stop on SIGTERM too.
};

struct DurableRunSummary {
  // Outcomes of the deliveries this run handled, per hook id.
  std::map<std::string, DeliveryCounts> by_hook;
  uint64_t attempts = 0;
  bool interrupted = false;
  Status error;  // A store or engine error that stopped the run.
};

DurableRunSummary RunDurableDeliveries(StateStore& store,
                                       const DurableRunOptions& options,
                                       std::ostream& out);

// Wall-clock now, ms since the Unix epoch (what the store keeps).
int64_t WallNowMs();

}  // namespace hooksim

#endif  // HOOKSIM_SIM_DURABLE_DURABLE_DELIVERY_H_
