// The delivery engine: one delivery per event and active hook, attempts with
// retries under a RetryPolicy, and a log of every attempt.
//
// The engine does no I/O and keeps no time of its own: attempts go through
// the Transport, delays through the Clock. Each attempt is a POST with
// Content-Type application/json, the event's raw JSON body, User-Agent
// hooksim/<version>, the delivery id (X-Hooksim-Delivery, the same on every
// attempt), the event type (X-Hooksim-Event) and the attempt number
// (X-Hooksim-Attempt, 1-based). A 2xx ends the delivery `delivered`;
// anything else is re-attempted until max_attempts, then `gave_up`.
//
// Signed payloads (the github-sha256 contract instead: X-Hub-Signature-256
// with the secret text as key, see EngineOptions::contract): a hook with a
// secret ("whsec_...") also gets the
// Standard Webhooks headers on every attempt (webhook_signature.h):
// webhook-id (the delivery id), webhook-timestamp (Unix seconds when the
// attempt starts: EngineOptions::unix_origin + the clock's Now()) and
// webhook-signature. The key is decoded once, in AddHook.
//
// Paused hooks: while a hook is paused no attempt of its deliveries starts.
// Events published meanwhile still get a delivery to it, created `held`;
// a re-attempt that falls due is held too. An attempt already in flight
// when the hook is paused is not recalled: it ends, and its re-attempt (if
// any) is then held. Resuming the hook makes its held deliveries due at
// once, in delivery order (the order they were created). A delivery still
// held when the run ends is not lost: it would go out after a resume.
//
// Jitter for re-attempt k of delivery d comes from a generator forked from
// the engine's seed by (d, k), so delays do not depend on the order in which
// answers arrive: the virtual and the real world draw the same delays.
// Thread: all calls on the clock's loop thread. Ownership: the engine keeps
// references to the clock and transport, which must outlive it.
#ifndef HOOKSIM_SIM_ENGINE_DELIVERY_ENGINE_H_
#define HOOKSIM_SIM_ENGINE_DELIVERY_ENGINE_H_

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/delivery_id.h"
#include "sim/base/random.h"
#include "sim/base/result.h"
#include "sim/contract/http_types.h"
#include "sim/engine/clock.h"
#include "sim/engine/retry_policy.h"
#include "sim/engine/slot_pool.h"
#include "sim/engine/transport.h"

namespace hooksim {

// A hook's own contract profile and the retry policy it sends by (attempts,
// schedule, jitter, timeout; RetryPolicy::FromContract for the profile's
// own figures).
struct HookContract {
  Contract contract;
  RetryPolicy policy;
};

struct Hook {
  std::string id;
  std::string url;
  bool active = true;  // False: paused from the start (see SetHookActive).
  // "whsec_..." (see webhook_signature.h), or empty: attempts carry no
  // signature headers.
  std::string secret;
  // The hook's own profile; null: EngineOptions::contract and ::policy.
  std::shared_ptr<const HookContract> contract;
};

enum class DeliveryState : uint8_t {
  kPending,
  kInFlight,
  kDelivered,
  kGaveUp,
  kHeld,  // Its hook is paused; no attempt starts until it is resumed.
};
std::string_view DeliveryStateName(DeliveryState state);

// A delivery's latest answer: an AttemptResult without its Retry-After
// (used only as the answer arrives), in 8 bytes. Converts both ways so it
// reads like one.
struct LastAnswer {
  AttemptError error = AttemptError::kNone;
  int status = 0;  // Meaningful only when error == kNone.

  LastAnswer() = default;
  LastAnswer(const AttemptResult& r)  // NOLINT: implicit, reads as one.
      : error(r.error), status(r.status) {}
  operator AttemptResult() const {  // NOLINT: implicit, reads as one.
    return AttemptResult{error, status};
  }
  bool IsSuccess() const { return AttemptResult(*this).IsSuccess(); }
};

// A run keeps one of these per delivery (64 bytes: the engine's record of a
// big run): the id as its number, no texts.
struct Delivery {
  // "dlv_" + 16 hex digits, unique in the run (kept as its number); a
  // restored delivery keeps the id it was given.
  DeliveryId id;
  uint32_t hook = 0;   // Index into hooks().
  uint32_t event = 0;  // Index into events().
  TimePoint created{};
  TimePoint ended{};
  LastAnswer last;
  int attempts = 0;
  // Times the delivery was held because its hook was paused.
  int holds = 0;
  // Engine-internal: the slot of its request parts while an attempt is in
  // flight (see DeliveryEngine::InFlightRequest), else kNoRequest.
  static constexpr uint32_t kNoRequest = UINT32_MAX;
  uint32_t request = kNoRequest;
  DeliveryState state = DeliveryState::kPending;
  // Ended gave_up because the contract stops on a 410 Gone: its own attempt
  // was answered 410, or its endpoint was disabled by another delivery's
  // 410 before its next attempt (or before it was published: then it ends
  // at once with 0 attempts).
  bool stopped_by_gone = false;
};

// A hook paused (active false) or resumed (active true) at `at`. A hook
// added paused gets a change at the time it was added.
struct HookStateChange {
  uint32_t hook = 0;
  TimePoint at{};
  bool active = false;
};

struct EventRecord {
  std::string type;  // "release", ...
  // Raw JSON, sent byte for byte on every attempt (empty once released:
  // EngineOptions::slots).
  std::string body;
  TimePoint published{};
  uint64_t body_hash = 0;  // Hash64(body), taken once when recorded.
};

struct AttemptRecord {
  uint32_t delivery = 0;  // Index into deliveries().
  uint16_t attempt = 0;   // 1-based.
  TimePoint started{};
  TimePoint ended{};
  AttemptResult result;
  std::optional<TimePoint> next_at;  // When the next attempt is due.
};

// A delivery created elsewhere (a durable store) and handed to the engine
// to carry on: it keeps its id, and the attempts already made count toward
// the policy's max_attempts.
struct RestoredDelivery {
  std::string id;
  uint32_t hook = 0;   // Index into hooks().
  uint32_t event = 0;  // Index into events() (see RecordEvent).
  int attempts_made = 0;
  Duration delay{};  // Until the next attempt is due (zero: at once).
};

struct EngineOptions {
  RetryPolicy policy;
  // What ends a delivery besides the policy's attempts: the profile's
  // success statuses, its 410 handling (Contract::StopsOn: the delivery
  // stops and the hook is disabled: no attempt and no new delivery to it),
  // its Retry-After handling and throttle floor (ContractDelay). The
  // attempts, schedule, jitter and timeout come from `policy`
  // (RetryPolicy::FromContract for the profile's own).
  Contract contract = DivshotContract();
  uint64_t seed = 1;
  // Mixed into delivery ids only (events, jitter and answers follow the
  // seed alone). 0 for scenario runs, which stay exactly reproducible;
  // ad hoc sends without --seed (deliver --url, bench) give a per-run value
  // so two runs against one receiver never share delivery ids.
  uint64_t id_salt = 0;
  // Limits: publishing more than this many deliveries fails.
  size_t max_deliveries = 20'000'000;
  // Keep every attempt in attempts() (a run's log); off for long benches
  // and for runs that summarise the log as it is made (an observer feeding
  // an AttemptLogSummary: attempt_log_summary.h).
  bool keep_attempt_log = true;
  // Where deliveries and events are kept (slot_pool.h). kNone (a run's
  // record, for verifiers and reports): every one in deliveries() and
  // events(). kEnded (long benches, durable runners): once a delivery has
  // ended (or left: parked by the gate, handed back) and the ended observer
  // has seen it, its slot is reused by a later delivery, and an event's slot
  // (and body) is released once all its deliveries have ended, so memory
  // follows the deliveries open at once, not the run's length. Indices in
  // an AttemptRecord or a Delivery are then valid only during the observer
  // calls, max_deliveries bounds the deliveries open at once, and Publish
  // returns the event's slot, not its ordinal. Delivery ids stay unique in
  // the run either way. kBodies (a run's record kept small): as kNone, but
  // an event's body is dropped (emptied) once all its deliveries have
  // ended (after the ended observer saw it), so a big run keeps only the
  // bodies of events still open; whoever needs a body later (a payload
  // check) takes what it needs before Publish.
  SlotReuse slots = SlotReuse::kNone;
  // Attempts in flight at once (0: no limit). Beyond it, a due attempt
  // waits in the engine, in the order it fell due, and is not an attempt
  // yet: the gate has not run, nothing is signed or sent. Set it to the
  // transport's connections, so an attempt the engine starts takes a
  // connection at once and its first byte goes out right after the gate.
  size_t max_in_flight = 0;
  // The Unix time of the clock's zero (as a duration since the epoch), for
  // webhook-timestamp. Real world: UnixTimeNow() when the run starts;
  // virtual world: a fixed origin so runs stay reproducible.
  Duration unix_origin = std::chrono::seconds(kDefaultStartUnixSeconds);
};

class DeliveryEngine {
 public:
  DeliveryEngine(Clock& clock, Transport& transport, EngineOptions options);
  DeliveryEngine(const DeliveryEngine&) = delete;
  DeliveryEngine& operator=(const DeliveryEngine&) = delete;

  // Registers a hook; returns its index. A secret must be valid (callers
  // check it with DecodeWebhookSecret first): one that does not decode
  // signs with an empty key, which every verifying receiver rejects.
  uint32_t AddHook(Hook hook);
  // Pauses (false) or resumes (true) a hook from now on; see "Paused hooks"
  // above. Setting the state a hook already has changes nothing.
  void SetHookActive(uint32_t hook, bool active);

  // Publishes one event: a delivery to each hook, first attempt as soon as
  // the clock runs (held instead for a paused hook). Fails when max_deliveries
  // would be exceeded.
  Result<uint32_t> Publish(std::string event_type, std::string body);

  // Records an event without creating deliveries (RestoreDelivery refers
  // to it); returns its index. With slots kEnded, the event's slot is
  // released once the last delivery restored with it has ended or was
  // handed back, so restore at least one delivery with it right away.
  uint32_t RecordEvent(std::string event_type, std::string body);
  // Takes over a delivery created elsewhere: its next attempt (number
  // attempts_made + 1) starts after `delay`. Fails when the hook or event
  // index is unknown, attempts_made is not below max_attempts, or
  // max_deliveries would be exceeded.
  Result<uint32_t> RestoreDelivery(RestoredDelivery restored);

  // Called before every attempt starts, once it may take a connection
  // (see max_in_flight) and before it is signed or sent. Returning false
  // parks the delivery: the attempt is not made, nothing is scheduled for
  // it again, it no longer counts as open and its state stays as it was
  // (kPending); whoever parked it owns it from then on (with slots kEnded
  // its slot is released on return). A durable store uses this to
  // check the hook and record the attempt before its request can reach
  // anyone.
  void SetAttemptGate(std::function<bool(const Delivery&, uint32_t)> fn) {
    gate_ = std::move(fn);
  }
  // Called when an attempt failed and another is due after `delay`, before
  // the observers. Returning false hands the delivery back: no re-attempt
  // is scheduled, it no longer counts as open, its state stays kPending,
  // and (slots kEnded) its slot is released after the observers ran.
  // A durable runner hands back retries due too far ahead to keep.
  void SetRetryHook(std::function<bool(const Delivery&, Duration)> fn) {
    retry_hook_ = std::move(fn);
  }

  // Called after every attempt has ended (for traces and progress).
  void SetAttemptObserver(std::function<void(const AttemptRecord&)> fn) {
    observer_ = std::move(fn);
  }
  // Called once per delivery as it ends (delivered or gave_up), after the
  // attempt observer, with the delivery and its event (for summaries when
  // slots are reused and this one is about to be).
  void SetEndedObserver(
      std::function<void(const Delivery&, const EventRecord&)> fn) {
    ended_observer_ = std::move(fn);
  }

  const std::vector<Hook>& hooks() const { return hooks_; }
  const std::deque<EventRecord>& events() const { return events_; }
  const std::deque<Delivery>& deliveries() const { return deliveries_; }
  const std::vector<AttemptRecord>& attempts() const { return attempts_; }
  const EngineOptions& options() const { return options_; }
  // The contract and policy hook `hook` is sent by: its own, else the
  // engine's (hook must be a valid index).
  const Contract& ContractOf(uint32_t hook) const {
    const auto& own = hooks_[hook].contract;
    return own ? own->contract : options_.contract;
  }
  const RetryPolicy& PolicyOf(uint32_t hook) const {
    const auto& own = hooks_[hook].contract;
    return own ? own->policy : options_.policy;
  }

  // Every pause and resume, in time order.
  const std::vector<HookStateChange>& hook_changes() const {
    return hook_changes_;
  }
  // Whether a 410 Gone disabled the hook (see EngineOptions::contract).
  bool hook_disabled(uint32_t hook) const {
    return hook < hook_disabled_.size() && hook_disabled_[hook] != 0;
  }
  // Deliveries held now (their hooks are paused).
  size_t held_deliveries() const { return held_count_; }

  // Deliveries not yet delivered or given up (held ones included).
  size_t open_deliveries() const { return open_; }
  // Attempts sent and not yet ended.
  size_t in_flight() const { return in_flight_; }
  // Due attempts waiting for max_in_flight to allow them.
  size_t waiting() const { return ready_.size(); }
  // Delivery slots allocated (ended and free ones included).
  size_t slots() const { return deliveries_.size(); }
  // The index in deliveries() of the published delivery whose id is `id`,
  // found from the id alone (ids are an invertible function of the
  // delivery's ordinal: no table); nullopt for any other id, a restored
  // delivery's included, and when slots are reused.
  std::optional<uint32_t> FindPublished(std::string_view id) const;
  uint64_t total_attempts() const { return total_attempts_; }

 private:
  void StartAttempt(uint32_t index);
  // Starts waiting attempts while max_in_flight allows.
  void StartWaiting();
  // A new delivery slot (a freed one when slots are reused) for the run's
  // next ordinal.
  uint32_t NewDeliverySlot();
  void OnAttemptDone(uint32_t index, AttemptResult result);
  // Slots reused: frees delivery `index` and, with its last delivery, its
  // event, for reuse by Publish; kBodies: drops the event's body with its
  // last delivery (nothing otherwise).
  void Release(uint32_t index);
  // Drops event `event`'s record (reuse) or body (kBodies).
  void ReleaseEvent(uint32_t event);
  void Hold(uint32_t index);
  // Ends delivery `index` gave_up (stopped_by_gone), at the clock's now;
  // `release`: frees its slot too (slots reused).
  void StopGone(uint32_t index, bool release);
  // The request parts of one attempt in flight: they must outlive it (a
  // transport may read them until it answers), and only attempts in flight
  // need them, so they live here rather than in every delivery's record.
  // The first header_count of headers are sent (5; 8 for a hook with a
  // secret, Standard Webhooks headers; 6 under a github-sha256 contract:
  // X-Hub-Signature-256).
  struct InFlightRequest {
    std::array<Header, 8> headers{};
    uint8_t header_count = 5;
    TimePoint started{};  // When the attempt started.
    char id_text[kDeliveryIdSize] = {};  // Formatted for the headers.
    char attempt_text[8] = {};
    char timestamp_text[24] = {};  // webhook-timestamp.
    std::string signature;         // webhook-signature or X-Hub-...
  };
  // Fills `r` with d's headers for its attempt d.attempts (signed now when
  // its hook has a secret); d.id, d.hook, d.event, d.attempts must be set.
  // The id's text is formatted into r.id_text (or viewed, for a restored
  // id that is not canonical).
  void FillRequest(const Delivery& d, InFlightRequest& r);
  // Sets the webhook-* headers of `r` for delivery `d`'s attempt now;
  // `id` is d's id as text.
  void SignAttempt(const Delivery& d, std::string_view id, InFlightRequest& r);

  Clock& clock_;
  Transport& transport_;
  EngineOptions options_;
  Random rng_;
  std::vector<Hook> hooks_;
  std::deque<EventRecord> events_;
  std::deque<Delivery> deliveries_;
  std::vector<AttemptRecord> attempts_;
  std::function<void(const AttemptRecord&)> observer_;
  std::function<void(const Delivery&, const EventRecord&)> ended_observer_;
  std::function<bool(const Delivery&, uint32_t)> gate_;
  std::function<bool(const Delivery&, Duration)> retry_hook_;
  size_t open_ = 0;
  size_t in_flight_ = 0;
  std::deque<uint32_t> ready_;  // Due, waiting for max_in_flight.
  // Request parts of the attempts in flight: slots stay put (a deque), and
  // a freed slot is reused, so this follows the most attempts in flight
  // at once, not the run's length.
  std::deque<InFlightRequest> requests_;
  std::vector<uint32_t> free_requests_;
  uint64_t total_attempts_ = 0;
  // Delivery and event slots: reused or not (EngineOptions::slots); ids
  // and jitter derive from each delivery's ordinal, kept by the pool.
  SlotPool pool_;
  uint64_t published_deliveries_ = 0;
  // Per hook: the decoded secret (empty when the hook has none), and the
  // deliveries held while it is paused (bounded by deliveries_).
  std::vector<std::string> hook_keys_;
  std::vector<uint8_t> hook_disabled_;  // 1: a 410 disabled it.
  std::vector<std::vector<uint32_t>> held_;
  size_t held_count_ = 0;
  std::vector<HookStateChange> hook_changes_;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_ENGINE_DELIVERY_ENGINE_H_
