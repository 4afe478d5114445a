#include "mock-receivers/journal.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <utility>

#include "mock-receivers/short_bytes.h"
#include "sim/contract/contract.h"
#include "sim/contract/http_types.h"

namespace hooksim {
namespace {

// A stale or foreign lookup must not credit another delivery.
bool LookupMatches(const FlatTable<DeliveryCounters>& deliveries,
                   const DeliveryLookup& lookup, std::string_view key) {
  return !lookup.index || (*lookup.index < deliveries.size() &&
                           deliveries.key(*lookup.index) == key);
}

// Whether `lookup` was taken for these very key bytes (then its probe is
// the key's).
bool LookupProbedKey(const DeliveryLookup& lookup, std::string_view key) {
  return lookup.probe.key.data() == key.data() &&
         lookup.probe.key.size() == key.size() && key.data() != nullptr;
}

}  // namespace

void JournalHeaders::push_back(Header header) {
  bytes_.append(header.name);
  ends_.push_back(static_cast<uint32_t>(bytes_.size()));
  bytes_.append(header.value);
  ends_.push_back(static_cast<uint32_t>(bytes_.size()));
}

void JournalHeaders::Assign(std::span<const Header> headers) {
  size_t total = 0;
  for (const Header& h : headers) total += h.name.size() + h.value.size();
  // One size change and a copy per name and value, into reused buffers.
  bytes_.resize(total);
  ends_.resize(2 * headers.size());
  char* out = bytes_.data();
  uint32_t at = 0;
  uint32_t* ends = ends_.data();
  for (const Header& h : headers) {
    CopyBytes(out + at, h.name.data(), h.name.size());
    at += static_cast<uint32_t>(h.name.size());
    *ends++ = at;
    CopyBytes(out + at, h.value.data(), h.value.size());
    at += static_cast<uint32_t>(h.value.size());
    *ends++ = at;
  }
}

Journal::Journal(JournalLimits limits)
    : limits_(limits), deliveries_(limits.max_deliveries) {
  // Delivery ids ("dlv_" + 16 hex digits) take no key bytes (flat_index.h).
  deliveries_.Reserve(limits_.expected_deliveries);
}

JournalEntry* Journal::NextSlot() {
  if (limits_.capacity == 0) {
    ++dropped_;
    return nullptr;
  }
  if (count_ == limits_.capacity) DropOldest();
  const size_t tail = (head_ + count_) % limits_.capacity;
  if (tail == ring_.size()) {
    ring_.push_back(std::make_unique<JournalEntry>());
    slot_bytes_.push_back(0);
  }
  ++count_;
  return ring_[tail].get();
}

void Journal::DropOldest() {
  JournalEntry& oldest = *ring_[head_];
  bytes_ -= slot_bytes_[head_];
  slot_bytes_[head_] = 0;
  // Dropped for want of bytes, its buffers must go too; a body's is the
  // one that can be large.
  if (oldest.body.capacity() > 4096) std::string().swap(oldest.body);
  head_ = (head_ + 1) % limits_.capacity;
  --count_;
  ++dropped_;
}

void Journal::AccountBytes(JournalEntry& slot) {
  // The slot just filled is the newest kept one.
  const size_t pos = NewestSlot();
  const size_t bytes = EntryBytes(slot);
  slot_bytes_[pos] = bytes;
  bytes_ += bytes;
  // Bounded by count_: the newest entry itself is never dropped.
  while (bytes_ > limits_.max_bytes && count_ > 1) DropOldest();
}

void Journal::Record(JournalEntry entry) {
  const uint64_t index = total_;
  Count(entry, Look(entry.delivery_key));
  if (JournalEntry* slot = NextSlot()) {
    *slot = std::move(entry);
    slot->index = index;
    AccountBytes(*slot);
  }
}

void Journal::RecordRefused(JournalEntry entry) {
  const uint64_t index = total_;
  ++total_;
  ++refused_;
  CountAnswer(Fault::kNone, entry.reply.answer.status);
  if (JournalEntry* slot = NextSlot()) {
    *slot = std::move(entry);
    slot->index = index;
    AccountBytes(*slot);
  }
}

void Journal::RecordCopy(const JournalEntry& entry) {
  RecordCopy(entry, Look(entry.delivery_key));
}

void Journal::RecordCopy(const JournalEntry& entry,
                         const DeliveryLookup& lookup) {
  const uint64_t index = total_;
  Count(entry, LookupMatches(deliveries_, lookup, entry.delivery_key)
                   ? lookup
                   : Look(entry.delivery_key));
  if (JournalEntry* slot = NextSlot()) {
    *slot = entry;  // std::string copy-assignment reuses the slot's buffers.
    slot->index = index;
    AccountBytes(*slot);
  }
}

void Journal::RecordSwap(std::unique_ptr<JournalEntry>& entry,
                         const DeliveryLookup& lookup) {
  const uint64_t index = total_;
  Count(*entry, LookupMatches(deliveries_, lookup, entry->delivery_key)
                    ? lookup
                    : Look(entry->delivery_key));
  if (NextSlot() != nullptr) {
    const size_t pos = NewestSlot();  // The slot NextSlot made room in.
    ring_[pos].swap(entry);
    ring_[pos]->index = index;
    AccountBytes(*ring_[pos]);
  }
}

const JournalEntry* Journal::Find(uint64_t index) const {
  if (index < first_index() || index >= total_) return nullptr;
  return ring_[Slot(index)].get();
}

size_t EntryBytes(const JournalEntry& e) {
  constexpr size_t kOverhead = 256;  // The fixed fields, roughly.
  size_t n = kOverhead + e.method.size() + e.target.size() + e.body.size() +
             e.delivery_key.size() + e.content_type.size() +
             e.event_type.size() + e.schema_issue.size() + e.route.size() +
             e.refusal_reason.size() + e.retry_after.size() +
             e.headers.text_size() + 4 * e.headers.size();
  return n;
}

namespace {
constexpr std::pair<Refusal, std::string_view> kRefusalNames[] = {
    {Refusal::kNone, "none"},           {Refusal::kBadRequest, "bad_request"},
    {Refusal::kTimeout, "timeout"},     {Refusal::kTooLarge, "too_large"},
    {Refusal::kHeadTooLarge, "head_too_large"},
    {Refusal::kMethod, "method"},       {Refusal::kOther, "other"},
};
}  // namespace

std::string_view RefusalName(Refusal refusal) {
  for (const auto& [r, name] : kRefusalNames) {
    if (r == refusal) return name;
  }
  return "other";
}

std::optional<Refusal> ParseRefusal(std::string_view name) {
  for (const auto& [r, n] : kRefusalNames) {
    if (n == name) return r;
  }
  return std::nullopt;
}

Refusal RefusalForStatus(int status) {
  switch (status) {
    case 400: return Refusal::kBadRequest;
    case 405: return Refusal::kMethod;
    case 408: return Refusal::kTimeout;
    case 413: return Refusal::kTooLarge;
    case 431: return Refusal::kHeadTooLarge;
    default: return Refusal::kOther;
  }
}

DeliveryLookup Journal::Look(std::string_view delivery_key) const {
  DeliveryLookup lookup;
  lookup.probe = deliveries_.Prepare(delivery_key);
  lookup.index = deliveries_.IndexOf(lookup.probe);
  if (lookup.index) {
    lookup.attempts_seen = deliveries_.value(*lookup.index).attempts;
  }
  return lookup;
}

void Journal::CountAnswer(Fault fault, int status) {
  if (fault == Fault::kNone && status >= 0 && status < kStatusSlots) {
    ++status_answers_[static_cast<size_t>(status)];
  } else if (fault != Fault::kNone &&
             static_cast<size_t>(fault) < kFaultSlots) {
    ++fault_answers_[static_cast<size_t>(fault)];
  } else {
    ++other_answers_[DescribeAnswer(Answer{status, fault})];
  }
}

std::map<std::string, uint64_t> Journal::answers() const {
  std::map<std::string, uint64_t> out = other_answers_;
  for (int status = 0; status < kStatusSlots; ++status) {
    if (const uint64_t n = status_answers_[static_cast<size_t>(status)]) {
      out[std::to_string(status)] += n;
    }
  }
  for (size_t f = 0; f < kFaultSlots; ++f) {
    if (const uint64_t n = fault_answers_[f]) {
      out[std::string(FaultName(static_cast<Fault>(f)))] += n;
    }
  }
  return out;
}

void Journal::Count(const JournalEntry& entry, const DeliveryLookup& lookup) {
  ++total_;
  if (!entry.schema_valid) ++schema_failures_;
  if (entry.signature != SignatureVerdict::kNotChecked) {
    ++signatures_checked_;
    if (entry.signature != SignatureVerdict::kValid) ++signature_failures_;
  }
  CountAnswer(entry.reply.answer.fault, entry.reply.answer.status);

  DeliveryCounters* counters;
  if (lookup.index) {
    counters = &deliveries_.value(*lookup.index);
  } else if (LookupProbedKey(lookup, entry.delivery_key)) {
    counters = deliveries_.FindOrInsert(lookup.probe);  // Parsed once.
  } else {
    counters =
        deliveries_.FindOrInsert(deliveries_.Prepare(entry.delivery_key));
  }
  if (counters == nullptr) {  // New, and max_deliveries are tracked.
    ++untracked_;
    return;
  }
  DeliveryCounters& c = *counters;
  ++c.attempts;
  if (c.attempts == 1) {
    c.first_at = entry.at;
    c.first_body_hash = entry.body_hash;
    c.first_body_size = entry.body_size;
  } else if (entry.body_hash != c.first_body_hash ||
             entry.body_size != c.first_body_size) {
    ++c.body_changes;
  }
  c.last_at = entry.at;
  if (!DivshotContract().MethodOk(entry.method)) ++c.non_post;
  if (!DivshotContract().ContentTypeOk(entry.content_type)) {
    ++c.bad_content_type;
  }
  if (!entry.schema_valid) {
    if (c.schema_invalid == 0) c.first_schema_issue = entry.schema_issue;
    ++c.schema_invalid;
  }
  if (entry.reply.answer.IsSuccess() && c.attempts <= 64) {
    if (c.success_mask == 0) c.first_2xx_at = entry.at;
    c.success_mask |= uint64_t{1} << (c.attempts - 1);
  }
  // The sender's attempt number against this receiver's own count.
  if (entry.sender_attempt != 0 && entry.sender_attempt != c.attempts) {
    ++c.attempt_header_mismatches;
  }
  const Answer& answer = entry.reply.answer;
  if (answer.fault == Fault::kNone && answer.status == 410 &&
      c.attempts <= static_cast<int>(DeliveryCounters::kMaxAnswers)) {
    c.gone_mask |= static_cast<uint16_t>(1u << (c.attempts - 1));
  }
}

std::optional<uint64_t> Journal::MarkAbandoned(std::string_view delivery_key,
                                               int delivery_attempt) {
  ++abandoned_;
  std::optional<uint64_t> marked;
  // Newest first, bounded by the entries kept.
  for (uint64_t k = total_; k > first_index(); --k) {
    JournalEntry& e = *ring_[Slot(k - 1)];
    if (e.delivery_attempt == delivery_attempt && !e.abandoned &&
        e.refusal == Refusal::kNone && e.delivery_key == delivery_key) {
      e.abandoned = true;
      marked = k - 1;
      break;
    }
  }
  DeliveryCounters* counters =
      deliveries_.Find(delivery_key, FlatIndex::HashKey(delivery_key));
  if (counters == nullptr) return marked;
  DeliveryCounters& c = *counters;
  ++c.abandoned;
  if (delivery_attempt >= 1 && delivery_attempt <= 64) {
    c.abandoned_mask |= uint64_t{1} << (delivery_attempt - 1);
  }
  return marked;
}

int Journal::AttemptsSeen(std::string_view delivery_key) const {
  return Look(delivery_key).attempts_seen;
}

std::vector<JournalEntry> Journal::Recent(size_t limit) const {
  const size_t n = std::min(limit, count_);
  std::vector<JournalEntry> out;
  out.reserve(n);
  ForEach(total_ - n, n, [&](const JournalEntry& e) { out.push_back(e); });
  return out;
}

void Journal::Reset() {
  ring_.clear();
  slot_bytes_.clear();
  head_ = 0;
  count_ = 0;
  bytes_ = 0;
  refused_ = 0;
  total_ = 0;
  dropped_ = 0;
  untracked_ = 0;
  schema_failures_ = 0;
  abandoned_ = 0;
  signatures_checked_ = 0;
  signature_failures_ = 0;
  deliveries_.Clear();
  status_answers_.fill(0);
  fault_answers_.fill(0);
  other_answers_.clear();
}

}  // namespace hooksim
