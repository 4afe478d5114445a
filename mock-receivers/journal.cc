#include "mock-receivers/journal.h"

#include <algorithm>
#include <string_view>
#include <utility>

#include "sim/http_types.h"

namespace hooksim {
namespace {

// Attempts of a delivery under the contract: 1 + 5 re-attempts.
constexpr size_t kTypicalAttempts = 6;

// True when the media type of a Content-Type value is application/json
// (case-insensitive; parameters such as "; charset=utf-8" allowed).
bool IsJsonContentType(std::string_view value) {
  const size_t semicolon = value.find(';');
  std::string_view media = value.substr(0, semicolon);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) {
    media.remove_prefix(1);
  }
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) {
    media.remove_suffix(1);
  }
  return EqualsIgnoreCase(media, "application/json");
}

}  // namespace

Journal::Journal(JournalLimits limits) : limits_(limits) {}

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
  Count(entry);
  if (JournalEntry* slot = NextSlot()) {
    *slot = std::move(entry);
    slot->index = index;
  }
}

void Journal::RecordCopy(const JournalEntry& entry) {
  const uint64_t index = total_;
  Count(entry);
  if (JournalEntry* slot = NextSlot()) {
    *slot = entry;  // std::string copy-assignment reuses the slot's buffers.
    slot->index = index;
  }
}

void Journal::Count(const JournalEntry& entry) {
  ++total_;
  if (!entry.schema_valid) ++schema_failures_;
  // Answer keys are short ("200", "reset"): no heap allocation here.
  ++answers_[DescribeAnswer(entry.reply.answer)];

  auto it = deliveries_.find(entry.delivery_key);
  if (it == deliveries_.end()) {
    if (deliveries_.size() >= limits_.max_deliveries) {
      ++untracked_;
      return;
    }
    it = deliveries_.try_emplace(entry.delivery_key).first;
  }
  DeliveryCounters& c = it->second;
  ++c.attempts;
  if (c.attempts == 1) {
    // One allocation for a contract-abiding delivery (at most 6 attempts)
    // instead of one per doubling.
    c.answers.reserve(std::min<size_t>(kTypicalAttempts,
                                       DeliveryCounters::kMaxAnswers));
    c.first_at = entry.at;
    c.first_body_hash = entry.body_hash;
    c.first_body_size = entry.body_size;
  } else if (entry.body_hash != c.first_body_hash ||
             entry.body_size != c.first_body_size) {
    ++c.body_changes;
  }
  c.last_at = entry.at;
  if (entry.method != "POST") ++c.non_post;
  if (!IsJsonContentType(entry.content_type)) ++c.bad_content_type;
  if (!entry.schema_valid) {
    if (c.schema_invalid == 0) c.first_schema_issue = entry.schema_issue;
    ++c.schema_invalid;
  }
  if (c.success_attempt != 0) {
    ++c.attempts_after_success;
  } else if (entry.reply.answer.IsSuccess()) {
    c.success_attempt = c.attempts;
  }
  // The sender's attempt number against this receiver's own count.
  if (entry.sender_attempt != 0 && entry.sender_attempt != c.attempts) {
    ++c.attempt_header_mismatches;
  }
  if (c.answers.size() < DeliveryCounters::kMaxAnswers) {
    c.answers.push_back(entry.reply.answer);
  }
}

void Journal::MarkAbandoned(std::string_view delivery_key,
                            int delivery_attempt) {
  ++abandoned_;
  auto it = deliveries_.find(delivery_key);
  if (it == deliveries_.end()) return;
  DeliveryCounters& c = it->second;
  ++c.abandoned;
  if (c.success_attempt == delivery_attempt) c.success_attempt = 0;
}

int Journal::AttemptsSeen(const std::string& delivery_key) const {
  auto it = deliveries_.find(delivery_key);
  return it == deliveries_.end() ? 0 : it->second.attempts;
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
  deliveries_.clear();
  answers_.clear();
}

}  // namespace hooksim
