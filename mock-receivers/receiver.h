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
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "mock-receivers/behavior.h"
#include "mock-receivers/journal.h"
#include "mock-receivers/routes.h"
#include "sim/base/flat_index.h"
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
  // The behaviour has routes; route is the one that answered ("" when none
  // matched). Without routes: false and "default".
  bool routed = false;
  std::string route;
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
  // With routes (BehaviorSpec::routes) the request goes to the first route
  // it matches (ChooseRoute, under the receiver's lock), whose behaviour
  // decides with per-route state: its sequences count the requests of this
  // delivery on that route (per delivery) or all requests on that route
  // (per receiver), and its draws are forked by the route's name too. A
  // request no route matches gets 404 with a JSON body naming the closest
  // route and why it did not match, and is journalled with route "" and
  // that reason. Without routes the one behaviour decides (route
  // "default").
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

  // Replaces the behaviour (counters and journal are kept; so are the
  // per-route counters of routes whose names the new behaviour keeps).
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
  // One behaviour per route of behaviour_'s spec (same order).
  std::vector<ReceiverBehavior> route_behaviors_;
  // Per route name: requests seen on it per delivery (bounded like the
  // journal's delivery table) and in all.
  struct RouteState {
    explicit RouteState(size_t max_deliveries) : attempts(max_deliveries) {}
    FlatTable<int> attempts;
    uint64_t requests = 0;
  };
  std::map<std::string, RouteState, std::less<>> route_state_;
  // Handle's decision for a behaviour with routes (mu_ held): fills the
  // entry's route fields; `receiver_context` is the context a plain
  // behaviour would get; key_hash is Hash64(e.delivery_key) (the draws'
  // seed), probe the route tables' probe for it (same hasher as the
  // journal's).
  Reply DecideRoute(const HttpRequest& request, TimePoint now,
                    int sender_attempt, uint64_t key_hash,
                    const FlatIndex::Probe& probe,
                    const DecisionContext& receiver_context, JournalEntry& e);
  // Builds route_behaviors_ for behaviour_'s routes and drops the state of
  // routes it no longer has (mu_ held, or construction).
  void RebuildRoutes();
  // Writes `line` to the journal file, if any (outside the lock).
  void AppendToFile(const std::string& line) const;
};

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_RECEIVER_H_
