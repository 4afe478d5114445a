#include "sim/judge/verifier.h"

#include <algorithm>
#include <array>
#include <deque>
#include <map>
#include <optional>

#include "sim/base/check.h"
#include "sim/base/random.h"
#include "sim/contract/webhook_signature.h"
#include "sim/engine/attempt_log_summary.h"
#include "sim/judge/attempt_oracle.h"
#include "sim/judge/contract_judge.h"

namespace hooksim {
namespace {

// The rule results of one run, indexed by Rule, in report order.
class RuleBook {
 public:
  RuleBook() {
    for (size_t i = 0; i < kRuleCount; ++i) {
      rules_[i].rule = static_cast<Rule>(i);
    }
  }

  RuleResult& operator[](Rule rule) {
    return rules_[static_cast<size_t>(rule)];
  }
  void Checked(Rule rule, uint64_t n = 1) { (*this)[rule].checked += n; }
  void Fail(Rule rule, Finding finding) {
    RuleResult& r = (*this)[rule];
    ++r.failed;
    size_t same_side = 0;
    for (const Finding& f : r.examples) same_side += f.side == finding.side;
    if (same_side < RuleResult::kMaxExamplesPerSide) {
      r.examples.push_back(std::move(finding));
    }
  }
  // `n` more failures whose findings are not kept (beyond the examples).
  void FailMore(Rule rule, uint64_t n) { (*this)[rule].failed += n; }
  std::vector<RuleResult> Take() {
    return std::vector<RuleResult>(rules_.begin(), rules_.end());
  }

 private:
  std::array<RuleResult, kRuleCount> rules_;
};

std::string Plural(uint64_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// "6" and "5 re-attempts" for the divshot contract.
std::string AtMost(const Contract& contract) {
  return std::to_string(contract.max_attempts());
}
std::string Reattempts(const Contract& contract) {
  return Plural(contract.max_reattempts, "re-attempt");
}

std::string DeliverySubject(const DeliveryEngine& engine, const Delivery& d) {
  return "delivery " + d.id.str() + " (hook " + engine.hooks()[d.hook].id +
         ", event " + std::to_string(d.event + 1) + ")";
}

std::string OutcomeName(OutcomeExpectation o) {
  switch (o) {
    case OutcomeExpectation::kDelivered:
      return "delivered";
    case OutcomeExpectation::kGaveUp:
      return "gave_up";
    case OutcomeExpectation::kAny:
      break;
  }
  return "any";
}

bool OutcomeMatches(OutcomeExpectation want, DeliveryState state) {
  switch (want) {
    case OutcomeExpectation::kDelivered:
      return state == DeliveryState::kDelivered;
    case OutcomeExpectation::kGaveUp:
      return state == DeliveryState::kGaveUp;
    case OutcomeExpectation::kAny:
      break;
  }
  return true;
}

// Counts of attempts that broke C1 (method), C2 (content type) or C7 (body)
// for one delivery, as seen from one side.
struct ShapeCounts {
  int non_post = 0;
  int bad_content_type = 0;
  int body_changes = 0;
};

void CheckRequestShape(RuleBook& book, const std::string& side,
                       const std::string& subject, const ShapeCounts& n) {
  if (n.non_post > 0) {
    book.Fail(Rule::kC1Method,
              Finding{side, subject, "POST on every attempt",
                      Plural(n.non_post, "attempt") + " with another method"});
  }
  if (n.bad_content_type > 0) {
    book.Fail(Rule::kC2ContentType,
              Finding{side, subject, "Content-Type: application/json",
                      Plural(n.bad_content_type, "attempt") + " without it"});
  }
  if (n.body_changes > 0) {
    book.Fail(
        Rule::kC7SameBodyAndId,
        Finding{side, subject, "a byte-identical body on every attempt",
                Plural(n.body_changes, "attempt") + " with a different body"});
  }
}

// When each hook was paused, from the engine's record of the pauses it
// applied (checked against the scenario's timeline in CheckPauses).
struct PauseWindow {
  TimePoint from;
  std::optional<TimePoint> to;  // Unset: still paused when the run ended.
};

std::vector<std::vector<PauseWindow>> PauseWindows(
    const DeliveryEngine& engine) {
  std::vector<std::vector<PauseWindow>> windows(engine.hooks().size());
  for (const HookStateChange& c : engine.hook_changes()) {
    if (c.hook >= windows.size()) continue;
    std::vector<PauseWindow>& w = windows[c.hook];
    if (!c.active) {
      w.push_back(PauseWindow{c.at, std::nullopt});
    } else if (!w.empty() && !w.back().to) {
      w.back().to = c.at;
    }
  }
  return windows;
}

// The window `t` falls strictly inside (an attempt at the very instant of a
// pause or resume may have run just before or after it), or null.
const PauseWindow* PausedAt(const std::vector<PauseWindow>& windows,
                            TimePoint t) {
  for (const PauseWindow& w : windows) {
    if (t > w.from && (!w.to || t < *w.to)) return &w;
  }
  return nullptr;
}

std::string DescribeWindow(const PauseWindow& w) {
  return "paused " + FormatRunTime(w.from) + " to " +
         (w.to ? FormatRunTime(*w.to) : std::string("the end"));
}

// The engine applied the scenario's pauses and resumes, in order, no earlier
// than stated (a real clock runs timers late, never early).
void CheckPauses(const RunRecord& run, RuleBook& book) {
  const Scenario& scenario = *run.scenario;
  const DeliveryEngine& engine = *run.engine;
  std::vector<HookStateChange> want;
  for (size_t h = 0; h < scenario.hooks.size(); ++h) {
    if (scenario.hooks[h].paused) {
      want.push_back(
          HookStateChange{static_cast<uint32_t>(h), TimePoint{}, false});
    }
  }
  for (const TimelineStep& step : scenario.timeline) {
    want.push_back(HookStateChange{static_cast<uint32_t>(step.hook_index),
                                   TimePoint{} + step.at, !step.pause});
  }
  const auto& got = engine.hook_changes();
  book.Checked(Rule::kC8PausedAndNoneLost);
  bool same = got.size() == want.size();
  for (size_t i = 0; same && i < got.size(); ++i) {
    same = got[i].hook == want[i].hook && got[i].active == want[i].active &&
           got[i].at >= want[i].at;
  }
  if (!same) {
    book.Fail(
        Rule::kC8PausedAndNoneLost,
        Finding{
            "sender", "the run",
            Plural(want.size(), "pause or resume") + " as the scenario states",
            Plural(got.size(), "pause or resume") + " applied, not as stated"});
  }
}

// --- Sender side ------------------------------------------------------------

void CheckSenderPayloads(const RunRecord& run, RuleBook& book,
                         uint64_t& invalid_payloads) {
  const DeliveryEngine& engine = *run.engine;
  const auto& events = engine.events();
  if (run.payloads != nullptr) {
    // Checked at publication (the bodies may be gone): the same checks and
    // findings, in the same order, as below.
    const PublishedPayloads& p = *run.payloads;
    auto invalid = p.invalid.begin();
    for (size_t e = 0; e < p.release.size(); ++e) {
      book.Checked(Rule::kC3Envelope);
      if (p.release[e]) book.Checked(Rule::kC4ReleaseSchema);
      if (invalid == p.invalid.end() || invalid->event != e) continue;
      ++invalid_payloads;
      const PayloadIssue& issue = invalid->first;
      book.Fail(issue.rule, Finding{"sender", "event " + std::to_string(e + 1),
                                    "a valid payload",
                                    (issue.pointer.empty() ? "/" : issue.pointer) +
                                        ": " + issue.message});
      ++invalid;
    }
    return;
  }
  for (size_t e = 0; e < events.size(); ++e) {
    const PayloadVerdict verdict = run.validator->Validate(events[e].body);
    book.Checked(Rule::kC3Envelope);
    if (verdict.event == "release") book.Checked(Rule::kC4ReleaseSchema);
    if (verdict.valid()) continue;
    ++invalid_payloads;
    for (const PayloadIssue& issue : verdict.issues) {
      const Rule rule = issue.rule;
      book.Fail(rule, Finding{"sender", "event " + std::to_string(e + 1),
                              "a valid payload",
                              (issue.pointer.empty() ? "/" : issue.pointer) +
                                  ": " + issue.message});
      break;  // One finding per payload; the first issue says enough.
    }
  }
}

void CheckSenderLog(const RunRecord& run, const AttemptLogSummary& log,
                    RuleBook& book) {
  const DeliveryEngine& engine = *run.engine;
  const auto& deliveries = engine.deliveries();
  // The log replayed per delivery and per hook (attempt_log_summary.h):
  // first the attempts to a hook after its 410 Gone, in log order, then
  // those after their delivery's 2xx.
  static_assert(AttemptLogSummary::kExamples >= RuleResult::kMaxExamplesPerSide);
  for (const AttemptRecord& a : log.after_gone().first) {
    const uint32_t hook = deliveries[a.delivery].hook;
    const Contract& contract = engine.ContractOf(hook);  // The hook's own.
    book.Fail(
        Rule::kC6RetriedUntilSuccess,
        Finding{"sender", DeliverySubject(engine, deliveries[a.delivery]),
                "nothing to hook " + engine.hooks()[hook].id +
                    " after its 410 Gone at " +
                    FormatRunTime(*log.hook_gone(hook)) + " (contract " +
                    contract.profile + ")",
                "attempt " + std::to_string(a.attempt) + " started at " +
                    FormatRunTime(a.started)});
  }
  book.FailMore(Rule::kC6RetriedUntilSuccess,
                log.after_gone().count - log.after_gone().first.size());
  for (const AttemptRecord& a : log.after_success().first) {
    book.Fail(
        Rule::kC5NothingAfterSuccess,
        Finding{"sender", DeliverySubject(engine, deliveries[a.delivery]),
                "no attempt after the 2xx of attempt " +
                    std::to_string(log.replay(a.delivery).success_at),
                "attempt " + std::to_string(a.attempt) + " was made"});
  }
  book.FailMore(Rule::kC5NothingAfterSuccess,
                log.after_success().count - log.after_success().first.size());

  const size_t hooks = engine.hooks().size();
  book.Checked(Rule::kC8PausedAndNoneLost);
  if (deliveries.size() != engine.events().size() * hooks) {
    book.Fail(Rule::kC8PausedAndNoneLost,
              Finding{"sender", "the run",
                      Plural(engine.events().size() * hooks, "delivery") +
                          " (events x hooks)",
                      Plural(deliveries.size(), "delivery")});
  }
  // No attempt started while its hook was paused (every record of a hook
  // that was ever paused is kept).
  const std::vector<std::vector<PauseWindow>> windows = PauseWindows(engine);
  for (uint32_t h = 0; h < windows.size(); ++h) {
    HOOKSIM_CHECK(windows[h].empty() || log.keeps(h),
                  "hook %u was paused but its attempts were not kept", h);
  }
  for (const AttemptRecord& a : log.kept()) {
    const Delivery& d = deliveries[a.delivery];
    if (windows[d.hook].empty()) continue;
    book.Checked(Rule::kC8PausedAndNoneLost);
    if (const PauseWindow* w = PausedAt(windows[d.hook], a.started)) {
      book.Fail(Rule::kC8PausedAndNoneLost,
                Finding{"sender", DeliverySubject(engine, d),
                        "no attempt while hook " + engine.hooks()[d.hook].id +
                            " is " + DescribeWindow(*w),
                        "attempt " + std::to_string(a.attempt) +
                            " started at " + FormatRunTime(a.started)});
    }
  }
  uint64_t held_at_end = 0;
  uint64_t resumed = 0;

  for (size_t i = 0; i < deliveries.size(); ++i) {
    const Delivery& d = deliveries[i];
    const AttemptLogSummary::Replay r = log.replay(i);
    const Contract& contract = engine.ContractOf(d.hook);
    const std::string subject = DeliverySubject(engine, d);
    book.Checked(Rule::kC5NothingAfterSuccess);
    book.Checked(Rule::kC6RetriedUntilSuccess);
    book.Checked(Rule::kC8PausedAndNoneLost);
    if (d.state == DeliveryState::kHeld && !engine.hooks()[d.hook].active) {
      ++held_at_end;  // Not lost: it goes out when the hook is resumed.
      continue;
    }
    if (d.holds > 0) ++resumed;
    if (d.state != DeliveryState::kDelivered &&
        d.state != DeliveryState::kGaveUp) {
      book.Fail(Rule::kC8PausedAndNoneLost,
                Finding{"sender", subject, "delivered or gave_up",
                        std::string(DeliveryStateName(d.state)) +
                            " when the run ended"});
      continue;
    }
    if (r.broken_order || r.seen != d.attempts) {
      book.Fail(Rule::kC6RetriedUntilSuccess,
                Finding{"sender", subject,
                        "attempts numbered 1.." + std::to_string(d.attempts) +
                            " in order",
                        "the log has a gap or repeats"});
    }
    const AttemptJudgement judged = JudgeAttempts(
        AttemptCount{d.attempts, r.success_at, r.gone_at}, contract);
    // Stopped because its endpoint answered 410 Gone (this delivery or
    // another one to the same hook, before this one ended).
    const bool gone_stop =
        r.gone_at > 0 ||
        (log.hook_gone(d.hook) && *log.hook_gone(d.hook) <= d.ended);
    if (judged.after_gone > 0) {
      book.Fail(Rule::kC6RetriedUntilSuccess,
                Finding{"sender", subject,
                        "no attempt after the 410 Gone of attempt " +
                            std::to_string(r.gone_at) + " (contract " +
                            contract.profile + ")",
                        Plural(judged.after_gone, "more attempt")});
    }
    if (judged.over_max) {
      book.Fail(Rule::kC6RetriedUntilSuccess,
                Finding{"sender", subject,
                        "at most " + AtMost(contract) + " attempts (" +
                            Reattempts(contract) + ")",
                        Plural(d.attempts, "attempt")});
    } else if (d.state == DeliveryState::kGaveUp && !gone_stop &&
               d.attempts != contract.max_attempts()) {
      book.Fail(Rule::kC6RetriedUntilSuccess,
                Finding{"sender", subject,
                        AtMost(contract) + " attempts before giving up (" +
                            Reattempts(contract) + ")",
                        Plural(d.attempts, "attempt") +
                            ": the sender stopped after " +
                            DescribeAttemptResult(d.last)});
    }
    if (d.state == DeliveryState::kDelivered && !d.last.IsSuccess()) {
      book.Fail(Rule::kC6RetriedUntilSuccess,
                Finding{"sender", subject, "delivered only after a 2xx",
                        "last answer was " + DescribeAttemptResult(d.last)});
    }
  }
  if (resumed > 0) {
    book[Rule::kC8PausedAndNoneLost].notes.push_back(
        std::to_string(resumed) + " held by a pause, then resumed and ended");
  }
  if (held_at_end > 0) {
    book[Rule::kC8PausedAndNoneLost].notes.push_back(
        std::to_string(held_at_end) +
        " still held at the end (hook paused): not lost, they would go out "
        "on a resume");
  }
}

void CheckSenderWire(const RunRecord& run, RuleBook& book) {
  const DeliveryEngine& engine = *run.engine;
  const auto& wire = run.wire->deliveries();
  if (run.wire->missing_id() > 0) {
    book.Fail(
        Rule::kC7SameBodyAndId,
        Finding{"sender", "the run", "a delivery id header on every attempt",
                Plural(run.wire->missing_id(), "request") + " without one"});
  }
  for (const Delivery& d : engine.deliveries()) {
    if (d.attempts == 0) continue;
    const std::string subject = DeliverySubject(engine, d);
    book.Checked(Rule::kC1Method);
    book.Checked(Rule::kC2ContentType);
    book.Checked(Rule::kC7SameBodyAndId);
    char id_text[kDeliveryIdSize];
    const WireCounters* found = wire.find(d.id.View(id_text));
    if (found == nullptr) {
      if (run.wire->untracked() == 0) {
        book.Fail(
            Rule::kC7SameBodyAndId,
            Finding{"sender", subject, "its id on the wire on every attempt",
                    "no request carried its id"});
      }
      continue;
    }
    const WireCounters& w = *found;
    CheckRequestShape(book, "sender", subject,
                      {w.non_post, w.bad_content_type, w.body_changes});
    if (w.requests != d.attempts) {
      book.Fail(Rule::kC7SameBodyAndId, Finding{"sender", subject,
                                                Plural(d.attempts, "request") +
                                                    " with its id on the wire",
                                                Plural(w.requests, "request")});
    }
  }
}

// Delivery indices by id, for the receivers' keys. A published delivery is
// found from its id alone (DeliveryEngine::FindPublished: no table, where
// a map of id strings took about 100 bytes a delivery); any other (a
// restored delivery) in a sorted table of id hashes. With ids repeated,
// the first delivery that has it.
class DeliveriesById {
 public:
  explicit DeliveriesById(const DeliveryEngine& engine)
      : engine_(engine), deliveries_(engine.deliveries()) {
    for (uint32_t i = 0; i < deliveries_.size(); ++i) {
      char id_text[kDeliveryIdSize];
      const std::string_view id = deliveries_[i].id.View(id_text);
      if (engine.FindPublished(id) == i) continue;
      table_.emplace_back(Hash64(id), i);
    }
    std::sort(table_.begin(), table_.end());
  }

  std::optional<uint32_t> Find(std::string_view id) const {
    if (std::optional<uint32_t> i = engine_.FindPublished(id)) return i;
    if (table_.empty()) return std::nullopt;
    const uint64_t hash = Hash64(id);
    for (auto it = std::lower_bound(table_.begin(), table_.end(),
                                    std::pair<uint64_t, uint32_t>{hash, 0});
         it != table_.end() && it->first == hash; ++it) {
      if (deliveries_[it->second].id == id) return it->second;
    }
    return std::nullopt;
  }

 private:
  const DeliveryEngine& engine_;
  const std::deque<Delivery>& deliveries_;
  // (Hash64(id), index) of the deliveries FindPublished does not find.
  std::vector<std::pair<uint64_t, uint32_t>> table_;
};

// --- Receiver side
// ------------------------------------------------------------

void CheckReceivers(const RunRecord& run, const AttemptLogSummary& log,
                    RuleBook& book) {
  const DeliveryEngine& engine = *run.engine;
  const auto& deliveries = engine.deliveries();
  const DeliveriesById by_id(engine);
  std::vector<char> seen(deliveries.size(), 0);  // Arrived at its receiver.
  std::vector<char> complete(run.receivers.size(), 1);  // Tracked all.
  const std::vector<std::vector<PauseWindow>> windows = PauseWindows(engine);
  // When the sender started each attempt of deliveries to hooks that were
  // ever paused: a request arriving during a pause is allowed only when its
  // attempt was already in flight when the pause began.
  std::map<std::pair<uint32_t, int>, TimePoint> started;
  for (const AttemptRecord& a : log.kept()) {
    if (!windows[deliveries[a.delivery].hook].empty()) {
      started[{a.delivery, a.attempt}] = a.started;
    }
  }
  for (size_t ri = 0; ri < run.receivers.size(); ++ri) {
    const MockReceiver& receiver = *run.receivers[ri];
    const std::string rsubject = "receiver " + receiver.name();
    receiver.WithJournal([&](const Journal& journal) {
      if (journal.untracked_requests() > 0) complete[ri] = 0;
      // Arrivals during a pause (the journal's ring: its newest entries).
      if (journal.dropped() > 0) {
        book[Rule::kC8PausedAndNoneLost].notes.push_back(
            rsubject + ": arrivals during pauses checked for the newest " +
            Plural(journal.total_requests() - journal.dropped(), "request") +
            " (journal ring)");
      }
      for (const JournalEntry& e : journal.Recent()) {
        const std::optional<uint32_t> id = by_id.Find(e.delivery_key);
        if (!id) continue;
        const Delivery& d = deliveries[*id];
        if (windows[d.hook].empty()) continue;
        book.Checked(Rule::kC8PausedAndNoneLost);
        const PauseWindow* w = PausedAt(windows[d.hook], e.at);
        if (w == nullptr) continue;
        auto s = started.find({*id, e.delivery_attempt});
        if (s != started.end() && s->second <= w->from) continue;  // In flight.
        book.Fail(Rule::kC8PausedAndNoneLost,
                  Finding{"receiver", rsubject + ", delivery " + e.delivery_key,
                          "nothing while hook " + engine.hooks()[d.hook].id +
                              " is " + DescribeWindow(*w) +
                              " (but attempts in flight at the pause)",
                          "request " + std::to_string(e.delivery_attempt) +
                              " arrived at " + FormatRunTime(e.at)});
      }
      // In order of first arrival at the receiver: findings come out in a
      // deterministic order.
      for (const auto& [key, c] : journal.deliveries()) {
        const std::string subject = rsubject + ", delivery " + std::string(key);
        // Judged by its hook's contract (the run's for a request the
        // sender never made).
        const std::optional<uint32_t> sent = by_id.Find(key);
        const Contract& contract =
            sent ? engine.ContractOf(deliveries[*sent].hook) : *run.contract;
        book.Checked(Rule::kC1Method);
        book.Checked(Rule::kC2ContentType);
        book.Checked(Rule::kC5NothingAfterSuccess);
        book.Checked(Rule::kC6RetriedUntilSuccess);
        book.Checked(Rule::kC7SameBodyAndId);
        book.Checked(Rule::kC8PausedAndNoneLost);
        CheckRequestShape(book, "receiver", subject,
                          {c.non_post, c.bad_content_type, c.body_changes});
        if (c.schema_invalid > 0) {
          const Rule rule = SchemaRuleOf(c.first_schema_issue);
          book.Checked(rule);
          book.Fail(rule, Finding{"receiver", subject, "a valid payload",
                                  c.first_schema_issue.str()});
        }
        // The first 410 the profile stops on, answered before any 2xx.
        int gone_attempt = 0;
        if (contract.StopsOn(410) && c.first_gone_attempt() > 0 &&
            (c.success_attempt() == 0 ||
             c.first_gone_attempt() < c.success_attempt())) {
          gone_attempt = c.first_gone_attempt();
        }
        const AttemptJudgement judged = JudgeAttempts(
            AttemptCount{c.attempts, c.success_attempt(), gone_attempt},
            contract);
        if (judged.after_success > 0) {
          book.Fail(Rule::kC5NothingAfterSuccess,
                    Finding{"receiver", subject,
                            "nothing after the 2xx answer to attempt " +
                                std::to_string(c.success_attempt()),
                            Plural(judged.after_success, "more request")});
        }
        const bool held_at_end =
            sent && deliveries[*sent].state == DeliveryState::kHeld &&
            !engine.hooks()[deliveries[*sent].hook].active;
        // Its endpoint was disabled by another delivery's 410 (the sender
        // side judges that from the attempt log).
        const bool gone_elsewhere =
            sent && deliveries[*sent].stopped_by_gone && gone_attempt == 0;
        if (judged.after_gone > 0) {
          book.Fail(Rule::kC6RetriedUntilSuccess,
                    Finding{"receiver", subject,
                            "nothing after the 410 Gone answer to attempt " +
                                std::to_string(gone_attempt) + " (contract " +
                                contract.profile + ")",
                            Plural(judged.after_gone, "more request")});
        }
        if (held_at_end || gone_elsewhere) {
          // Its hook is paused: the rest of its attempts wait for a resume.
        } else if (judged.unsuccessful_not_max) {
          book.Fail(
              Rule::kC6RetriedUntilSuccess,
              Finding{"receiver", subject,
                      AtMost(contract) + " attempts when no 2xx was given",
                      Plural(c.attempts, "attempt") + " seen"});
        } else if (judged.over_max) {
          book.Fail(Rule::kC6RetriedUntilSuccess,
                    Finding{"receiver", subject,
                            "at most " + AtMost(contract) + " attempts",
                            Plural(c.attempts, "attempt") + " seen"});
        }
        if (c.attempt_header_mismatches > 0) {
          book.Fail(
              Rule::kC7SameBodyAndId,
              Finding{"receiver", subject, "attempt numbers counting up from 1",
                      Plural(c.attempt_header_mismatches, "attempt") +
                          " numbered otherwise"});
        }
        if (!sent) {
          const bool no_id = key.view().starts_with("body:");
          book.Fail(no_id ? Rule::kC7SameBodyAndId : Rule::kC8PausedAndNoneLost,
                    Finding{"receiver", subject,
                            no_id ? "a delivery id header"
                                  : "only deliveries the sender made",
                            no_id ? "requests without one"
                                  : "an id the sender never used"});
          continue;
        }
        const Delivery& d = deliveries[*sent];
        if (run.hook_receiver[d.hook] == static_cast<int>(ri)) {
          seen[*sent] = 1;
        } else {
          book.Fail(Rule::kC8PausedAndNoneLost,
                    Finding{"receiver", subject,
                            "deliveries of hook " + engine.hooks()[d.hook].id +
                                " at its own receiver",
                            "it arrived here"});
        }
        if (c.attempts != d.attempts) {
          book.Fail(
              Rule::kC8PausedAndNoneLost,
              Finding{"receiver", subject,
                      Plural(d.attempts, "attempt") + " (as the sender logged)",
                      Plural(c.attempts, "attempt") + " arrived"});
        }
      }
    });
  }
  // Every delivery made to a receiver's hooks must have arrived there
  // (judged only where the receiver tracked every delivery it saw).
  for (uint32_t i = 0; i < deliveries.size(); ++i) {
    const Delivery& d = deliveries[i];
    const int ri = run.hook_receiver[d.hook];
    if (ri < 0 || seen[i] || d.attempts == 0 || !complete[ri]) continue;
    book.Fail(
        Rule::kC8PausedAndNoneLost,
        Finding{"receiver", "receiver " + run.receivers[ri]->name(),
                DeliverySubject(engine, d) + " to arrive", "it never arrived"});
  }
}

// --- Expectations
// -------------------------------------------------------------

void CheckExpectations(const RunRecord& run, uint64_t invalid_payloads,
                       RuleBook& book) {
  const Scenario& scenario = *run.scenario;
  const DeliveryEngine& engine = *run.engine;
  RuleResult& expect = book[Rule::kExpectations];
  if (!scenario.expect.all_payloads_schema_valid) {
    // The scenario sends broken payloads on purpose: C3/C4 findings are
    // what it expects, and there must be at least one.
    for (Rule rule : {Rule::kC3Envelope, Rule::kC4ReleaseSchema}) {
      RuleResult& r = book[rule];
      if (r.failed > 0) {
        r.notes.push_back(Plural(r.failed, "finding") +
                          " expected: the scenario sends invalid payloads");
        r.failed = 0;
        r.examples.clear();
      }
    }
    book.Checked(Rule::kExpectations);
    if (invalid_payloads == 0) {
      book.Fail(Rule::kExpectations,
                Finding{"expectation", "payloads",
                        "at least one schema-invalid payload",
                        "every payload was valid"});
    }
  }

  // Per receiver (and per URL hook), stated or derived expectations.
  struct Group {
    std::string subject;
    const ReceiverExpectation* stated = nullptr;
    const BehaviorSpec* behavior = nullptr;  // Null for URL hooks.
    std::vector<uint32_t> deliveries;
  };
  std::vector<Group> groups(scenario.receivers.size());
  for (size_t i = 0; i < scenario.receivers.size(); ++i) {
    groups[i].subject = "receiver " + scenario.receivers[i].name;
    groups[i].behavior = &scenario.receivers[i].behavior;
    for (const ReceiverExpectation& e : scenario.expect.receivers) {
      if (e.receiver == scenario.receivers[i].name) groups[i].stated = &e;
    }
  }
  // Each receiver's list sized once (a big run's would otherwise double its
  // way up to a million entries, briefly holding the old and the new).
  std::vector<size_t> receiver_deliveries(groups.size(), 0);
  for (const Delivery& d : engine.deliveries()) {
    const int ri = run.hook_receiver[d.hook];
    if (ri >= 0) ++receiver_deliveries[ri];
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    groups[i].deliveries.reserve(receiver_deliveries[i]);
  }
  std::map<uint32_t, size_t> url_hook_group;
  for (uint32_t i = 0; i < engine.deliveries().size(); ++i) {
    const Delivery& d = engine.deliveries()[i];
    const int ri = run.hook_receiver[d.hook];
    if (ri >= 0) {
      groups[ri].deliveries.push_back(i);
      continue;
    }
    auto [it, added] = url_hook_group.emplace(d.hook, groups.size());
    if (added) {
      groups.push_back(Group{"hook " + engine.hooks()[d.hook].id + " (" +
                                 engine.hooks()[d.hook].url + ")",
                             nullptr,
                             nullptr,
                             {}});
    }
    groups[it->second].deliveries.push_back(i);
  }

  for (const Group& g : groups) {
    if (g.deliveries.empty()) continue;
    const ReceiverExpectation* stated = g.stated;
    const bool has_outages = g.behavior && !g.behavior->outages.empty();
    std::optional<DerivedAttempts> derived_once;
    if (g.behavior && !has_outages) {
      derived_once = DeriveAttempts(*g.behavior, scenario.retry, TimePoint{},
                                    *run.contract);
    } else if (!g.behavior) {
      derived_once = DeriveRefusedAttempts(scenario.retry);
    }
    const bool use_derived =
        !(stated && stated->attempts) &&
        (derived_once.has_value() ||
         (has_outages && DeriveAttempts(*g.behavior, scenario.retry,
                                        TimePoint{}, *run.contract)
                             .has_value()));
    // A receiver that verifies signatures answers 401 to every attempt of
    // a hook whose secret is not its own (or that has none): 6 attempts,
    // gave_up, unless an outage window may answer first (not derived).
    auto signature_fails = [&](uint32_t hook) {
      if (!g.behavior || g.behavior->verify_secret.empty()) return false;
      Result<std::string> key =
          DecodeWebhookSecret(engine.hooks()[hook].secret);
      return !key.ok() || *key != g.behavior->verify_key;
    };
    // The note on derived attempts speaks of deliveries that ended and
    // were signed as the receiver expects; skip it when there are none.
    bool any_plain = false;
    for (uint32_t i : g.deliveries) {
      const Delivery& d = engine.deliveries()[i];
      const bool held =
          d.state == DeliveryState::kHeld && !engine.hooks()[d.hook].active;
      any_plain |= !held && !signature_fails(d.hook);
    }
    if (use_derived && any_plain) {
      expect.notes.push_back(
          g.subject + ": attempts derived from the behaviour" +
          (derived_once
               ? ": " + derived_once->attempts.ToString() + " per delivery, " +
                     OutcomeName(derived_once->outcome)
               : " and each event's time (outage windows)"));
    }
    uint64_t delivered = 0;
    uint64_t judged = 0;
    bool noted_signature = false;
    for (uint32_t i : g.deliveries) {
      const Delivery& d = engine.deliveries()[i];
      const std::string subject = g.subject + ", " + DeliverySubject(engine, d);
      if (d.state == DeliveryState::kHeld && !engine.hooks()[d.hook].active) {
        continue;  // Still held (its hook is paused): nothing to judge yet.
      }
      ++judged;
      if (d.state == DeliveryState::kDelivered) ++delivered;
      std::optional<Range> attempts;
      OutcomeExpectation outcome = OutcomeExpectation::kAny;
      std::string why;
      if (stated && stated->attempts) {
        attempts = stated->attempts;
      }
      if (stated) outcome = stated->outcome;
      if (use_derived) {
        std::optional<DerivedAttempts> derived = derived_once;
        if (scenario.hooks[d.hook].contract && !has_outages) {
          // A hook with its own profile: derived by its policy.
          derived = g.behavior ? DeriveAttempts(*g.behavior,
                                                scenario.RetryOf(d.hook),
                                                TimePoint{},
                                                scenario.ContractOf(d.hook))
                               : DeriveRefusedAttempts(scenario.RetryOf(d.hook));
        } else if (!derived) {
          derived =
              DeriveAttempts(*g.behavior, scenario.RetryOf(d.hook),
                             TimePoint{} + scenario.events.interval *
                                               static_cast<int64_t>(d.event),
                             scenario.ContractOf(d.hook));
        }
        // Outage windows are judged from the event's time, which a pause
        // shifts: no derivation for a hook that was ever paused.
        if (has_outages && scenario.EverPaused(d.hook)) derived.reset();
        if (derived) {
          attempts = derived->attempts;
          if (outcome == OutcomeExpectation::kAny) outcome = derived->outcome;
          why = " (derived)";
        }
      }
      if (!(stated && stated->attempts) && signature_fails(d.hook)) {
        attempts.reset();
        if (!has_outages) {
          const double max = scenario.RetryOf(d.hook).max_attempts();
          attempts = Range{max, max};
          if (!stated || stated->outcome == OutcomeExpectation::kAny) {
            outcome = OutcomeExpectation::kGaveUp;
          }
          why = " (derived: every attempt answered 401, wrong signature)";
          if (!noted_signature) {
            expect.notes.push_back(g.subject + ": hook " +
                                   engine.hooks()[d.hook].id +
                                   " signs with another secret or none: "
                                   "every attempt 401, gave_up");
            noted_signature = true;
          }
        } else if (!stated || stated->outcome == OutcomeExpectation::kAny) {
          outcome = OutcomeExpectation::kAny;
        }
      }
      if (attempts) {
        book.Checked(Rule::kExpectations);
        if (!attempts->Contains(d.attempts)) {
          book.Fail(Rule::kExpectations,
                    Finding{"expectation", subject,
                            attempts->ToString() +
                                (attempts->min == 1 && attempts->max == 1
                                     ? " attempt"
                                     : " attempts") +
                                why,
                            Plural(d.attempts, "attempt") + ", last " +
                                DescribeAttemptResult(d.last)});
        }
      }
      if (outcome != OutcomeExpectation::kAny) {
        book.Checked(Rule::kExpectations);
        if (!OutcomeMatches(outcome, d.state)) {
          book.Fail(Rule::kExpectations,
                    Finding{"expectation", subject, OutcomeName(outcome) + why,
                            std::string(DeliveryStateName(d.state)) +
                                " after " + Plural(d.attempts, "attempt")});
        }
      }
    }
    if (stated && stated->delivered_ratio) {
      book.Checked(Rule::kExpectations);
      const double ratio =
          judged == 0 ? 0.0 : static_cast<double>(delivered) / judged;
      if (!stated->delivered_ratio->Contains(ratio)) {
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%.4f", ratio);
        book.Fail(
            Rule::kExpectations,
            Finding{"expectation", g.subject,
                    "delivered ratio " + stated->delivered_ratio->ToString(),
                    std::string(buf) + " (" + std::to_string(delivered) +
                        " of " + std::to_string(judged) + ")"});
      }
    }
  }
}

}  // namespace

bool Verdict::passed() const {
  for (const RuleResult& r : rules) {
    if (!r.passed()) return false;
  }
  return true;
}

Verdict Verify(const RunRecord& run) {
  RuleBook book;
  if (!run.clock_status.ok()) {
    book.Fail(Rule::kC8PausedAndNoneLost,
              Finding{"sender", "the run",
                      "every delivery ends within the step limit",
                      run.clock_status.message()});
  }
  uint64_t invalid_payloads = 0;
  CheckSenderPayloads(run, book, invalid_payloads);
  CheckPauses(run, book);
  // The run's summary of its attempt log, or one taken from the whole log.
  std::optional<AttemptLogSummary> own_log;
  if (run.log == nullptr) own_log.emplace(SummariseLog(*run.engine));
  const AttemptLogSummary& log = run.log ? *run.log : *own_log;
  CheckSenderLog(run, log, book);
  CheckSenderWire(run, book);
  CheckReceivers(run, log, book);
  CheckExpectations(run, invalid_payloads, book);

  Verdict verdict;
  verdict.rules = book.Take();
  // The profile each rule was judged by: the run's, or in a scenario whose
  // hooks name their own, every profile with the hooks it judged
  // ("svix for hook b; divshot for hooks a, c").
  std::string contract = run.contract->profile;
  const DeliveryEngine& engine = *run.engine;
  bool mixed = false;
  for (uint32_t h = 0; h < engine.hooks().size(); ++h) {
    mixed |= engine.hooks()[h].contract != nullptr;
  }
  if (mixed) {
    std::vector<std::pair<std::string, std::vector<std::string>>> by_profile;
    for (uint32_t h = 0; h < engine.hooks().size(); ++h) {
      const std::string& profile = engine.ContractOf(h).profile;
      auto it = std::find_if(by_profile.begin(), by_profile.end(),
                             [&](const auto& p) { return p.first == profile; });
      if (it == by_profile.end()) {
        by_profile.push_back({profile, {}});
        it = by_profile.end() - 1;
      }
      it->second.push_back(engine.hooks()[h].id);
    }
    if (by_profile.size() > 1) {
      contract.clear();
      for (const auto& [profile, ids] : by_profile) {
        std::string list;
        for (const std::string& id : ids) list += (list.empty() ? "" : ", ") + id;
        contract += (contract.empty() ? "" : "; ") + profile +
                    (ids.size() == 1 ? " for hook " : " for hooks ") + list;
      }
    } else {
      contract = by_profile.front().first;
    }
  }
  for (RuleResult& r : verdict.rules) {
    if (r.rule != Rule::kExpectations) r.contract = contract;
  }
  verdict.deliveries = run.engine->deliveries().size();
  verdict.attempts = run.engine->total_attempts();
  for (const Delivery& d : run.engine->deliveries()) {
    if (d.state == DeliveryState::kDelivered) ++verdict.delivered;
    if (d.state == DeliveryState::kGaveUp) ++verdict.gave_up;
    if (d.state == DeliveryState::kHeld) ++verdict.held;
  }
  return verdict;
}

}  // namespace hooksim
