// Scenario files: what to run (events, receivers, hooks, retry policy) and
// what to expect, as data.
//
// LoadScenarioFile/ParseScenario turn a JSON document into a Scenario or an
// Error naming the file, the JSON pointer and the problem. Unknown keys are
// errors (a typo must not silently change a test). See README.md,
// "Scenario format", for the full format.
#ifndef HOOKSIM_SIM_SCENARIO_SCENARIO_H_
#define HOOKSIM_SIM_SCENARIO_SCENARIO_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mock-receivers/behavior.h"
#include "sim/base/result.h"
#include "sim/contract/contract.h"
#include "sim/contract/release_events.h"
#include "sim/engine/retry_policy.h"

namespace hooksim {

struct EventsSpec {
  // Generated release events (used when payloads is empty).
  int64_t count = 1;
  ReleaseEventOptions generator;
  // Explicit payload bodies, sent as given (compact JSON, or a raw string).
  std::vector<std::string> payloads;
  // Virtual time between two events being published.
  Duration interval{0};
};

struct ReceiverSpec {
  std::string name;
  BehaviorSpec behavior;
  // Key "contract": the profile of the hooks to this receiver that name
  // none of their own.
  std::optional<Contract> contract;
};

struct HookSpec {
  std::string id;
  std::string receiver;  // Name of a receiver, or "" when url is set.
  std::string url;       // A URL with no receiver behind it (refused).
  bool paused = false;   // Paused from the start (deliveries held).
  std::string secret;    // "whsec_..." (validated), or "": no signing.
  // The hook's own profile (its key "contract", else its receiver's);
  // nullopt: the scenario's. `retry` is then its attempts, schedule,
  // jitter and timeout, with the scenario's "retry" object over the
  // schedule, jitter and timeout (not the attempts: the profile's).
  std::optional<Contract> contract;
  RetryPolicy retry;
};

// One step of the scenario's timeline: pause or resume a hook at a time.
struct TimelineStep {
  Duration at{0};
  std::string hook;       // A hook id from Scenario::hooks.
  size_t hook_index = 0;  // Its index in Scenario::hooks.
  bool pause = true;      // False: resume.
};

// An integer or real range; exact values have min == max.
struct Range {
  double min = 0;
  double max = 0;
  bool Contains(double v) const { return v >= min - 1e-9 && v <= max + 1e-9; }
  std::string ToString() const;  // "3" or "2..6"
};

enum class OutcomeExpectation { kAny, kDelivered, kGaveUp };

struct ReceiverExpectation {
  std::string receiver;
  std::optional<Range> attempts;  // Per delivery.
  OutcomeExpectation outcome = OutcomeExpectation::kAny;
  std::optional<Range> delivered_ratio;  // Of this receiver's deliveries.
};

struct Expectations {
  std::vector<ReceiverExpectation> receivers;
  bool all_payloads_schema_valid = true;
};

struct Scenario {
  std::string file;  // Where it was loaded from ("" when parsed from text).
  std::string name;
  std::string description;
  uint64_t seed = 1;
  EventsSpec events;
  std::vector<ReceiverSpec> receivers;  // Sorted by name.
  std::vector<HookSpec> hooks;          // In file order.
  RetryPolicy retry;
  // The contract the sender keeps and is judged by (key "contract": a
  // built-in profile name, a contract file path relative to the working
  // directory, or an inline contract object); divshot when absent. Its
  // attempts, schedule, jitter and timeout are `retry`'s defaults; a
  // "retry" object overrides them (e.g. a compressed schedule).
  Contract contract = DivshotContract();
  bool retry_given = false;  // The file has a "retry" object.
  Expectations expect;
  // Unix seconds at the start of the run timeline in the virtual world
  // (webhook-timestamp of signed deliveries); the HTTP world uses the
  // system time when the run starts.
  int64_t start_unix_s = kDefaultStartUnixSeconds;
  // Pauses and resumes, in time order (steps at the same time in file
  // order).
  std::vector<TimelineStep> timeline;

  size_t EventCount() const;  // Payloads given, or events generated.
  // events x hooks: a paused hook gets deliveries too (held).
  size_t DeliveryCount() const;
  // Whether hook `index` is ever paused (from the start or by the
  // timeline).
  bool EverPaused(size_t index) const;
  // The contract and retry policy hook `index` is sent and judged by.
  const Contract& ContractOf(size_t index) const;
  const RetryPolicy& RetryOf(size_t index) const;
  // Whether any hook has a contract of its own (a mixed scenario).
  bool MixedContracts() const;
};

// Limits on what a scenario may ask for.
inline constexpr int64_t kMaxScenarioEvents = 1'000'000;
inline constexpr size_t kMaxScenarioReceivers = 1'000;
inline constexpr size_t kMaxScenarioHooks = 1'000;
inline constexpr size_t kMaxTimelineSteps = 10'000;
inline constexpr size_t kMaxScenarioDeliveries = 5'000'000;
inline constexpr size_t kMaxScenarioFileBytes = 64 << 20;

Result<Scenario> ParseScenario(const nlohmann::json& doc);
Result<Scenario> ParseScenarioText(std::string_view text);
// Reads and parses a file; errors carry the file name.
Result<Scenario> LoadScenarioFile(const std::string& path);

// RouteWarnings (mock-receivers/routes.h) of every receiver, in receiver
// order, each under the receiver's behaviour pointer
// ("/receivers/shop/behavior/routes/1 'b' is unreachable: ...").
std::vector<std::string> ScenarioRouteWarnings(const Scenario& scenario);

// The simulated URL of a receiver ("sim://NAME/hook"). Hook URLs in a
// scenario must be http(s), so they can never collide with one.
std::string SimReceiverUrl(const std::string& receiver_name);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_SCENARIO_SCENARIO_H_
