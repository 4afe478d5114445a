#include "mock-receivers/receiver.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

#include "mock-receivers/journal_json.h"
#include "mock-receivers/short_bytes.h"

namespace hooksim {
namespace {

constexpr std::string_view kBodyKeyPrefix = "body:";

// Writes "body:" + 16 lowercase hex digits of `hash` into `out`, reusing
// its buffer.
void AssignBodyKey(uint64_t hash, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.assign(kBodyKeyPrefix);
  out.resize(kBodyKeyPrefix.size() + 16);
  for (int i = 15; i >= 0; --i) {
    out[kBodyKeyPrefix.size() + i] = kHex[hash & 0xf];
    hash >>= 4;
  }
}

// The headers Handle reads, found in one pass over the request's headers
// (the first of each name wins, as with HttpRequest::FindHeader).
struct KnownHeaders {
  std::optional<std::string_view> delivery_id;
  std::optional<std::string_view> content_type;
  std::optional<std::string_view> event_type;
  std::optional<std::string_view> attempt;
};

constexpr std::string_view kContentTypeHeader = "Content-Type";
static_assert(kContentTypeHeader.size() != kDeliveryIdHeader.size() &&
                  kContentTypeHeader.size() != kEventTypeHeader.size() &&
                  kContentTypeHeader.size() != kAttemptHeader.size() &&
                  kDeliveryIdHeader.size() != kEventTypeHeader.size() &&
                  kDeliveryIdHeader.size() != kAttemptHeader.size() &&
                  kEventTypeHeader.size() != kAttemptHeader.size(),
              "KnownHeaderOf tells the names apart by their lengths first");

// Which of KnownHeaders' fields a header name is (null: none of them).
std::optional<std::string_view>* KnownHeaderOf(std::string_view name,
                                               KnownHeaders& known) {
  std::string_view want;
  std::optional<std::string_view>* field = nullptr;
  switch (name.size()) {
    case kDeliveryIdHeader.size():
      want = kDeliveryIdHeader;
      field = &known.delivery_id;
      break;
    case kContentTypeHeader.size():
      want = kContentTypeHeader;
      field = &known.content_type;
      break;
    case kEventTypeHeader.size():
      want = kEventTypeHeader;
      field = &known.event_type;
      break;
    case kAttemptHeader.size():
      want = kAttemptHeader;
      field = &known.attempt;
      break;
    default:
      return nullptr;
  }
  // EqualsIgnoreCase settles names sent as spelt here a word at a time.
  return EqualsIgnoreCase(name, want) ? field : nullptr;
}

// The headers of `request` Handle reads (views into the request).
KnownHeaders FindKnownHeaders(const HttpRequest& request) {
  KnownHeaders known;
  for (const Header& h : request.headers) {
    std::optional<std::string_view>* field = KnownHeaderOf(h.name, known);
    if (field != nullptr && !field->has_value()) *field = h.value;
  }
  return known;
}

// A positive decimal attempt number, else 0 (missing or malformed).
int ParseAttemptHeader(std::optional<std::string_view> value) {
  if (!value) return 0;
  std::string_view text = *value;
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  int attempt = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, attempt);
  if (ec != std::errc() || ptr != end || attempt < 0) return 0;
  return attempt;
}

// The answer to a request no route matched: 404 with a JSON body saying
// which route came closest and why it did not match.
Answer UnmatchedAnswer(const HttpRequest& request,
                       const std::vector<ReceiverRoute>& routes,
                       const RouteChoice& choice) {
  AnswerExtras extras;
  extras.body_kind = AnswerBodyKind::kJson;
  nlohmann::json body = {
      {"error", "no route matches " + std::string(request.method) + " " +
                    std::string(request.target.substr(
                        0, std::min<size_t>(request.target.size(), 256)))}};
  body["closest"] = choice.closest >= 0
                        ? nlohmann::json(routes[choice.closest].name)
                        : nlohmann::json(nullptr);
  body["why"] = choice.why;
  extras.body = body.dump(-1, ' ', false,
                          nlohmann::json::error_handler_t::replace);
  return Answer{404, Fault::kNone,
                std::make_shared<const AnswerExtras>(std::move(extras))};
}

}  // namespace

MockReceiver::MockReceiver(ReceiverOptions options, BehaviorSpec behavior,
                           Random rng)
    : options_(std::move(options)),
      behavior_(std::move(behavior)),
      rng_(rng),
      journal_(options_.journal) {
  RebuildRoutes();
}

void MockReceiver::RebuildRoutes() {
  const std::vector<ReceiverRoute>& routes = behavior_.spec().routes;
  route_behaviors_.clear();
  route_behaviors_.reserve(routes.size());
  for (const ReceiverRoute& route : routes) {
    route_behaviors_.emplace_back(route.behavior);
  }
  for (auto it = route_state_.begin(); it != route_state_.end();) {
    bool kept = false;
    for (const ReceiverRoute& route : routes) kept |= route.name == it->first;
    it = kept ? std::next(it) : route_state_.erase(it);
  }
}

Reply MockReceiver::Handle(const HttpRequest& request, TimePoint now,
                           int* delivery_attempt, std::string* delivery_key,
                           HandleFacts* facts, uint64_t connection) {
  // Hashing and validation need no receiver state: done before the lock so
  // concurrent HTTP handlers do not queue behind a slow schema check.
  // options_ is never written after construction.
  const uint64_t body_hash = BodyHash(request);

  // This thread's scratch entry: what the request itself says is copied
  // into it before the lock (its buffers are reused request after request:
  // the ring takes it and hands back the entry of the slot it fills), so
  // the lock covers only the decision and the counting.
  thread_local std::unique_ptr<JournalEntry> scratch =
      std::make_unique<JournalEntry>();
  JournalEntry& e = *scratch;
  // Every header, copied, and the ones read below.
  e.headers.Assign(request.headers);
  const KnownHeaders known = FindKnownHeaders(request);
  // An empty id header would lump unrelated deliveries together: fall back
  // to the body hash for it as for a missing one.
  if (known.delivery_id && !known.delivery_id->empty()) {
    e.delivery_key.assign(*known.delivery_id);
    e.has_delivery_id = true;
  } else {
    AssignBodyKey(body_hash, e.delivery_key);
    e.has_delivery_id = false;
  }
  e.connection = connection;
  e.refusal = Refusal::kNone;
  e.refusal_reason.clear();
  e.abandoned = false;
  SetText(e.method, request.method);
  SetText(e.target, request.target);
  // Only the first body_cap bytes are copied, whatever the body's size.
  const size_t kept = std::min(request.body.size(), options_.journal.body_cap);
  e.body.assign(request.body.data(), kept);
  e.body_truncated = kept < request.body.size();
  SetText(e.content_type, known.content_type.value_or(std::string_view()));
  SetText(e.event_type, known.event_type.value_or(std::string_view()));
  e.body_hash = body_hash;
  e.body_size = request.body.size();
  e.schema_valid =
      options_.validator == nullptr ||
      options_.validator->Check(request.body, body_hash, &e.schema_issue);
  if (e.schema_valid) e.schema_issue.clear();

  std::unique_lock<std::mutex> lock(mu_);

  DecisionContext context;
  // One table lookup per request: its result goes on to RecordCopy.
  // Untracked deliveries (journal full) report 0 seen, so attempt 1.
  const DeliveryLookup lookup = journal_.Look(e.delivery_key);
  context.delivery_attempt = lookup.attempts_seen + 1;
  const int sender_attempt = ParseAttemptHeader(known.attempt);
  if (!lookup.index && sender_attempt > 0 &&
      journal_.deliveries().size() >= options_.journal.max_deliveries) {
    // Untracked (the table is full): the sender's attempt number is the
    // best count there is; without it every attempt would look like the
    // first, and a seeded 500 would repeat on every retry.
    context.delivery_attempt = sender_attempt;
  }
  context.request_index = journal_.total_requests();
  context.unix_origin = options_.unix_origin;
  if (options_.signature_clock) {
    context.signature_unix_now = options_.signature_clock();
  }
  Reply reply;
  const std::vector<ReceiverRoute>& routes = behavior_.spec().routes;
  // The draws' seed: Hash64 of the key's bytes (not the table's hash,
  // which for a delivery id is of its number), as the golden outputs were
  // drawn (ReceiverTest.ForkSeedIsHash64OfTheDeliveryKey).
  const uint64_t key_hash = Hash64(e.delivery_key);
  if (routes.empty()) {
    Random draws = rng_.Fork(key_hash ^
                             static_cast<uint64_t>(context.delivery_attempt));
    reply = behavior_.Decide(request, context, now, draws);
    SetText(e.route, "default");
    e.closest_route.clear();
    e.unmatched_why.clear();
  } else {
    reply = DecideRoute(request, now, sender_attempt, key_hash, lookup.probe,
                        context, e);
  }
  if (delivery_attempt) *delivery_attempt = context.delivery_attempt;
  if (delivery_key) delivery_key->assign(e.delivery_key);

  e.index = context.request_index;
  e.at = now;
  e.unix_time = context.signature_unix_now.value_or(options_.unix_origin +
                                                    now.time_since_epoch());
  e.sender_attempt = sender_attempt;
  e.delivery_attempt = context.delivery_attempt;
  e.reply = reply;
  const std::string_view retry_after = reply.answer.RetryAfter();
  SetText(e.retry_after, retry_after);
  e.retry_after_readable =
      !retry_after.empty() &&
      ParseRetryAfter(retry_after,
                      std::chrono::duration_cast<std::chrono::seconds>(
                          options_.unix_origin + now.time_since_epoch())
                          .count()) != kBadRetryAfter;
  e.signature = reply.signature;
  const uint64_t dropped_before = journal_.dropped();
  const bool schema_valid = e.schema_valid;
  if (facts) {
    // Before the swap below hands e's fields to the ring.
    facts->routed = !routes.empty();
    facts->route.assign(e.route);
  }
  journal_.RecordSwap(scratch, lookup);
  if (facts) {
    facts->schema_valid = schema_valid;
    facts->journal_dropped = journal_.dropped() != dropped_before;
  }
  if (options_.journal_file) {
    // Rendered under the lock (the entry may leave the ring once it is
    // released), written after it.
    thread_local std::string line;
    const JournalEntry* recorded = journal_.Find(context.request_index);
    line = recorded ? JournalEntryLine(*recorded, options_.name) : "";
    lock.unlock();
    if (!line.empty()) AppendToFile(line);
  }
  return reply;
}

Reply MockReceiver::DecideRoute(const HttpRequest& request, TimePoint now,
                                int sender_attempt, uint64_t key_hash,
                                const FlatIndex::Probe& probe,
                                const DecisionContext& receiver_context,
                                JournalEntry& e) {
  const std::vector<ReceiverRoute>& routes = behavior_.spec().routes;
  const RouteChoice choice = ChooseRoute(routes, request);
  if (choice.index < 0) {
    e.route.clear();
    e.closest_route =
        choice.closest >= 0 ? routes[choice.closest].name : std::string();
    e.unmatched_why = choice.why;
    Reply reply;
    reply.answer = UnmatchedAnswer(request, routes, choice);
    return reply;
  }
  const ReceiverRoute& route = routes[choice.index];
  e.route.assign(route.name);
  e.closest_route.clear();
  e.unmatched_why.clear();
  auto state = route_state_.find(route.name);
  if (state == route_state_.end()) {
    state = route_state_
                .emplace(route.name, RouteState(options_.journal.max_deliveries))
                .first;
  }
  DecisionContext context = receiver_context;
  int* seen = state->second.attempts.FindOrInsert(probe);
  if (seen != nullptr) {
    context.delivery_attempt = ++*seen;
  } else {
    // Untracked (the table is full): as for the journal's count.
    context.delivery_attempt = sender_attempt > 0 ? sender_attempt : 1;
  }
  context.request_index = state->second.requests++;
  Random draws = rng_.Fork(key_hash ^ Hash64(route.name) ^
                           static_cast<uint64_t>(context.delivery_attempt));
  return route_behaviors_[choice.index].Decide(request, context, now, draws);
}

void MockReceiver::RecordRefused(JournalEntry entry, TimePoint now) {
  entry.at = now;
  if (entry.unix_time.count() == 0) {
    entry.unix_time = options_.signature_clock
                          ? options_.signature_clock()
                          : options_.unix_origin + now.time_since_epoch();
  }
  if (entry.body.size() > options_.journal.body_cap) {
    entry.body.resize(options_.journal.body_cap);
    entry.body_truncated = true;
  }
  std::string line;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t index = journal_.total_requests();
    journal_.RecordRefused(std::move(entry));
    if (options_.journal_file) {
      if (const JournalEntry* recorded = journal_.Find(index)) {
        line = JournalEntryLine(*recorded, options_.name);
      }
    }
  }
  if (!line.empty()) AppendToFile(line);
}

void MockReceiver::AppendToFile(const std::string& line) const {
  if (options_.journal_file) options_.journal_file->Append(line);
}

// {"receiver": NAME, "amend": INDEX, "abandoned": true}.
static std::string AbandonedLine(const std::string& receiver,
                                 uint64_t index) {
  return "{\"receiver\":" +
         nlohmann::json(receiver).dump(
             -1, ' ', false, nlohmann::json::error_handler_t::replace) +
         ",\"amend\":" + std::to_string(index) + ",\"abandoned\":true}";
}

void MockReceiver::MarkAbandoned(const HttpRequest& request,
                                 int delivery_attempt) {
  std::string key;
  std::optional<std::string_view> id = request.FindHeader(kDeliveryIdHeader);
  if (id && !id->empty()) {
    key.assign(*id);
  } else {
    AssignBodyKey(BodyHash(request), key);
  }
  MarkAbandonedKey(key, delivery_attempt);
}

void MockReceiver::MarkAbandonedKey(std::string_view delivery_key,
                                    int delivery_attempt) {
  std::optional<uint64_t> index;
  {
    std::lock_guard<std::mutex> lock(mu_);
    index = journal_.MarkAbandoned(delivery_key, delivery_attempt);
  }
  if (index && options_.journal_file) {
    AppendToFile(AbandonedLine(options_.name, *index));
  }
}

void MockReceiver::SetBehavior(BehaviorSpec behavior) {
  ReceiverBehavior replacement(std::move(behavior));
  std::lock_guard<std::mutex> lock(mu_);
  behavior_ = std::move(replacement);
  RebuildRoutes();
}

void MockReceiver::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  journal_.Reset();
  route_state_.clear();
}

void MockReceiver::WithJournal(
    const std::function<void(const Journal&)>& fn) const {
  std::lock_guard<std::mutex> lock(mu_);
  fn(journal_);
}

BehaviorSpec MockReceiver::behavior_spec() const {
  std::lock_guard<std::mutex> lock(mu_);
  return behavior_.spec();
}

}  // namespace hooksim
