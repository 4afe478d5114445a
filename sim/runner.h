// Runs a scenario in the virtual world: builds the receivers, the network,
// the engine and the events from the scenario and its seed, runs the
// virtual clock until every delivery has ended, and keeps the whole world
// for the verifier and the reports.
//
// All randomness is forked from the run's seed: "events" for the event
// generator, "receiver:NAME" for each receiver, "engine" for jitter. The
// same scenario and seed give the same attempt log, byte for byte
// (Fingerprint()).
// Thread: single-threaded.
#ifndef HOOKSIM_SIM_RUNNER_H_
#define HOOKSIM_SIM_RUNNER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "mock-receivers/receiver.h"
#include "sim/delivery_engine.h"
#include "sim/payload_validator.h"
#include "sim/scenario.h"
#include "sim/sim_network.h"
#include "sim/virtual_clock.h"
#include "sim/wire_recorder.h"

namespace hooksim {

struct RunOptions {
  std::optional<uint64_t> seed;  // Overrides the scenario's seed.
  // Receives one line per attempt (see FormatTraceLine) when set.
  std::function<void(const std::string&)> trace;
  // Bound on virtual-clock steps; the run fails when it is reached.
  uint64_t max_steps = 500'000'000;
  // The payload validator to use; null builds the bundled one. Pass one to
  // share it (and its parsed schemas) across many runs.
  std::shared_ptr<const PayloadValidator> validator;
  // Test seam: wraps the transport the engine sends through (before the
  // wire recorder), to play a sender that breaks the contract.
  std::function<std::unique_ptr<Transport>(Transport& inner)> wrap_sender;
};

// Everything a finished run leaves behind. Owns the world; addresses are
// stable (the object is only handed out by unique_ptr).
struct RunResult {
  const Scenario* scenario = nullptr;  // Borrowed; must outlive the result.
  uint64_t seed = 0;
  VirtualClock clock;
  std::unique_ptr<SimNetwork> network;
  std::unique_ptr<WireRecorder> wire;
  std::unique_ptr<Transport> sender_wrapper;  // From RunOptions, or null.
  std::vector<std::unique_ptr<MockReceiver>> receivers;  // As scenario's.
  std::vector<int> hook_receiver;  // Per engine hook: receiver index or -1.
  std::unique_ptr<DeliveryEngine> engine;
  std::shared_ptr<const PayloadValidator> validator;
  Status clock_status;           // Set when the step limit stopped the run.
  double wall_seconds = 0;

  // Hex digest of the attempt log (delivery ids, attempt numbers, times,
  // results, next-attempt times).
  std::string Fingerprint() const;
};

// One line of --trace output for an attempt.
std::string FormatTraceLine(const DeliveryEngine& engine,
                            const AttemptRecord& record);

Result<std::unique_ptr<RunResult>> RunScenario(const Scenario& scenario,
                                               const RunOptions& options);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_RUNNER_H_
