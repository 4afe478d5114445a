// What a finished run of a scenario leaves for the judge, whichever world
// ran it: the scenario, the engine's attempt log, what the sender put on the
// wire and what each receiver recorded. The judge needs only this, not how
// the world was built (sim/world/runner.h makes one: RunResult::Record()).
// Ownership: every pointer is borrowed from the run, which must outlive the
// record. Thread: read-only once the run has ended.
#ifndef HOOKSIM_SIM_SCENARIO_RUN_RECORD_H_
#define HOOKSIM_SIM_SCENARIO_RUN_RECORD_H_

#include <cstdint>
#include <vector>

#include "mock-receivers/receiver.h"
#include "sim/base/result.h"
#include "sim/contract/contract.h"
#include "sim/contract/payload_validator.h"
#include "sim/engine/attempt_log_summary.h"
#include "sim/engine/delivery_engine.h"
#include "sim/engine/wire_recorder.h"
#include "sim/scenario/scenario.h"

namespace hooksim {

// The sender's payloads, checked as each event was published: a run drops
// an event's body once its deliveries have ended (SlotReuse::kBodies), so
// the judge reads this rather than the bodies. One bit per event, plus the
// first issue of each invalid payload.
struct PublishedPayloads {
  struct Invalid {
    uint32_t event = 0;  // Index into engine->events().
    PayloadIssue first;  // The verdict's first issue.
  };
  // Per event (as engine->events()): its "event" field is "release".
  std::vector<bool> release;
  std::vector<Invalid> invalid;  // In event order.
};

struct RunRecord {
  const Scenario* scenario = nullptr;
  const DeliveryEngine* engine = nullptr;
  // The attempt log as the judge needs it, taken during the run; null: the
  // judge takes it from engine->attempts() (then the whole log).
  const AttemptLogSummary* log = nullptr;
  const WireRecorder* wire = nullptr;
  std::vector<const MockReceiver*> receivers;  // In the scenario's order.
  std::vector<int> hook_receiver;  // Per engine hook: receiver index or -1.
  const PayloadValidator* validator = nullptr;
  // The payloads' verdicts, taken at publication; null: the judge checks
  // the bodies in engine->events() with `validator`.
  const PublishedPayloads* payloads = nullptr;
  Status clock_status;  // Set when a step or wall-time limit stopped the run.
  const Contract* contract = &DivshotContract();  // What the judge checks.
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_SCENARIO_RUN_RECORD_H_
