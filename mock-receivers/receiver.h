// A mock receiver: a behaviour, the receiver's own random stream, a payload
// check and a journal, behind one call that both worlds use.
//
// Handle() identifies the delivery (id header, else body hash), counts the
// attempt, asks the behaviour for a reply, validates the body (C3/C4, via a
// shared cache) and journals everything. The virtual network calls it
// directly; the HTTP server (later) calls it from its handler threads.
// Thread: Handle, the accessors and SetBehavior are serialised by an
// internal mutex.
#ifndef HOOKSIM_MOCK_RECEIVERS_RECEIVER_H_
#define HOOKSIM_MOCK_RECEIVERS_RECEIVER_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "mock-receivers/behavior.h"
#include "mock-receivers/journal.h"
#include "mock-receivers/journal_file.h"
#include "sim/base/random.h"
#include "sim/contract/contract.h"
#include "sim/contract/http_types.h"
#include "sim/contract/payload_validator.h"

namespace hooksim {

struct ReceiverOptions {
  std::string name;
  JournalLimits journal;
  // Null: bodies are not schema-checked (every entry schema_valid).
  std::shared_ptr<CachedPayloadValidator> validator;
  // The Unix time of the receiver's time zero (see DecisionContext).
  Duration unix_origin = std::chrono::seconds(kDefaultStartUnixSeconds);
  // The Unix time signature timestamps are judged against; null: the run
  // timeline (unix_origin + now), right when the sender signs on the same
  // timeline. `hooksim receiver` sets the wall clock (UnixTimeNow), since
  // real senders sign with theirs whatever --time-scale compresses.
  std::function<Duration()> signature_clock;
  // `hooksim receiver --contract`: the profile /__hooksim/stats judges the
  // deliveries it saw by; unset: no judgement in the stats.
  std::optional<Contract> contract;
  // `hooksim receiver --journal-file`: every entry is also appended here as
  // it is recorded (and an amendment line when it is later abandoned).
  // Null: none.
  std::shared_ptr<JournalFile> journal_file;
};

// What Handle learnt about one request besides its reply (for counters
// that must not depend on the journal's ring or its resets).
struct HandleFacts {
  bool schema_valid = true;
  // Recording the request dropped the journal's oldest entry (or, with a
  // capacity of 0, the request's own).
  bool journal_dropped = false;
};

class MockReceiver {
 public:
  MockReceiver(ReceiverOptions options, BehaviorSpec behavior, Random rng);

  // Decides and records the reply to one request arriving at `now`. When
  // delivery_attempt is non-null it receives the request's 1-based attempt
  // number for its delivery at this receiver (for MarkAbandoned).
  //
  // Randomness for the decision comes from a generator forked from the
  // receiver's by (delivery key, attempt), so a weighted answer does not
  // depend on the order in which deliveries arrive: the virtual and the
  // real world draw the same answers.
  // A delivery the journal cannot track (past JournalLimits::max_deliveries)
  // takes its attempt number from the X-Hooksim-Attempt header when that is
  // a positive integer, and is attempt 1 otherwise.
  // `delivery_key`, when given, receives the delivery's key (for
  // MarkAbandonedKey); `facts`, when given, the request's HandleFacts.
  // `connection` names the connection the request came on (0: unknown).
  Reply Handle(const HttpRequest& request, TimePoint now,
               int* delivery_attempt = nullptr,
               std::string* delivery_key = nullptr,
               HandleFacts* facts = nullptr, uint64_t connection = 0);

  // Records a request refused before the behaviour (entry.refusal, the
  // status in entry.reply.answer, what is known of the request); the
  // journal numbers and times it (at `now`).
  void RecordRefused(JournalEntry entry, TimePoint now);

  // The sender gave up waiting for the answer to `request` (attempt
  // `delivery_attempt` of its delivery): see Journal::MarkAbandoned.
  void MarkAbandoned(const HttpRequest& request, int delivery_attempt);
  // The same, by the delivery key Handle gave.
  void MarkAbandonedKey(std::string_view delivery_key, int delivery_attempt);

  // Replaces the behaviour (counters and journal are kept).
  void SetBehavior(BehaviorSpec behavior);
  // Clears the journal and counters (the behaviour and rng are kept).
  void Reset();

  // Runs fn with the journal while holding the lock.
  void WithJournal(const std::function<void(const Journal&)>& fn) const;

  const std::string& name() const { return options_.name; }
  const std::optional<Contract>& contract() const { return options_.contract; }
  BehaviorSpec behavior_spec() const;

 private:
  ReceiverOptions options_;
  mutable std::mutex mu_;
  ReceiverBehavior behavior_;
  Random rng_;
  Journal journal_;
  // Writes `line` to the journal file, if any (outside the lock).
  void AppendToFile(const std::string& line) const;
};

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_RECEIVER_H_
