// What a mock receiver recorded: a bounded journal of recent requests and
// per-delivery counters.
//
// The journal is a ring buffer of the last `capacity` requests, holding at
// most `max_bytes` of recorded bytes (EntryBytes) at once: older entries are
// dropped to make room and counted in dropped(); the totals and per-delivery
// counters count every request, dropped or not. Per-delivery counters are kept for
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
#include <initializer_list>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mock-receivers/behavior.h"
#include "sim/base/flat_index.h"
#include "sim/base/time.h"
#include "sim/contract/http_types.h"

namespace hooksim {

// One header of a recorded request, as read from its entry: views into the
// entry's JournalHeaders, valid while the entry lives unchanged. The name
// is as sent.
using JournalHeader = Header;

// The headers of a recorded request, in the order received, copied (the
// request's views die with it) into one buffer: recording a request costs
// one copy of its header bytes, not a string per name and value, and
// handing an entry on moves two buffers. Reads like a vector of
// JournalHeader.
class JournalHeaders {
 public:
  JournalHeaders() = default;
  JournalHeaders(std::initializer_list<Header> headers) { *this = headers; }
  JournalHeaders& operator=(std::initializer_list<Header> headers) {
    Assign(std::span<const Header>(headers.begin(), headers.size()));
    return *this;
  }

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Header;
    using difference_type = std::ptrdiff_t;
    using reference = Header;
    using pointer = void;

    const_iterator() = default;
    Header operator*() const { return (*headers_)[i_]; }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++i_;
      return old;
    }
    bool operator==(const const_iterator& other) const {
      return i_ == other.i_;
    }

   private:
    friend class JournalHeaders;
    const_iterator(const JournalHeaders* headers, size_t i)
        : headers_(headers), i_(i) {}
    const JournalHeaders* headers_ = nullptr;
    size_t i_ = 0;
  };

  size_t size() const { return ends_.size() / 2; }
  bool empty() const { return ends_.empty(); }
  // Header i (< size()).
  Header operator[](size_t i) const {
    const uint32_t name_begin = i == 0 ? 0 : ends_[2 * i - 1];
    const uint32_t name_end = ends_[2 * i];
    return Header{
        std::string_view(bytes_.data() + name_begin, name_end - name_begin),
        std::string_view(bytes_.data() + name_end, ends_[2 * i + 1] - name_end)};
  }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, size()); }

  // Appends a copy of `header` (its views may die after the call).
  void push_back(Header header);
  // Replaces the headers by copies of `headers`, reusing the buffers.
  void Assign(std::span<const Header> headers);
  void clear() {
    bytes_.clear();
    ends_.clear();
  }
  // The bytes of the names and values together.
  size_t text_size() const { return bytes_.size(); }

  friend bool operator==(const JournalHeaders& a, const JournalHeaders& b) {
    return a.bytes_ == b.bytes_ && a.ends_ == b.ends_;
  }

 private:
  std::string bytes_;  // name 0, value 0, name 1, value 1, ...
  // The end offsets in bytes_ of name 0, value 0, name 1, value 1, ...
  std::vector<uint32_t> ends_;
};

// Why a request was answered before the behaviour saw it.
enum class Refusal {
  kNone,         // Not refused: the behaviour answered.
  kBadRequest,   // 400: unparsable or badly framed.
  kTimeout,      // 408: its head did not arrive in time.
  kTooLarge,     // 413: body over the receiver's limit (never read).
  kHeadTooLarge, // 431: head over the limit, or too many fields.
  kMethod,       // 405: a method the server does not route.
  kOther,        // Another refusal status.
};
// "none", "bad_request", "timeout", "too_large", "head_too_large",
// "method", "other".
std::string_view RefusalName(Refusal refusal);
std::optional<Refusal> ParseRefusal(std::string_view name);
// The refusal a status stands for (kOther for an unknown one).
Refusal RefusalForStatus(int status);

// Bytes of a body kept per entry unless JournalLimits::body_cap says.
inline constexpr size_t kDefaultJournalBodyCap = 64 << 10;
// Recorded bytes a journal holds unless JournalLimits::max_bytes says.
inline constexpr size_t kDefaultJournalMaxBytes = size_t{64} << 20;

struct JournalEntry {
  uint64_t index = 0;  // 0-based request index at this receiver.
  TimePoint at{};
  // The Unix time of arrival (wall clock for `hooksim receiver`); 0 unknown.
  Duration unix_time{0};
  // The connection it came on (1, 2, ... per server); 0 unknown (virtual).
  uint64_t connection = 0;
  // The route that answered: its name ("default" for a plain behaviour),
  // or "" when no route matched (answered 404; see unmatched_why).
  std::string route = "default";
  std::string method;
  std::string target;  // Path and query, as sent.
  // Every header, in the order received (none for a refusal whose head
  // could not be read).
  JournalHeaders headers;
  // The body's first JournalLimits::body_cap bytes; body_truncated when it
  // had more (body_size and body_hash are always the whole body's).
  std::string body;
  bool body_truncated = false;
  // Refused before the behaviour (then reply.answer.status is the status
  // sent, refusal_reason says why, and no delivery is counted).
  Refusal refusal = Refusal::kNone;
  std::string refusal_reason;
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
  // When no route matched: the closest route ("" when none) and why it
  // did not match ("route 'orders': path /x does not match /orders/*").
  std::string closest_route;
  std::string unmatched_why;
};

// A text most deliveries never have (a schema issue): 8 bytes when empty,
// where a std::string takes 32. Reads as a string_view.
class RareText {
 public:
  RareText() = default;
  RareText(const RareText& other) { *this = other.view(); }
  RareText& operator=(const RareText& other) { return *this = other.view(); }
  RareText(RareText&&) noexcept = default;
  RareText& operator=(RareText&&) noexcept = default;
  RareText& operator=(std::string_view text) {
    text_ = text.empty() ? nullptr : std::make_unique<std::string>(text);
    return *this;
  }

  bool empty() const { return text_ == nullptr; }
  std::string_view view() const {
    return text_ ? std::string_view(*text_) : std::string_view();
  }
  operator std::string_view() const { return view(); }
  std::string str() const { return std::string(view()); }
  friend bool operator==(const RareText& a, std::string_view b) {
    return a.view() == b;
  }
  friend std::ostream& operator<<(std::ostream& out, const RareText& t) {
    return out << t.view();
  }

 private:
  std::unique_ptr<std::string> text_;
};

// Everything the receiver knows about one delivery, independent of the
// sender's own log.
struct DeliveryCounters {
  int attempts = 0;
  int body_changes = 0;          // Attempts whose body differed from the 1st.
  int non_post = 0;              // Attempts with a method other than POST.
  int bad_content_type = 0;      // Attempts without application/json.
  int schema_invalid = 0;        // Attempts whose body failed C3/C4.
  int attempt_header_mismatches = 0;  // X-Hooksim-Attempt != own count.
  // Answers the sender stopped waiting for (its timeout fired first); a 2xx
  // abandoned this way does not count as success.
  int abandoned = 0;
  // Attempts (bit k-1 for attempt k, the first kMaxAnswers) answered a
  // plain 410 Gone status (no fault), the answer a contract may stop on.
  // Only this is kept of the answers given: a list of them per delivery
  // was a big run's largest per-delivery cost after the journal's index.
  uint16_t gone_mask = 0;
  TimePoint first_at{};
  TimePoint last_at{};
  // When the first 2xx was answered (even one later abandoned); meaningful
  // while success_mask != 0. For throughput from the receiving side.
  TimePoint first_2xx_at{};
  uint64_t first_body_hash = 0;
  size_t first_body_size = 0;
  RareText first_schema_issue;  // Empty while schema_invalid == 0.
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
  // 1-based first attempt answered a plain 410 (among the first
  // kMaxAnswers); 0 = none.
  int first_gone_attempt() const {
    return gone_mask == 0 ? 0 : std::countr_zero(gone_mask) + 1;
  }

  // Answers tracked per delivery (gone_mask).
  static constexpr size_t kMaxAnswers = 16;
};

struct JournalLimits {
  size_t capacity = 1024;
  size_t max_deliveries = 1'000'000;
  // Not a limit but a sizing hint: room for this many deliveries (capped at
  // max_deliveries) is reserved up front, so the table does not grow while
  // a run of known size is recorded. 0: grow as needed.
  size_t expected_deliveries = 0;
  // Bytes of each body kept in its entry (the rest is not copied).
  size_t body_cap = kDefaultJournalBodyCap;
  // Recorded bytes (EntryBytes) the kept entries may hold together; the
  // newest entry is always kept, however large.
  size_t max_bytes = kDefaultJournalMaxBytes;
};

// The bytes an entry counts against JournalLimits::max_bytes: its strings
// (method, target, headers, body, keys, issues) plus a fixed overhead.
size_t EntryBytes(const JournalEntry& entry);

// Where a delivery stands in a journal, from one table lookup (see
// Journal::Look).
struct DeliveryLookup {
  std::optional<uint32_t> index;  // Set when the delivery is tracked.
  int attempts_seen = 0;          // Requests recorded for it so far.
  // The key made ready for the table (its hash, its number for a delivery
  // id), so that recording a new delivery does not parse and hash its key
  // again. Views the key looked up.
  FlatIndex::Probe probe;
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
  // As RecordCopy, but hands `entry` itself to the ring: `entry` gets back
  // the entry the slot held (or a new one while the ring fills; with a
  // capacity of 0 it keeps its own), contents unspecified, so a caller
  // refilling one scratch entry per request reuses its buffers and copies
  // nothing twice. `entry` must not be null.
  void RecordSwap(std::unique_ptr<JournalEntry>& entry,
                  const DeliveryLookup& lookup);
  // Records a request refused before the behaviour (entry.refusal set):
  // counted in total_requests(), refused() and answers(), not per delivery.
  void RecordRefused(JournalEntry entry);
  // The kept entry with this index, or null (dropped, or not yet recorded).
  const JournalEntry* Find(uint64_t index) const;

  // Records that the sender stopped waiting for the answer to attempt
  // `delivery_attempt` of the delivery (its timeout fired first). If that
  // answer was the delivery's 2xx, the delivery counts as not yet received.
  // The attempt's entry, if still in the ring, is flagged `abandoned`
  // (searched newest first: the entry is almost always among the last few).
  // Returns the flagged entry's index (nullopt: no longer in the ring).
  std::optional<uint64_t> MarkAbandoned(std::string_view delivery_key,
                                        int delivery_attempt);

  // Count of requests seen for `delivery_key` so far (0 if none/untracked).
  int AttemptsSeen(std::string_view delivery_key) const;
  // The delivery's place and count so far (index unset and count 0 when it
  // is new or untracked), to pass on to RecordCopy.
  DeliveryLookup Look(std::string_view delivery_key) const;

  // Oldest first, at most capacity entries; `limit` keeps the newest ones.
  std::vector<JournalEntry> Recent(size_t limit = SIZE_MAX) const;
  // The index of the oldest entry still kept (== total_requests() when
  // none is).
  uint64_t first_index() const { return total_ - count_; }
  // Calls fn on the kept entries whose index is in [first, first + count),
  // oldest first, without copying them.
  template <typename Fn>
  void ForEach(uint64_t first, size_t count, Fn fn) const {
    const uint64_t from = std::max(first, first_index());
    const uint64_t to =
        first + std::min<uint64_t>(count, total_ - std::min(first, total_));
    for (uint64_t k = from; k < to; ++k) fn(std::as_const(*ring_[Slot(k)]));
  }
  // Entries kept now, and the bytes (EntryBytes) they hold.
  size_t kept() const { return count_; }
  size_t kept_bytes() const { return bytes_; }
  const JournalLimits& limits() const { return limits_; }

  // Per delivery key, in order of each delivery's first request (so
  // anything derived from iterating it is deterministic).
  const FlatTable<DeliveryCounters>& deliveries() const {
    return deliveries_;
  }
  uint64_t total_requests() const { return total_; }
  // Entries dropped to keep within capacity and max_bytes.
  uint64_t dropped() const { return dropped_; }
  // Requests refused before the behaviour (RecordRefused).
  uint64_t refused() const { return refused_; }
  uint64_t untracked_requests() const { return untracked_; }
  // Requests per answer ("200", "reset", ...), sorted by key.
  std::map<std::string, uint64_t> answers() const;
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
  // Counts one answer in answers().
  void CountAnswer(Fault fault, int status);
  // The slot the next entry goes to (appended, or the oldest one reused);
  // null with a capacity of 0. Call before total_ counts the entry.
  JournalEntry* NextSlot();
  // Counts the entry just put in `slot` against max_bytes, dropping the
  // oldest entries (never this one) until the kept ones fit.
  void AccountBytes(JournalEntry& slot);
  // Drops the oldest kept entry, releasing its body's memory.
  void DropOldest();
  // The ring position of the newest kept entry (count_ > 0).
  size_t NewestSlot() const { return (head_ + count_ - 1) % limits_.capacity; }
  // The ring position of kept index k.
  size_t Slot(uint64_t k) const {
    return static_cast<size_t>((head_ + (k - first_index())) %
                               limits_.capacity);
  }

  JournalLimits limits_;
  // Slots, created as needed up to capacity; entry index k is at Slot(k).
  // Each entry on its own, so that RecordSwap exchanges one pointer.
  std::vector<std::unique_ptr<JournalEntry>> ring_;
  std::vector<size_t> slot_bytes_;  // EntryBytes of each kept slot.
  size_t head_ = 0;   // Slot of the oldest kept entry.
  size_t count_ = 0;  // Entries kept.
  size_t bytes_ = 0;  // Their EntryBytes.
  uint64_t refused_ = 0;
  uint64_t total_ = 0;
  uint64_t dropped_ = 0;
  uint64_t untracked_ = 0;
  uint64_t schema_failures_ = 0;
  uint64_t abandoned_ = 0;
  uint64_t signatures_checked_ = 0;
  uint64_t signature_failures_ = 0;
  FlatTable<DeliveryCounters> deliveries_;
  // answers(), counted without building its keys: plain statuses in
  // [0, kStatusSlots) by status, faults by Fault, any other answer by key.
  static constexpr int kStatusSlots = 600;
  static constexpr size_t kFaultSlots = 8;
  std::array<uint64_t, kStatusSlots> status_answers_{};
  std::array<uint64_t, kFaultSlots> fault_answers_{};
  std::map<std::string, uint64_t> other_answers_;
};

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_JOURNAL_H_
