// What a mock receiver recorded: a bounded journal of recent requests and
// per-delivery counters.
//
// The journal is a ring buffer of the last `capacity` requests (older ones
// are dropped and counted in dropped()). Per-delivery counters are kept for
// up to `max_deliveries` distinct deliveries; requests of further deliveries
// are counted in untracked_requests() only. Both bounds are fixed at
// construction, so memory stays flat however long a receiver runs.
//
// A delivery is identified by the X-Hooksim-Delivery header when present,
// otherwise by the hash of the body ("body:<hex>"), so senders that send no
// id are still grouped per event.
// Thread: not thread-safe; MockReceiver serialises access.
#ifndef HOOKSIM_MOCK_RECEIVERS_JOURNAL_H_
#define HOOKSIM_MOCK_RECEIVERS_JOURNAL_H_

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mock-receivers/behavior.h"
#include "sim/base/flat_index.h"
#include "sim/base/time.h"

namespace hooksim {

struct JournalEntry {
  uint64_t index = 0;  // 0-based request index at this receiver.
  TimePoint at{};
  std::string method;
  std::string target;
  std::string content_type;   // "" when the header was missing.
  std::string delivery_key;   // Id header value, or "body:<hex hash>".
  bool has_delivery_id = false;
  std::string event_type;     // X-Hooksim-Event value, "" when missing.
  int sender_attempt = 0;     // X-Hooksim-Attempt value, 0 when missing/bad.
  int delivery_attempt = 0;   // 1-based count at this receiver.
  uint64_t body_hash = 0;
  size_t body_size = 0;
  bool schema_valid = true;
  std::string schema_issue;   // First issue when !schema_valid.
  Reply reply;
  // The sender stopped waiting for this answer (set by MarkAbandoned).
  bool abandoned = false;
  // The signature check's verdict (kNotChecked when none was checked).
  SignatureVerdict signature = SignatureVerdict::kNotChecked;
  // The Retry-After header sent with the answer, verbatim ("" none), and
  // whether it was a number of seconds or an HTTP date (a sender treats
  // any other value as absent). Also in reply.answer.extras, which the
  // entry shares with the behaviour that gave it.
  std::string retry_after;
  bool retry_after_readable = false;
};

// The first answers given to one delivery; answers beyond kCapacity are not
// kept. Held on the heap, only as many as were given (most deliveries get
// one or two answers: a fixed inline array of kCapacity was most of a big
// run's memory per delivery).
class AnswerList {
 public:
  static constexpr size_t kCapacity = 16;

  // Appends `answer` unless the list is full; returns whether it was kept.
  bool push_back(const Answer& answer) {
    if (items_.size() == kCapacity) return false;
    if (items_.capacity() == items_.size()) {
      items_.reserve(items_.empty() ? 1 : std::min(kCapacity, 2 * items_.size()));
    }
    items_.push_back(answer);
    return true;
  }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const Answer& operator[](size_t i) const { return items_[i]; }
  const Answer* begin() const { return items_.data(); }
  const Answer* end() const { return items_.data() + items_.size(); }
  std::vector<Answer> ToVector() const { return items_; }

 private:
  std::vector<Answer> items_;
};

// Everything the receiver knows about one delivery, independent of the
// sender's own log.
struct DeliveryCounters {
  int attempts = 0;
  TimePoint first_at{};
  TimePoint last_at{};
  // When the first 2xx was answered (even one later abandoned); meaningful
  // while success_mask != 0. For throughput from the receiving side.
  TimePoint first_2xx_at{};
  uint64_t first_body_hash = 0;
  size_t first_body_size = 0;
  int body_changes = 0;          // Attempts whose body differed from the 1st.
  int non_post = 0;              // Attempts with a method other than POST.
  int bad_content_type = 0;      // Attempts without application/json.
  int schema_invalid = 0;        // Attempts whose body failed C3/C4.
  std::string first_schema_issue;
  // Attempts (bit k-1 for attempt k, the first 64) answered 2xx, and those
  // the sender stopped waiting for. Abandonment can be learnt late (over
  // HTTP only once the latency has passed, when later attempts may already
  // have arrived), so the success is derived, not counted as requests come.
  uint64_t success_mask = 0;
  uint64_t abandoned_mask = 0;

  // 1-based first attempt answered 2xx and not abandoned; 0 = none.
  int success_attempt() const {
    const uint64_t seen = success_mask & ~abandoned_mask;
    return seen == 0 ? 0 : std::countr_zero(seen) + 1;
  }
  // Requests of this delivery that arrived after that success.
  int attempts_after_success() const {
    const int s = success_attempt();
    return s == 0 ? 0 : attempts - s;
  }
  int attempt_header_mismatches = 0;  // X-Hooksim-Attempt != own count.
  // Answers the sender stopped waiting for (its timeout fired first); a 2xx
  // abandoned this way does not count as success.
  int abandoned = 0;
  AnswerList answers;            // Answers given, the first kMaxAnswers.

  static constexpr size_t kMaxAnswers = AnswerList::kCapacity;
};

struct JournalLimits {
  size_t capacity = 1024;
  size_t max_deliveries = 1'000'000;
  // Not a limit but a sizing hint: room for this many deliveries (capped at
  // max_deliveries) is reserved up front, so the table does not grow while
  // a run of known size is recorded. 0: grow as needed.
  size_t expected_deliveries = 0;
};

// Where a delivery stands in a journal, from one table lookup (see
// Journal::Look).
struct DeliveryLookup {
  std::optional<uint32_t> index;  // Set when the delivery is tracked.
  int attempts_seen = 0;          // Requests recorded for it so far.
};

class Journal {
 public:
  explicit Journal(JournalLimits limits = {});

  // Records one request and its reply; updates the delivery's counters.
  // The journal numbers entries itself: entry.index becomes total_requests()
  // as it was before this call.
  void Record(JournalEntry entry);
  // As Record, but copies `entry` into a reused ring slot (its strings keep
  // their buffers), so a caller that refills one scratch entry per request
  // records without allocating once the ring is warm. The hot path.
  void RecordCopy(const JournalEntry& entry);
  // As RecordCopy, reusing `lookup` = Look(entry.delivery_key) taken since
  // the last change to the journal, so the request costs one table lookup.
  // (A lookup that does not match the entry's key is redone.)
  void RecordCopy(const JournalEntry& entry, const DeliveryLookup& lookup);

  // Records that the sender stopped waiting for the answer to attempt
  // `delivery_attempt` of the delivery (its timeout fired first). If that
  // answer was the delivery's 2xx, the delivery counts as not yet received.
  // The attempt's entry, if still in the ring, is flagged `abandoned`
  // (searched newest first: the entry is almost always among the last few).
  void MarkAbandoned(std::string_view delivery_key, int delivery_attempt);

  // Count of requests seen for `delivery_key` so far (0 if none/untracked).
  int AttemptsSeen(std::string_view delivery_key) const;
  // The delivery's place and count so far (index unset and count 0 when it
  // is new or untracked), to pass on to RecordCopy.
  DeliveryLookup Look(std::string_view delivery_key) const;

  // Oldest first, at most capacity entries; `limit` keeps the newest ones.
  std::vector<JournalEntry> Recent(size_t limit = SIZE_MAX) const;
  // The index of the oldest entry still kept (== total_requests() when
  // none is).
  uint64_t first_index() const { return total_ - ring_.size(); }
  // Calls fn on the kept entries whose index is in [first, first + count),
  // oldest first, without copying them.
  template <typename Fn>
  void ForEach(uint64_t first, size_t count, Fn fn) const {
    const uint64_t from = std::max(first, first_index());
    const uint64_t to = first + std::min<uint64_t>(count, total_ - std::min(first, total_));
    const size_t size = ring_.size();
    const size_t oldest = size < limits_.capacity ? 0 : next_;
    for (uint64_t k = from; k < to; ++k) {
      fn(ring_[(oldest + static_cast<size_t>(k - first_index())) % size]);
    }
  }

  // Per delivery key, in order of each delivery's first request (so
  // anything derived from iterating it is deterministic).
  const FlatTable<DeliveryCounters>& deliveries() const {
    return deliveries_;
  }
  uint64_t total_requests() const { return total_; }
  uint64_t dropped() const { return dropped_; }
  uint64_t untracked_requests() const { return untracked_; }
  // Requests per answer ("200", "reset", ...), sorted by key.
  const std::map<std::string, uint64_t>& answers() const { return answers_; }
  uint64_t schema_failures() const { return schema_failures_; }
  uint64_t abandoned() const { return abandoned_; }
  // Requests whose signature was checked, and those that failed the check.
  uint64_t signatures_checked() const { return signatures_checked_; }
  uint64_t signature_failures() const { return signature_failures_; }

  void Reset();

 private:
  // Updates totals and the delivery's counters for `entry`; `lookup` is
  // Look(entry.delivery_key).
  void Count(const JournalEntry& entry, const DeliveryLookup& lookup);
  // The slot the next entry goes to (appended, or the oldest one reused).
  JournalEntry* NextSlot();

  JournalLimits limits_;
  std::vector<JournalEntry> ring_;
  size_t next_ = 0;  // Ring slot for the next entry.
  uint64_t total_ = 0;
  uint64_t dropped_ = 0;
  uint64_t untracked_ = 0;
  uint64_t schema_failures_ = 0;
  uint64_t abandoned_ = 0;
  uint64_t signatures_checked_ = 0;
  uint64_t signature_failures_ = 0;
  FlatTable<DeliveryCounters> deliveries_;
  std::map<std::string, uint64_t> answers_;
};

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_JOURNAL_H_
