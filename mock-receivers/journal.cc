#include "mock-receivers/journal.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "sim/contract/contract.h"
#include "sim/contract/http_types.h"

namespace hooksim {
namespace {

// Bytes of a typical delivery key ("dlv_" + 16 hex digits), to size the
// key arena when deliveries are expected.
constexpr size_t kTypicalKeyBytes = 20;

}  // namespace

Journal::Journal(JournalLimits limits)
    : limits_(limits), deliveries_(limits.max_deliveries) {
  deliveries_.Reserve(limits_.expected_deliveries, kTypicalKeyBytes);
}

JournalEntry* Journal::NextSlot() {
  if (limits_.capacity == 0) {
    ++dropped_;
    return nullptr;
  }
  JournalEntry* slot;
  if (ring_.size() < limits_.capacity) {
    slot = &ring_.emplace_back();
  } else {
    slot = &ring_[next_];
    ++dropped_;
  }
  next_ = next_ + 1 == limits_.capacity ? 0 : next_ + 1;
  return slot;
}

void Journal::Record(JournalEntry entry) {
  const uint64_t index = total_;
  Count(entry, Look(entry.delivery_key));
  if (JournalEntry* slot = NextSlot()) {
    *slot = std::move(entry);
    slot->index = index;
  }
}

void Journal::RecordCopy(const JournalEntry& entry) {
  RecordCopy(entry, Look(entry.delivery_key));
}

void Journal::RecordCopy(const JournalEntry& entry,
                         const DeliveryLookup& lookup) {
  const uint64_t index = total_;
  // A stale or foreign lookup must not credit another delivery.
  const bool matches =
      !lookup.index || (*lookup.index < deliveries_.size() &&
                        deliveries_.key(*lookup.index) == entry.delivery_key);
  Count(entry, matches ? lookup : Look(entry.delivery_key));
  if (JournalEntry* slot = NextSlot()) {
    *slot = entry;  // std::string copy-assignment reuses the slot's buffers.
    slot->index = index;
  }
}

DeliveryLookup Journal::Look(std::string_view delivery_key) const {
  DeliveryLookup lookup;
  lookup.index = deliveries_.IndexOf(delivery_key);
  if (lookup.index) {
    lookup.attempts_seen = deliveries_.value(*lookup.index).attempts;
  }
  return lookup;
}

void Journal::Count(const JournalEntry& entry, const DeliveryLookup& lookup) {
  ++total_;
  if (!entry.schema_valid) ++schema_failures_;
  if (entry.signature != SignatureVerdict::kNotChecked) {
    ++signatures_checked_;
    if (entry.signature != SignatureVerdict::kValid) ++signature_failures_;
  }
  // Answer keys are short ("200", "reset"): no heap allocation here.
  ++answers_[DescribeAnswer(entry.reply.answer)];

  DeliveryCounters* counters =
      lookup.index
          ? &deliveries_.value(*lookup.index)
          : deliveries_.FindOrInsert(entry.delivery_key,
                                     FlatIndex::HashKey(entry.delivery_key));
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
  c.answers.push_back(entry.reply.answer);  // Kept while there is room.
}

void Journal::MarkAbandoned(std::string_view delivery_key,
                            int delivery_attempt) {
  ++abandoned_;
  // Newest first, bounded by the ring's size.
  const size_t size = ring_.size();
  for (size_t back = 1; back <= size; ++back) {
    JournalEntry& e = ring_[(next_ + size - back) % size];
    if (e.delivery_attempt == delivery_attempt && !e.abandoned &&
        e.delivery_key == delivery_key) {
      e.abandoned = true;
      break;
    }
  }
  DeliveryCounters* counters =
      deliveries_.Find(delivery_key, FlatIndex::HashKey(delivery_key));
  if (counters == nullptr) return;
  DeliveryCounters& c = *counters;
  ++c.abandoned;
  if (delivery_attempt >= 1 && delivery_attempt <= 64) {
    c.abandoned_mask |= uint64_t{1} << (delivery_attempt - 1);
  }
}

int Journal::AttemptsSeen(std::string_view delivery_key) const {
  return Look(delivery_key).attempts_seen;
}

std::vector<JournalEntry> Journal::Recent(size_t limit) const {
  const size_t size = ring_.size();
  const size_t n = std::min(limit, size);
  // Until the ring is full the oldest entry is at 0, then at next_.
  const size_t oldest = size < limits_.capacity ? 0 : next_;
  std::vector<JournalEntry> out;
  out.reserve(n);
  for (size_t i = size - n; i < size; ++i) {
    out.push_back(ring_[(oldest + i) % size]);
  }
  return out;
}

void Journal::Reset() {
  ring_.clear();
  next_ = 0;
  total_ = 0;
  dropped_ = 0;
  untracked_ = 0;
  schema_failures_ = 0;
  abandoned_ = 0;
  signatures_checked_ = 0;
  signature_failures_ = 0;
  deliveries_.Clear();
  answers_.clear();
}

}  // namespace hooksim
