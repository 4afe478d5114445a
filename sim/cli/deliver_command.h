// `hooksim deliver`: the sender half on real sockets. Generates seeded
// release events (or reads them from an event file, see event_file.h) and
// delivers each to one URL with the DeliveryEngine on a
// RealClock (time scale 1) and the HttpTransport, printing every attempt
// as it ends, one line per delivery at the end, and a summary.
//
// Retry schedule: 1 to 5 delays in ms; the delay before re-attempt k is
// the k-th, and past the end of the list the last one repeats. There are
// always 5 re-attempts (6 attempts at most), as the webhook contract says;
// a list longer than 5 is refused (its extra delays could never be used).
//
// Without --url, see worker_command.h (RunDeliver hands over to it).
//
// Exit codes: 0 every delivery was delivered; 1 a delivery gave up (or the
// run hit its wall-time limit); 2 bad usage (kDeliverFlags' errors);
// 130 interrupted by SIGINT (Ctrl-C), 143 by SIGTERM: the clock is stopped,
// attempts in flight are abandoned, and the deliveries still open are
// listed as `pending`.
//
// Errors: RunDeliver reports through its exit code and streams and never
// throws. Thread: RunDeliver runs its loop on the calling thread; while it
// runs it owns the process's SIGINT and SIGTERM handling (see
// InterruptWatcher).
#ifndef HOOKSIM_SIM_CLI_DELIVER_COMMAND_H_
#define HOOKSIM_SIM_CLI_DELIVER_COMMAND_H_

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/result.h"
#include "sim/base/time.h"
#include "sim/cli/flags.h"
#include "sim/contract/contract.h"
#include "sim/contract/event_file.h"

namespace hooksim {

inline constexpr int64_t kMaxDeliverCount = 100'000;
inline constexpr int64_t kMaxDeliverConcurrency = 1024;
inline constexpr int64_t kMaxDeliverIntervalMs = 24LL * 3600 * 1000;
inline constexpr int64_t kMinLeaseMs = 1'000;
inline constexpr int64_t kMaxLeaseMs = 3'600'000;

struct DeliverOptions {
  std::string url;
  int64_t count = 1;
  // Events read from --event-file; when set, delivered instead of `count`
  // generated ones, in file order.
  std::optional<std::vector<FileEvent>> events;
  uint64_t seed = 1;
  // EngineOptions::id_salt: a per-run value when no --seed was given.
  uint64_t id_salt = 0;
  // Delays before re-attempts 1..5, the last repeating (see above).
  std::vector<Duration> schedule = {Millis(100), Millis(200), Millis(400),
                                    Millis(800), Millis(1600)};
  Duration timeout = std::chrono::seconds(10);
  double jitter = 0.2;
  int64_t concurrency = 16;      // Transport workers: attempts in flight.
  Duration interval{};           // Between two events' publication.
  bool handle_interrupt = true;  // Install the SIGINT handling.
  // --url only: sign every attempt with this "whsec_..." secret.
  std::string secret;
  // --contract NAME|FILE: what ends a delivery (success statuses, 410,
  // attempts), Retry-After and signing; its schedule, jitter and timeout
  // replace the defaults above unless their flags are given. Without --url:
  // for hooks stored without a contract of their own (hooks add
  // --contract); those with one send by it, the flags given overriding its
  // schedule, jitter and timeout (the *_given marks).
  Contract contract = DivshotContract();
  bool schedule_given = false;
  bool jitter_given = false;
  bool timeout_given = false;
  // Without --url (worker_command.h): deliver to every hook in the state
  // database at `state` (nullopt: $HOOKSIM_STATE or the default), or with
  // `resume` whatever is pending there; `trace` prints every attempt.
  std::optional<std::string> state;
  bool resume = false;
  bool trace = false;
  // Without --url: the lease on claimed deliveries (see state_store.h).
  Duration lease = Millis(30'000);
};

// `hooksim deliver`'s flags, each bound to its field of `*options`.
FlagSet DeliverFlagSet(DeliverOptions* options);

// The rules between flags, after parsing: --url must be
// http://host[:port]/path; without it the events go to the hooks of the
// state database (--state; --secret, --interval-ms and --contract are for
// --url only, --lease-ms for without it). --event-file excludes
// --count/--generate (synonyms); --resume excludes all three and --url.
// Without --seed, `id_salt` becomes this run's own.
Status CheckDeliverFlags(const FlagSet& flags, DeliverOptions& options);

// Both: ParseArgs(kDeliverFlags, args) gives the options, or the error
// naming the flag and the value, e.g. `--count: expected an integer
// 1..100000, got "0"`.
extern const CommandFlags<DeliverOptions> kDeliverFlags;

// --lease-ms L (kMinLeaseMs..kMaxLeaseMs): the lease on claimed
// deliveries; `prefix` starts its help ("without --url: ").
void AddLeaseFlag(FlagSet& flags, const std::string& prefix, Duration* lease);

// A per-run salt for delivery ids (EngineOptions::id_salt), never 0.
uint64_t FreshIdSalt();

std::string DeliverHelp();

// `hooksim deliver ARGS...`: --help, or parse and run; the exit code.
int RunDeliverCli(const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err);

// Runs the deliveries; returns the exit code described above. `options`
// should come from kDeliverFlags; invalid options print a message to
// `err` and return 2.
int RunDeliver(const DeliverOptions& options, std::ostream& out,
               std::ostream& err);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_DELIVER_COMMAND_H_
