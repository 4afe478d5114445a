// Store-backed delivery commands: `hooksim deliver` without --url, and
// `hooksim worker`. Both run RunDurableDeliveries (durable_delivery.h)
// against the state database (state_store.h).
//
// `deliver` (no --url): stores the events (--event-file F, or --count /
// --generate N seeded release events) and one delivery per event and hook
// (held for paused hooks) in one transaction, then delivers the batch to
// every active hook and returns once each of those deliveries has ended
// (held ones stay stored). `deliver --resume`: delivers whatever is
// pending in the state (held deliveries whose hook was resumed, and any a
// stopped runner left). Both print a progress line on a terminal, every
// attempt with --trace, then one line per hook (delivered, gave_up, held,
// cancelled, pending) and a total.
// Exit codes: 0 every delivery to an active hook was delivered; 1 some gave
// up, or stayed pending, or the state database failed; 2 bad usage, a state
// file that cannot be opened, or no hooks registered; 130 interrupted
// (Ctrl-C): open deliveries stay pending in the state for --resume.
//
// `worker`: runs until SIGINT or SIGTERM, polling the state every
// --poll-ms for deliverable rows (new batches, resumed hooks, rows of a
// stopped runner); exits 0 after a signal, 1 on a state database error,
// 2 on bad usage.
// Errors: reported on `err`, never thrown. Thread: the calling thread,
// which owns SIGINT (and for the worker SIGTERM) while the command runs.
#ifndef HOOKSIM_SIM_CLI_WORKER_COMMAND_H_
#define HOOKSIM_SIM_CLI_WORKER_COMMAND_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "sim/base/result.h"
#include "sim/cli/deliver_command.h"

namespace hooksim {

inline constexpr int64_t kMaxPollMs = 60'000;

struct WorkerOptions {
  // Retry tuning, seed, concurrency, state and trace as `deliver` parses
  // them (its url, count and events are unused).
  DeliverOptions deliver;
  Duration poll = Millis(200);
  // --metrics-listen HOST:PORT: serve GET /metrics there (port 0: a
  // kernel-chosen one, printed as "worker: metrics at URL").
  std::optional<std::string> metrics_listen;
  std::string metrics_host;
  int metrics_port = 0;
};

// `hooksim worker`'s flags, each bound to its field of `*options`:
// --state, --poll-ms (1..60000), --seed, the retry flags, --concurrency,
// --lease-ms, --trace, --metrics-listen (HOST:PORT, checked here).
FlagSet WorkerFlagSet(WorkerOptions* options);

std::string WorkerHelp();

// `hooksim worker ARGS...`: --help, or parse and run; the exit code.
int RunWorkerCli(const std::vector<std::string>& args, std::ostream& out,
                 std::ostream& err);

// `deliver` without --url; `options.url` must be empty.
int RunStoreDeliver(const DeliverOptions& options, std::ostream& out,
                    std::ostream& err);

int RunWorker(const WorkerOptions& options, std::ostream& out,
              std::ostream& err);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_WORKER_COMMAND_H_
