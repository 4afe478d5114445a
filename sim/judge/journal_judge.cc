#include "sim/judge/journal_judge.h"

#include <map>
#include <set>
#include <utility>

namespace hooksim {
namespace {

std::string Plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// "the 1 request", "all 4 requests".
std::string All(size_t n, const char* one, const char* many) {
  return (n == 1 ? "the " : "all ") + Plural(n, one, many);
}

JournalRow Row(std::string rule, Rule contract_rule) {
  JournalRow row;
  row.rule = std::move(rule);
  row.contract = std::string(RuleId(contract_rule));
  return row;
}

JournalRow NoRequest(JournalRow row) {
  row.verdict = JournalVerdict::kCouldNotJudge;
  row.seen = "no request";
  row.message = "no request to judge";
  return row;
}

// Where an entry came from, for messages: "request 12 (receiver default)".
std::string Where(const RecordedEntry& r) {
  return "request " + std::to_string(r.entry.index) +
         (r.receiver.empty() ? "" : " of receiver " + r.receiver);
}

struct Judged {
  const RecordedEntry* recorded;
  ObservedRequest observed;
};

}  // namespace

ObservedRequest ObserveEntry(const JournalEntry& e, Duration offset) {
  ObservedRequest r;
  r.at = e.at.time_since_epoch() - offset;
  r.method = e.method;
  r.target = e.target;
  r.content_type = e.content_type;
  r.body_hash = e.body_hash;
  r.body_size = e.body_size;
  if (e.has_delivery_id) r.delivery_id = e.delivery_key;
  r.schema_issue = e.schema_issue;
  r.answer = e.reply.answer;
  r.abandoned = e.abandoned;
  r.signature = e.signature;
  return r;
}

std::string_view JournalVerdictName(JournalVerdict verdict) {
  switch (verdict) {
    case JournalVerdict::kPass: return "pass";
    case JournalVerdict::kFail: return "fail";
    case JournalVerdict::kCouldNotJudge: return "could-not-judge";
  }
  return "fail";
}

bool JournalJudgement::passed() const {
  for (const JournalRow& row : rows) {
    if (row.verdict == JournalVerdict::kFail) return false;
  }
  return true;
}

JournalJudgement JudgeJournal(const std::vector<RecordedEntry>& entries,
                              const Contract& contract) {
  JournalJudgement out;
  out.profile = contract.profile;
  out.requests = entries.size();
  std::vector<Judged> judged;
  size_t refused_without_id = 0;
  for (const RecordedEntry& r : entries) {
    if (r.entry.refusal != Refusal::kNone) {
      ++out.refused;
      if (!r.entry.has_delivery_id) ++refused_without_id;
      continue;
    }
    judged.push_back({&r, ObserveEntry(r.entry, Duration(0))});
  }

  // C1-C4 on every request the behaviour saw.
  const std::pair<const char*, Rule> request_rules[] = {
      {"method", Rule::kC1Method},
      {"content-type", Rule::kC2ContentType},
      {"body-shape", Rule::kC3Envelope},
      {"release-schema", Rule::kC4ReleaseSchema},
  };
  for (const auto& [name, rule] : request_rules) {
    JournalRow row = Row(name, rule);
    row.expected = rule == Rule::kC1Method
                       ? std::string("every request a POST")
                   : rule == Rule::kC2ContentType
                       ? "every request with Content-Type: application/json"
                   : rule == Rule::kC3Envelope
                       ? "every body JSON with event (string) and data (object)"
                       : "every release body valid against the release schema";
    if (judged.empty()) {
      out.rows.push_back(NoRequest(std::move(row)));
      continue;
    }
    size_t breaches = 0;
    std::string first;
    for (const Judged& j : judged) {
      const std::string what = RequestBreach(rule, j.observed, contract);
      if (what.empty()) continue;
      if (breaches++ == 0) first = what + " (" + Where(*j.recorded) + ")";
    }
    if (breaches == 0) {
      row.seen = All(judged.size(), "request", "requests");
      row.message = row.expected + ": " + row.seen;
    } else {
      row.verdict = JournalVerdict::kFail;
      row.seen = std::to_string(breaches) + " of " +
                 Plural(judged.size(), "request", "requests");
      row.message = "expected " + row.expected + ", saw " + first + " on " +
                    row.seen;
    }
    out.rows.push_back(std::move(row));
  }

  // Per delivery, in order of first arrival.
  std::map<std::string, size_t> order;
  std::vector<std::pair<std::string, std::vector<const Judged*>>> deliveries;
  for (const Judged& j : judged) {
    const std::string key =
        j.recorded->receiver + "\n" + j.recorded->entry.delivery_key;
    auto [it, inserted] = order.emplace(key, deliveries.size());
    if (inserted) deliveries.push_back({j.recorded->entry.delivery_key, {}});
    deliveries[it->second].second.push_back(&j);
  }
  out.deliveries = deliveries.size();

  JournalRow c5 = Row("no-retry-after-success", Rule::kC5NothingAfterSuccess);
  c5.expected = "no attempt of a delivery after its 2xx";
  JournalRow c6 = Row("attempts", Rule::kC6RetriedUntilSuccess);
  c6.expected = "a delivery without a 2xx re-attempted to exactly " +
                Plural(static_cast<size_t>(contract.max_attempts()), "attempt",
                       "attempts") +
                ", none more";
  JournalRow c7 = Row("body-unchanged", Rule::kC7SameBodyAndId);
  c7.expected = "every attempt of a delivery id with the same body";
  if (deliveries.empty()) {
    out.rows.push_back(NoRequest(std::move(c5)));
    out.rows.push_back(NoRequest(std::move(c6)));
    out.rows.push_back(NoRequest(std::move(c7)));
  } else {
    size_t after_success = 0;
    size_t attempts_bad = 0;
    size_t bodies_bad = 0;
    std::string first_c5;
    std::string first_c6;
    std::string first_c7;
    for (const auto& [key, list] : deliveries) {
      std::vector<const ObservedRequest*> requests;
      for (const Judged* j : list) requests.push_back(&j->observed);
      const AttemptCount count = CountAttempts(requests, contract);
      const AttemptJudgement verdict = JudgeAttempts(count, contract);
      if (verdict.after_success > 0 && after_success++ == 0) {
        first_c5 = "delivery " + key + " got " +
                   Plural(static_cast<size_t>(verdict.after_success),
                          "attempt", "attempts") +
                   " after the 2xx of attempt " +
                   std::to_string(count.success_attempt);
      }
      if (verdict.over_max || verdict.after_gone > 0 ||
          verdict.unsuccessful_not_max) {
        if (attempts_bad++ == 0) {
          first_c6 =
              "delivery " + key + ": " +
              Plural(static_cast<size_t>(count.attempts), "attempt",
                     "attempts") +
              (verdict.after_gone > 0
                   ? ", going on after the 410 of attempt " +
                         std::to_string(count.gone_attempt)
               : verdict.over_max ? ", more than the profile allows"
                                  : " and never a 2xx: it gave up early");
        }
      }
      std::set<std::pair<uint64_t, size_t>> bodies;
      for (const ObservedRequest* r : requests) {
        bodies.insert({r->body_hash, r->body_size});
      }
      // Without an id header the key is the body's hash: one body always.
      if (!list.front()->observed.delivery_id.empty() && bodies.size() > 1 &&
          bodies_bad++ == 0) {
        first_c7 = "delivery " + key + " carried " +
                   std::to_string(bodies.size()) + " different bodies";
      }
    }
    const std::string all = All(deliveries.size(), "delivery", "deliveries");
    auto finish = [&](JournalRow row, size_t bad, const std::string& first) {
      if (bad == 0) {
        row.seen = all;
        row.message = row.expected + ": " + all;
      } else {
        row.verdict = JournalVerdict::kFail;
        row.seen = std::to_string(bad) + " of " +
                   Plural(deliveries.size(), "delivery", "deliveries");
        row.message = first + " (" + row.seen + ")";
      }
      return row;
    };
    out.rows.push_back(finish(std::move(c5), after_success, first_c5));
    JournalRow attempts = finish(std::move(c6), attempts_bad, first_c6);
    if (refused_without_id > 0 && attempts.verdict == JournalVerdict::kPass) {
      attempts.verdict = JournalVerdict::kCouldNotJudge;
      attempts.message = std::to_string(refused_without_id) +
                         " refused requests carry no delivery id: which "
                         "delivery they were attempts of cannot be told";
    }
    out.rows.push_back(std::move(attempts));
    out.rows.push_back(finish(std::move(c7), bodies_bad, first_c7));
  }

  JournalRow signed_row;
  signed_row.rule = "signed";
  signed_row.contract = "signing";
  signed_row.expected = "every request validly signed";
  size_t checked = 0;
  size_t unsigned_count = 0;
  std::string first;
  for (const Judged& j : judged) {
    const SignatureVerdict s = j.observed.signature;
    if (s == SignatureVerdict::kNotChecked) continue;
    ++checked;
    if (s != SignatureVerdict::kValid && unsigned_count++ == 0) {
      first = Where(*j.recorded) + ": signature " +
              std::string(SignatureVerdictName(s));
    }
  }
  if (checked == 0) {
    signed_row.verdict = JournalVerdict::kCouldNotJudge;
    signed_row.seen = "no signature checked";
    signed_row.message =
        "the receiver checked no signature (no verify_signature in its "
        "behaviour)";
  } else if (unsigned_count == 0) {
    signed_row.seen = All(checked, "request", "requests");
    signed_row.message = "every checked request was validly signed";
  } else {
    signed_row.verdict = JournalVerdict::kFail;
    signed_row.seen = std::to_string(unsigned_count) + " of " +
                      Plural(checked, "request", "requests");
    signed_row.message = first + " (" + signed_row.seen + " not validly signed)";
  }
  out.rows.push_back(std::move(signed_row));
  return out;
}

}  // namespace hooksim
