#include "sim/engine/delivery_engine.h"

#include <algorithm>
#include <charconv>

#include "sim/contract/webhook_signature.h"

namespace hooksim {
namespace {

constexpr std::string_view kPost = "POST";
constexpr std::string_view kJson = "application/json";

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

// The id number of the delivery with this ordinal.
uint64_t IdNumber(uint64_t seed, uint64_t salt, uint64_t ordinal) {
  uint64_t state = seed ^ salt ^ (kGolden * (ordinal + 1));
  return SplitMix64(state);
}

// The inverse of an odd number modulo 2^64 (Newton's iteration: each step
// doubles the correct low bits, from 3 to over 64).
constexpr uint64_t InverseOdd(uint64_t a) {
  uint64_t x = a;  // Correct to 3 bits: a * a == 1 mod 8 for odd a.
  for (int i = 0; i < 5; ++i) x *= 2 - a * x;
  return x;
}

// The inverse of x -> x ^ (x >> shift).
uint64_t UnXorShift(uint64_t y, int shift) {
  uint64_t x = y;
  for (int s = shift; s < 64; s += shift) x = y ^ (x >> shift);
  return x;
}

// The ordinal IdNumber was given, inverting SplitMix64 step by step.
uint64_t OrdinalOf(uint64_t seed, uint64_t salt, uint64_t number) {
  uint64_t z = UnXorShift(number, 31);
  z *= InverseOdd(0x94d049bb133111ebULL);
  z = UnXorShift(z, 27);
  z *= InverseOdd(0xbf58476d1ce4e5b9ULL);
  z = UnXorShift(z, 30);
  const uint64_t state = z - kGolden;
  return (state ^ seed ^ salt) * InverseOdd(kGolden) - 1;
}

}  // namespace

// The README's figure for what a run keeps per delivery in the engine.
static_assert(sizeof(Delivery) <= 64, "Delivery grew: update the README");

std::string_view DeliveryStateName(DeliveryState state) {
  switch (state) {
    case DeliveryState::kPending:
      return "pending";
    case DeliveryState::kInFlight:
      return "in_flight";
    case DeliveryState::kDelivered:
      return "delivered";
    case DeliveryState::kGaveUp:
      return "gave_up";
    case DeliveryState::kHeld:
      return "held";
  }
  return "unknown";
}

DeliveryEngine::DeliveryEngine(Clock& clock, Transport& transport,
                               EngineOptions options)
    : clock_(clock),
      transport_(transport),
      options_(std::move(options)),
      rng_(options_.seed),
      pool_(options_.slots) {}

uint32_t DeliveryEngine::AddHook(Hook hook) {
  std::string key;
  const Contract& contract =
      hook.contract ? hook.contract->contract : options_.contract;
  if (!hook.secret.empty() &&
      contract.signing == SigningScheme::kGithubSha256) {
    key = hook.secret;  // GitHub's key is the secret text itself.
  } else if (!hook.secret.empty()) {
    Result<std::string> decoded = DecodeWebhookSecret(hook.secret);
    if (decoded.ok()) key = std::move(decoded).value();
  }
  hooks_.push_back(std::move(hook));
  hook_keys_.push_back(std::move(key));
  hook_disabled_.push_back(0);
  held_.emplace_back();
  const uint32_t index = static_cast<uint32_t>(hooks_.size() - 1);
  if (!hooks_.back().active) {
    hook_changes_.push_back(HookStateChange{index, clock_.Now(), false});
  }
  return index;
}

void DeliveryEngine::SetHookActive(uint32_t hook, bool active) {
  if (hook >= hooks_.size() || hooks_[hook].active == active) return;
  hooks_[hook].active = active;
  hook_changes_.push_back(HookStateChange{hook, clock_.Now(), active});
  if (!active) return;
  // Resume: every held delivery becomes due now, in creation order.
  std::vector<uint32_t> held = std::move(held_[hook]);
  held_[hook].clear();
  std::sort(held.begin(), held.end());
  held_count_ -= held.size();
  for (uint32_t index : held) {
    deliveries_[index].state = DeliveryState::kPending;
    clock_.ScheduleAfter(Duration::zero(),
                         [this, index] { StartAttempt(index); });
  }
}

void DeliveryEngine::Hold(uint32_t index) {
  Delivery& d = deliveries_[index];
  d.state = DeliveryState::kHeld;
  ++d.holds;
  held_[d.hook].push_back(index);
  ++held_count_;
}

void DeliveryEngine::SignAttempt(const Delivery& d, std::string_view id,
                                 InFlightRequest& r) {
  const int64_t unix_s =
      std::chrono::duration_cast<std::chrono::seconds>(
          options_.unix_origin + clock_.Now().time_since_epoch())
          .count();
  const std::to_chars_result printed = std::to_chars(
      r.timestamp_text, r.timestamp_text + sizeof(r.timestamp_text), unix_s);
  r.headers[6].value = std::string_view(
      r.timestamp_text, static_cast<size_t>(printed.ptr - r.timestamp_text));
  r.signature =
      SignWebhook(hook_keys_[d.hook], id, unix_s, events_[d.event].body);
  r.headers[7].value = r.signature;
}

void DeliveryEngine::FillRequest(const Delivery& d, InFlightRequest& r) {
  // Decimal, as "%d"; attempts are bounded by max_attempts (at most 101 by
  // RetryPolicy's validation), far below the 8 chars attempt_text holds.
  const std::to_chars_result printed = std::to_chars(
      r.attempt_text, r.attempt_text + sizeof(r.attempt_text), d.attempts);
  const std::string_view attempt(
      r.attempt_text, static_cast<size_t>(printed.ptr - r.attempt_text));
  const std::string_view id = d.id.View(r.id_text);
  r.headers[0] = Header{"Content-Type", kJson};
  r.headers[1] = Header{"User-Agent", kUserAgent};
  r.headers[2] = Header{kDeliveryIdHeader, id};
  r.headers[3] = Header{kEventTypeHeader, events_[d.event].type};
  r.headers[4] = Header{kAttemptHeader, attempt};
  r.header_count = 5;
  if (!hooks_[d.hook].secret.empty() &&
      ContractOf(d.hook).signing == SigningScheme::kGithubSha256) {
    r.signature = SignGithubSha256(hook_keys_[d.hook], events_[d.event].body);
    r.headers[5] = Header{kGithubSignatureHeader, r.signature};
    r.header_count = 6;
  } else if (!hooks_[d.hook].secret.empty()) {
    r.headers[5] = Header{kWebhookIdHeader, id};
    r.headers[6] = Header{kWebhookTimestampHeader, {}};
    r.headers[7] = Header{kWebhookSignatureHeader, {}};
    r.header_count = 8;
    SignAttempt(d, id, r);
  }
}

Result<uint32_t> DeliveryEngine::Publish(std::string event_type,
                                         std::string body) {
  // Paused hooks get a delivery too (held until they are resumed).
  const size_t live = deliveries_.size() - pool_.free_deliveries();
  if (live + hooks_.size() > options_.max_deliveries) {
    return Status::FailedPrecondition("delivery limit of " +
                                      std::to_string(options_.max_deliveries) +
                                      " reached");
  }
  const uint32_t event_index =
      RecordEvent(std::move(event_type), std::move(body));
  for (uint32_t h = 0; h < hooks_.size(); ++h) {
    const uint32_t index = NewDeliverySlot();
    const uint64_t ordinal = published_deliveries_ - 1;
    pool_.OpenDelivery(event_index);
    Delivery& d = deliveries_[index];
    // Its text: "dlv_%016llx".
    d.id = DeliveryId(IdNumber(options_.seed, options_.id_salt, ordinal));
    d.hook = h;
    d.event = event_index;
    d.created = clock_.Now();
    ++open_;
    if (hook_disabled_[h]) {
      // A 410 Gone disabled the hook: the delivery is recorded (none is
      // lost) and ends at once, nothing sent. Its slot is freed here; the
      // event's, below, once no delivery of it is open.
      StopGone(index, /*release=*/false);
      pool_.FreeDeliveryOnly(index);
      pool_.CloseDelivery(event_index);
      continue;
    }
    if (!hooks_[h].active) {
      Hold(index);
      continue;
    }
    clock_.ScheduleAfter(Duration::zero(),
                         [this, index] { StartAttempt(index); });
  }
  if (pool_.FreeEventIfUnused(event_index)) {
    // No active hook: nothing will end, so the event is released now.
    ReleaseEvent(event_index);
  }
  return event_index;
}

uint32_t DeliveryEngine::NewDeliverySlot() {
  // The delivery's ordinal in the run; equal to its index when retained.
  const uint64_t ordinal = published_deliveries_++;
  bool reused = false;
  const uint32_t index =
      pool_.TakeDelivery(deliveries_.size(), ordinal, &reused);
  if (reused) {
    deliveries_[index] = Delivery{};
  } else {
    deliveries_.emplace_back();
  }
  return index;
}

uint32_t DeliveryEngine::RecordEvent(std::string event_type,
                                     std::string body) {
  EventRecord record{std::move(event_type), std::move(body), clock_.Now()};
  record.body_hash = Hash64(record.body);
  bool reused = false;
  const uint32_t index = pool_.TakeEvent(events_.size(), &reused);
  if (reused) {
    events_[index] = std::move(record);
  } else {
    events_.push_back(std::move(record));
  }
  return index;
}

Result<uint32_t> DeliveryEngine::RestoreDelivery(RestoredDelivery restored) {
  if (restored.hook >= hooks_.size() || restored.event >= events_.size()) {
    return Status::InvalidArgument("restored delivery " + restored.id +
                                   ": unknown hook or event index");
  }
  if (restored.attempts_made < 0 ||
      restored.attempts_made >= PolicyOf(restored.hook).max_attempts()) {
    return Status::InvalidArgument("restored delivery " + restored.id + ": " +
                                   std::to_string(restored.attempts_made) +
                                   " attempts made, no attempt left");
  }
  if (deliveries_.size() - pool_.free_deliveries() + 1 >
      options_.max_deliveries) {
    return Status::FailedPrecondition("delivery limit of " +
                                      std::to_string(options_.max_deliveries) +
                                      " reached");
  }
  const uint32_t index = NewDeliverySlot();
  pool_.OpenDelivery(restored.event);
  Delivery& d = deliveries_[index];
  d.id = DeliveryId::FromText(restored.id);
  d.hook = restored.hook;
  d.event = restored.event;
  d.attempts = restored.attempts_made;
  d.created = clock_.Now();
  ++open_;
  clock_.ScheduleAfter(std::max(restored.delay, Duration::zero()),
                       [this, index] { StartAttempt(index); });
  return index;
}

void DeliveryEngine::StartAttempt(uint32_t index) {
  Delivery& d = deliveries_[index];
  if (hook_disabled_[d.hook]) {
    StopGone(index, /*release=*/true);
    return;
  }
  if (!hooks_[d.hook].active) {
    Hold(index);
    return;
  }
  if (options_.max_in_flight > 0 && in_flight_ >= options_.max_in_flight) {
    ready_.push_back(index);  // Not an attempt yet: nothing recorded.
    return;
  }
  // The gate (a durable store) may park the delivery: it stops being open
  // here and is restored later.
  if (gate_ && !gate_(d, index)) {
    --open_;
    Release(index);
    return;
  }
  ++in_flight_;
  ++d.attempts;
  ++total_attempts_;
  d.state = DeliveryState::kInFlight;
  if (free_requests_.empty()) {
    d.request = static_cast<uint32_t>(requests_.size());
    requests_.emplace_back();
  } else {
    d.request = free_requests_.back();
    free_requests_.pop_back();
  }
  InFlightRequest& parts = requests_[d.request];
  parts.started = clock_.Now();
  FillRequest(d, parts);
  const EventRecord& event = events_[d.event];
  const HttpRequest request{
      kPost, hooks_[d.hook].url,
      std::span<const Header>(parts.headers.data(), parts.header_count),
      event.body,
      KnownBodyHash{event.body.data(), event.body.size(), event.body_hash}};
  // Two words of capture: fits std::function's inline buffer, no allocation.
  transport_.Send(
      request, PolicyOf(d.hook).timeout,
      [this, index](AttemptResult result) { OnAttemptDone(index, result); });
}

void DeliveryEngine::StartWaiting() {
  // Bounded by the waiting attempts; each start either takes a place in
  // flight or leaves the queue.
  while (!ready_.empty() && in_flight_ < options_.max_in_flight) {
    const uint32_t index = ready_.front();
    ready_.pop_front();
    StartAttempt(index);
  }
}

void DeliveryEngine::OnAttemptDone(uint32_t index, AttemptResult result) {
  --in_flight_;
  Delivery& d = deliveries_[index];
  const TimePoint now = clock_.Now();
  TimePoint started = now;
  if (d.request != Delivery::kNoRequest) {
    started = requests_[d.request].started;
    free_requests_.push_back(d.request);
    d.request = Delivery::kNoRequest;
  }
  bool handed_back = false;
  d.last = result;
  AttemptRecord record{index,
                       static_cast<uint16_t>(d.attempts),
                       started,
                       now,
                       result,
                       std::nullopt};
  const Contract& contract = ContractOf(d.hook);
  const RetryPolicy& policy = PolicyOf(d.hook);
  const bool answered = result.error == AttemptError::kNone;
  if (answered && contract.IsSuccessStatus(result.status)) {
    d.state = DeliveryState::kDelivered;
    d.ended = now;
    --open_;
  } else if (answered && contract.StopsOn(result.status)) {
    d.state = DeliveryState::kGaveUp;
    d.stopped_by_gone = true;
    d.ended = now;
    --open_;
    hook_disabled_[d.hook] = 1;
  } else if (d.attempts < policy.max_attempts()) {
    d.state = DeliveryState::kPending;
    const uint64_t ordinal = pool_.ordinal(index);
    Random jitter_rng =
        rng_.Fork((ordinal << 8) | static_cast<uint64_t>(d.attempts));
    const Duration delay = ContractDelay(
        contract, result, policy.DelayBefore(d.attempts, jitter_rng));
    record.next_at = now + delay;
    if (retry_hook_ && !retry_hook_(d, delay)) {
      handed_back = true;
      --open_;
    } else {
      clock_.ScheduleAfter(delay, [this, index] { StartAttempt(index); });
    }
  } else {
    d.state = DeliveryState::kGaveUp;
    d.ended = now;
    --open_;
  }
  if (observer_) observer_(record);
  if (options_.keep_attempt_log) attempts_.push_back(record);
  if (d.state == DeliveryState::kDelivered ||
      d.state == DeliveryState::kGaveUp) {
    if (ended_observer_) ended_observer_(d, events_[d.event]);
    Release(index);
  } else if (handed_back) {
    Release(index);
  }
  StartWaiting();
}

void DeliveryEngine::StopGone(uint32_t index, bool release) {
  Delivery& d = deliveries_[index];
  d.state = DeliveryState::kGaveUp;
  d.stopped_by_gone = true;
  d.ended = clock_.Now();
  --open_;
  if (ended_observer_) ended_observer_(d, events_[d.event]);
  if (release) Release(index);
}

void DeliveryEngine::Release(uint32_t index) {
  const uint32_t event = deliveries_[index].event;
  if (pool_.FreeDelivery(index, event)) ReleaseEvent(event);
}

std::optional<uint32_t> DeliveryEngine::FindPublished(
    std::string_view id) const {
  uint64_t number = 0;
  if (pool_.reuses() || !ParseDeliveryId(id, &number)) return std::nullopt;
  const uint64_t ordinal = OrdinalOf(options_.seed, options_.id_salt, number);
  if (ordinal >= deliveries_.size()) return std::nullopt;
  const Delivery& d = deliveries_[ordinal];
  if (!d.id.canonical() || d.id.number() != number) return std::nullopt;
  return static_cast<uint32_t>(ordinal);
}

void DeliveryEngine::ReleaseEvent(uint32_t event) {
  if (pool_.reuses()) {
    events_[event] = EventRecord{};  // Frees the body; the slot is reused.
  } else {
    std::string().swap(events_[event].body);  // kBodies: the record stays.
  }
}

}  // namespace hooksim
