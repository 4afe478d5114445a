#include "sim/conform/conform_judge.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>

#include "sim/base/random.h"
#include "sim/contract/contract.h"
#include "sim/contract/http_types.h"

namespace hooksim {
namespace {

std::string Path(const std::string& target) {
  return target.substr(0, target.find('?'));
}

std::string SecondsText(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f s",
                static_cast<double>(d.count()) / 1e6);
  return buf;
}

std::string Attempts(int n) {
  return std::to_string(n) + (n == 1 ? " attempt" : " attempts");
}

std::string AnswerWords(const ObservedRequest& r) {
  if (r.abandoned) {
    return "a timeout (it stopped waiting for the answer)";
  }
  switch (r.answer.fault) {
    case Fault::kNone:
    case Fault::kDribble:
      return std::to_string(r.answer.status);
    case Fault::kHang:
      return "a timeout";
    case Fault::kReset:
      return "a connection reset";
    case Fault::kEmpty:
      return "an empty reply";
    case Fault::kGarbage:
      return "a garbage response";
  }
  return DescribeAnswer(r.answer);
}

std::string AllRequests(size_t n) {
  return n == 1 ? "the 1 request" : "all " + std::to_string(n) + " requests";
}

RuleVerdict Make(CaseRule check) {
  RuleVerdict v;
  v.check = check;
  v.rule = std::string(CaseRuleName(check));
  v.contract = CaseRuleContract(check);
  return v;
}

// Why event `requests` (its attempts, in order) missed `expected`.
std::string ExplainMiss(const ConformCase& c, const CaseObservation& o,
                        const std::vector<const ObservedRequest*>& attempts,
                        int expected) {
  const int n = static_cast<int>(attempts.size());
  if (n == 0) {
    if (o.requests.empty()) return DescribeSender(o);
    for (const ObservedRequest& r : o.requests) {
      const std::string path = Path(r.target);
      if (path != kConformHookPath && path != kRedirectLocation) {
        return "this event was never delivered to " +
               std::string(kConformHookPath) + " (a request went to " + path +
               ": deliver to $HOOKSIM_URL as given)";
      }
    }
    return "this event was never delivered";
  }
  const ObservedRequest& last = *attempts.back();
  if (n < expected) {
    std::string why;
    if (SeenSuccess(last, c.contract)) {
      why = "the sender waited for the answer (" + c.behaviour +
            ") and took its " + std::to_string(last.answer.status) +
            ": its timeout is missing or longer than that";
    } else {
      why = "the sender stopped after " + AnswerWords(last);
    }
    if (o.budget_ended) {
      return why + ", within the " + SecondsText(o.budget) +
             " budget: the sender was still running when it ended (still "
             "retrying, or stuck)";
    }
    return why + "; " + DescribeSender(o);
  }
  // Too many.
  const AttemptCount count = CountAttempts(attempts, c.contract);
  if (JudgeAttempts(count, c.contract).after_success > 0) {
    const ObservedRequest& success = *attempts[count.success_attempt - 1];
    return "the sender retried after the " +
           std::to_string(success.answer.status) + " of attempt " +
           std::to_string(count.success_attempt) + " (C5)";
  }
  if (c.kind == CaseKind::kSlowSuccess && attempts.front()->abandoned) {
    return "the sender stopped waiting for a 2xx that takes " +
           c.behaviour.substr(c.behaviour.find("after ") + 6) +
           " (--slow-ms) and retried: its timeout is shorter than that";
  }
  if (c.check_signature && last.answer.fault == Fault::kNone &&
      last.answer.status == 401) {
    return "the receiver answered 401 to requests not validly signed (see "
           "the signed row) and the sender retried them";
  }
  if (c.kind == CaseKind::kGone) {
    return "the sender re-attempted after the 410 Gone of attempt 1: under " +
           c.contract.profile +
           " a 410 disables the endpoint, nothing more is sent (C6)";
  }
  return "the sender kept retrying past " + Attempts(expected) + " (at most " +
         std::to_string(c.contract.max_reattempts) + " re-attempts)";
}

RuleVerdict JudgeAttemptsRow(const ConformCase& c, const CaseObservation& o) {
  RuleVerdict v = Make(CaseRule::kAttempts);
  const size_t events = c.events.size();
  v.expected =
      Attempts(c.expected_attempts) +
      (events > 1 ? " for each of " + std::to_string(events) + " events" : "");
  std::vector<std::vector<const ObservedRequest*>> per_event(events);
  int unmatched = 0;
  for (const ObservedRequest& r : o.requests) {
    if (Path(r.target) != kConformHookPath) continue;
    int i = MatchEvent(c, r.body_hash, r.body_size);
    if (i < 0 && events == 1) i = 0;  // Changed body, but only one event.
    if (i < 0) {
      ++unmatched;
      continue;
    }
    per_event[static_cast<size_t>(i)].push_back(&r);
  }
  std::string seen;
  for (size_t i = 0; i < events; ++i) {
    seen += (i ? ", " : "") + std::to_string(per_event[i].size());
  }
  v.seen = events == 1 ? Attempts(static_cast<int>(per_event[0].size()))
                       : seen + " attempts";
  if (unmatched > 0) {
    v.verdict = CaseVerdict::kCouldNotJudge;
    v.message = std::to_string(unmatched) +
                " requests carry a body that matches no event: which event "
                "they retry cannot be told (see body-unchanged)";
    return v;
  }
  for (size_t i = 0; i < events; ++i) {
    const int n = static_cast<int>(per_event[i].size());
    if (n == c.expected_attempts) continue;
    v.verdict = CaseVerdict::kFail;
    std::string prefix;
    if (events > 1) {
      prefix = "event " + std::to_string(i + 1) + " of " +
               std::to_string(events) + ": ";
    }
    v.message = prefix + "expected " + Attempts(c.expected_attempts) +
                ", saw " + std::to_string(n) + ": " +
                ExplainMiss(c, o, per_event[i], c.expected_attempts);
    return v;
  }
  v.message = v.seen + (events > 1 ? " each" : "") + ": " + c.why;
  return v;
}

// A row with no request to judge: could-not-judge, saying why.
RuleVerdict NoRequest(RuleVerdict v, const CaseObservation& o) {
  v.verdict = CaseVerdict::kCouldNotJudge;
  v.seen = "no request";
  v.message = "no request to judge: " + DescribeSender(o);
  return v;
}

// Requests the shape rules look at: all but redirect follow-ups.
std::vector<const ObservedRequest*> Judged(const CaseObservation& o) {
  std::vector<const ObservedRequest*> out;
  for (const ObservedRequest& r : o.requests) {
    if (Path(r.target) != kRedirectLocation) out.push_back(&r);
  }
  return out;
}

// A request rule (C1-C4) on every judged request, through the judge's
// RequestBreach.
RuleVerdict JudgeEach(const ConformCase& c, CaseRule check, Rule rule,
                      std::string expected, const CaseObservation& o) {
  RuleVerdict v = Make(check);
  v.expected = std::move(expected);
  const auto judged = Judged(o);
  if (judged.empty()) return NoRequest(std::move(v), o);
  int count = 0;
  std::string first;
  for (const ObservedRequest* r : judged) {
    const std::string what = RequestBreach(rule, *r, c.contract);
    if (what.empty()) continue;
    if (count++ == 0) first = what;
  }
  if (count == 0) {
    v.seen = AllRequests(judged.size());
    v.message = v.expected + " on " + v.seen;
    return v;
  }
  v.verdict = CaseVerdict::kFail;
  v.seen = first + " on " + std::to_string(count) + " of " +
           std::to_string(judged.size()) + " requests";
  v.message = "expected " + v.expected + ", saw " + v.seen;
  return v;
}

RuleVerdict JudgeRedirect(const CaseObservation& o) {
  RuleVerdict v = Make(CaseRule::kNoRedirect);
  v.expected = std::string("no request to the Location ") + kRedirectLocation;
  if (o.requests.empty()) return NoRequest(std::move(v), o);
  int followed = 0;
  std::set<std::string> methods;
  for (const ObservedRequest& r : o.requests) {
    if (Path(r.target) != kRedirectLocation) continue;
    ++followed;
    methods.insert(r.method);
  }
  if (followed == 0) {
    v.seen = "none";
    v.message = "the 302 was treated as a failure, its Location never asked";
    return v;
  }
  std::string m;
  for (const std::string& s : methods) m += (m.empty() ? "" : "/") + s;
  v.verdict = CaseVerdict::kFail;
  v.seen = std::to_string(followed) + " " + m + " requests to the Location";
  v.message = "the sender followed the 302 to " +
              std::string(kRedirectLocation) + " (" + v.seen +
              "): redirects must not be followed, a 3xx is a failure to retry";
  return v;
}

RuleVerdict JudgeBodies(const ConformCase& c, const CaseObservation& o) {
  RuleVerdict v = Make(CaseRule::kBodyUnchanged);
  v.expected = "every body byte-identical to its event's line";
  const auto judged = Judged(o);
  if (judged.empty()) return NoRequest(std::move(v), o);
  int unmatched = 0;
  size_t first_size = 0;
  std::map<std::string, std::set<int>> events_per_id;
  std::map<int, std::set<std::string>> ids_per_event;
  bool any_id = false;
  for (const ObservedRequest* r : judged) {
    const int i = MatchEvent(c, r->body_hash, r->body_size);
    if (i < 0) {
      if (unmatched++ == 0) first_size = r->body_size;
      continue;
    }
    if (!r->delivery_id.empty()) {
      any_id = true;
      events_per_id[r->delivery_id].insert(i);
      ids_per_event[i].insert(r->delivery_id);
    }
  }
  if (unmatched > 0) {
    v.verdict = CaseVerdict::kFail;
    v.seen = std::to_string(unmatched) + " of " +
             std::to_string(judged.size()) +
             " requests with a body that matches no event (first: " +
             std::to_string(first_size) + " bytes, the event " +
             std::to_string(c.events.front().size()) + ")";
    v.message = "the sender changed the body: " + v.seen +
                "; it must send the event's bytes unchanged on every attempt";
    return v;
  }
  for (const auto& [id, evs] : events_per_id) {
    if (evs.size() > 1) {
      v.verdict = CaseVerdict::kFail;
      v.seen = "delivery id " + id + " on " + std::to_string(evs.size()) +
               " different bodies";
      v.message = "one delivery id must carry one body: " + v.seen;
      return v;
    }
  }
  for (const auto& [i, ids] : ids_per_event) {
    if (ids.size() > 1) {
      v.verdict = CaseVerdict::kFail;
      v.seen = "event " + std::to_string(i + 1) + " sent under " +
               std::to_string(ids.size()) + " delivery ids";
      v.message =
          "every attempt of a delivery carries the same delivery "
          "id: " +
          v.seen;
      return v;
    }
  }
  v.seen = AllRequests(judged.size());
  v.message = "every body is its event's, byte for byte" +
              std::string(any_id ? ", one delivery id per event"
                                 : " (no delivery id header: grouped by "
                                   "body)");
  return v;
}

std::string Ms(Duration d) { return std::to_string(ToMillis(d)) + " ms"; }

Duration Scale(Duration d, double factor) {
  return Duration(static_cast<Duration::rep>(
      std::llround(static_cast<double>(d.count()) * factor)));
}

// The attempts at the hook path, in arrival order (the cases with these
// rows have one event).
std::vector<const ObservedRequest*> HookAttempts(const CaseObservation& o) {
  std::vector<const ObservedRequest*> out;
  for (const ObservedRequest& r : o.requests) {
    if (Path(r.target) == kConformHookPath) out.push_back(&r);
  }
  return out;
}

RuleVerdict JudgeRetryAfter(const ConformCase& c, const CaseObservation& o) {
  RuleVerdict v = Make(CaseRule::kRetryAfter);
  const Duration hint = *c.retry_after_hint;
  v.expected = "the next attempt no earlier than " + Ms(hint) +
               " after the failure (Retry-After)";
  const auto attempts = HookAttempts(o);
  if (attempts.empty()) return NoRequest(std::move(v), o);
  if (attempts.size() < 2) {
    v.verdict = CaseVerdict::kCouldNotJudge;
    v.seen = "1 attempt";
    v.message = "no next attempt to time (see attempts)";
    return v;
  }
  const Duration gap = attempts[1]->at - attempts[0]->at;
  v.seen = "the next attempt after " + Ms(gap);
  if (gap + kConformRetryAfterSlack >= hint) {
    v.message = v.seen + ", not before the Retry-After of " + Ms(hint);
    return v;
  }
  v.verdict = CaseVerdict::kFail;
  v.message = "the sender re-attempted " + Ms(gap) + " after the " +
              AnswerWords(*attempts[0]) + " whose Retry-After said " +
              Ms(hint) + ": " + Ms(hint - gap) + " too early (" +
              c.contract.profile + " honours Retry-After)";
  return v;
}

RuleVerdict JudgeTiming(const ConformCase& c, const CaseObservation& o) {
  RuleVerdict v = Make(CaseRule::kTiming);
  const std::vector<Duration>& schedule = c.timing_schedule;
  const double jitter = c.contract.jitter;
  const std::string jitter_text =
      std::to_string(static_cast<int>(jitter * 100 + 0.5)) + " %";
  v.expected = "gaps of " + ScheduleText(schedule) + " ms +-" + jitter_text +
               " jitter +-" + Ms(c.timing_slack) + " slack";
  const auto attempts = HookAttempts(o);
  if (attempts.empty()) return NoRequest(std::move(v), o);
  if (attempts.size() < 2) {
    v.verdict = CaseVerdict::kCouldNotJudge;
    v.seen = "1 attempt";
    v.message = "no gap between attempts to judge (see attempts)";
    return v;
  }
  struct Gap {
    size_t k;  // 1-based: between attempt k and k + 1.
    Duration seen, want, lo, hi;
  };
  std::vector<Gap> gaps;
  std::string seen_text;
  size_t matched = 0;
  // Bounded by the attempts the receiver kept.
  for (size_t k = 1; k < attempts.size(); ++k) {
    const Duration want = schedule[std::min(k - 1, schedule.size() - 1)];
    Gap g{k, attempts[k]->at - attempts[k - 1]->at, want,
          Scale(want, 1.0 - jitter) - c.timing_slack,
          Scale(want, 1.0 + jitter) + c.timing_slack};
    matched += g.seen >= g.lo && g.seen <= g.hi;
    seen_text += (seen_text.empty() ? "" : ",") + std::to_string(ToMillis(g.seen));
    gaps.push_back(g);
  }
  v.seen = "gaps of " + seen_text + " ms";
  if (matched * 2 < gaps.size()) {
    v.verdict = CaseVerdict::kCouldNotJudge;
    v.message = std::to_string(matched) + " of " + std::to_string(gaps.size()) +
                " gaps (" + seen_text + " ms) follow HOOKSIM_RETRY_SCHEDULE_MS "
                "(" + ScheduleText(schedule) +
                " ms): the sender does not seem to take the schedule, so its "
                "timing cannot be judged";
    return v;
  }
  for (const Gap& g : gaps) {
    if (g.seen >= g.lo && g.seen <= g.hi) continue;
    const Duration off = g.seen < g.lo ? g.lo - g.seen : g.seen - g.hi;
    v.verdict = CaseVerdict::kFail;
    v.message = "gap " + std::to_string(g.k) + " (attempt " +
                std::to_string(g.k) + " to " + std::to_string(g.k + 1) +
                ") was " + Ms(g.seen) + ", expected " + Ms(g.want) + " +-" +
                jitter_text + " (" + Ms(g.lo) + ".." + Ms(g.hi) +
                " with the " + Ms(c.timing_slack) + " slack): " +
                Ms(off) + (g.seen < g.lo ? " too early" : " too late");
    return v;
  }
  v.message = std::to_string(gaps.size()) + " gaps (" + seen_text +
              " ms) within " + ScheduleText(schedule) + " ms +-" +
              jitter_text + " +-" + Ms(c.timing_slack);
  return v;
}

RuleVerdict JudgeSigned(const ConformCase& c, const CaseObservation& o) {
  RuleVerdict v = Make(CaseRule::kSigned);
  v.expected = "every request signed (" +
               std::string(SigningSchemeName(c.contract.signing)) +
               ") with $HOOKSIM_SECRET";
  const auto judged = Judged(o);
  if (judged.empty()) return NoRequest(std::move(v), o);
  int bad = 0;
  int unchecked = 0;
  std::string first;
  for (size_t i = 0; i < judged.size(); ++i) {
    const SignatureVerdict s = judged[i]->signature;
    if (s == SignatureVerdict::kValid) continue;
    if (s == SignatureVerdict::kNotChecked) {
      ++unchecked;
      continue;
    }
    if (bad++ == 0) {
      first = "request " + std::to_string(i + 1) + ": signature " +
              std::string(SignatureVerdictName(s));
      if (s == SignatureVerdict::kStale) {
        first += " (webhook-timestamp not within 5 min of the receiver's "
                 "clock, or not a number)";
      } else if (s == SignatureVerdict::kMissing) {
        first += c.contract.signing == SigningScheme::kGithubSha256
                     ? " (no X-Hub-Signature-256)"
                     : " (webhook-id, webhook-timestamp or webhook-signature "
                       "absent)";
      } else {
        first += " (no signature matches the body with the secret)";
      }
    }
  }
  if (bad > 0) {
    v.verdict = CaseVerdict::kFail;
    v.seen = std::to_string(bad) + " of " + std::to_string(judged.size()) +
             " requests not validly signed";
    v.message = v.seen + "; " + first;
    return v;
  }
  if (unchecked == static_cast<int>(judged.size())) {
    v.verdict = CaseVerdict::kCouldNotJudge;
    v.seen = "no request checked";
    v.message = "the receiver checked no signature";
    return v;
  }
  v.seen = AllRequests(judged.size()) + " validly signed";
  v.message = v.seen;
  return v;
}

}  // namespace

std::string_view VerdictName(CaseVerdict v) {
  static constexpr std::string_view kNames[] = {"pass", "fail",
                                                "could-not-judge"};
  return kNames[static_cast<size_t>(v)];
}

namespace {

// Per CaseRule, in its order: the row's name and the contract rules it
// checks (one or two).
struct CaseRuleInfo {
  std::string_view name;
  Rule rule;
  std::optional<Rule> also;
};
constexpr CaseRuleInfo kCaseRules[] = {
    {"attempts", Rule::kC5NothingAfterSuccess, Rule::kC6RetriedUntilSuccess},
    {"no-redirect", Rule::kC6RetriedUntilSuccess, std::nullopt},
    {"method", Rule::kC1Method, std::nullopt},
    {"content-type", Rule::kC2ContentType, std::nullopt},
    {"body-shape", Rule::kC3Envelope, std::nullopt},
    {"release-schema", Rule::kC4ReleaseSchema, std::nullopt},
    {"body-unchanged", Rule::kC7SameBodyAndId, std::nullopt},
    {"retry-after", Rule::kC6RetriedUntilSuccess, std::nullopt},
    {"timing", Rule::kC6RetriedUntilSuccess, std::nullopt},
    // The profile's signing scheme: no C rule (CaseRuleContract says so).
    {"signed", Rule::kC6RetriedUntilSuccess, std::nullopt},
};

}  // namespace

std::string_view CaseRuleName(CaseRule rule) {
  return kCaseRules[static_cast<size_t>(rule)].name;
}

std::string CaseRuleContract(CaseRule rule) {
  if (rule == CaseRule::kSigned) return "signing";
  const CaseRuleInfo& info = kCaseRules[static_cast<size_t>(rule)];
  std::string text(RuleId(info.rule));
  if (info.also) text += "/" + std::string(RuleId(*info.also));
  return text;
}

int MatchEvent(const ConformCase& c, uint64_t body_hash, size_t body_size) {
  for (size_t i = 0; i < c.events.size(); ++i) {
    if (c.events[i].size() == body_size && Hash64(c.events[i]) == body_hash) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

std::string DescribeSender(const CaseObservation& o) {
  if (o.start_failed) {
    return "the sender could not be started: " + o.start_error;
  }
  const ChildOutcome& s = o.sender;
  std::string text;
  if (o.budget_ended) {
    text = "the sender was still running when the " + SecondsText(o.budget) +
           " budget ended and was stopped";
  } else if (!s.ended) {
    text = "the sender was still running";
  } else if (s.signal != 0) {
    text = "the sender was killed by signal " + std::to_string(s.signal) +
           " after " + SecondsText(s.ran);
  } else {
    text = "the sender exited with " + std::to_string(s.exit_code) + " after " +
           SecondsText(s.ran);
  }
  if (o.requests.empty()) text += " and sent nothing";
  const bool failed = o.budget_ended || s.signal != 0 || s.exit_code != 0;
  if (failed && !s.stderr_text.empty()) {
    std::string line = s.stderr_text.substr(0, s.stderr_text.find('\n'));
    if (line.size() > 200) line = line.substr(0, 200) + "...";
    text += " (stderr: " + line + ")";
  }
  return text;
}

std::vector<RuleVerdict> JudgeCase(const ConformCase& c,
                                   const CaseObservation& o) {
  std::vector<RuleVerdict> out;
  out.push_back(JudgeAttemptsRow(c, o));
  if (c.is_redirect) out.push_back(JudgeRedirect(o));
  if (c.retry_after_hint) out.push_back(JudgeRetryAfter(c, o));
  if (!c.timing_schedule.empty()) out.push_back(JudgeTiming(c, o));
  if (c.check_signature) out.push_back(JudgeSigned(c, o));
  out.push_back(JudgeEach(c, CaseRule::kMethod, Rule::kC1Method, "POST", o));
  out.push_back(JudgeEach(c, CaseRule::kContentType, Rule::kC2ContentType,
                          "Content-Type: application/json", o));
  out.push_back(JudgeEach(c, CaseRule::kBodyShape, Rule::kC3Envelope,
                          "a JSON body with event (string) and data (object)",
                          o));
  RuleVerdict schema =
      JudgeEach(c, CaseRule::kReleaseSchema, Rule::kC4ReleaseSchema,
                "a release body matching the release schema", o);
  if (schema.verdict == CaseVerdict::kPass &&
      out.back().verdict == CaseVerdict::kFail) {
    schema.verdict = CaseVerdict::kCouldNotJudge;
    schema.message =
        "bodies that are not a webhook envelope (C3) cannot be "
        "checked against the release schema";
  }
  out.push_back(std::move(schema));
  out.push_back(JudgeBodies(c, o));

  if (o.interrupted || o.dropped_requests > 0) {
    const std::string why =
        o.interrupted ? "hooksim was interrupted before the case ended"
                      : "the receiver's journal overflowed (" +
                            std::to_string(o.dropped_requests) +
                            " requests not kept): the sender sent far more "
                            "than the contract allows";
    for (RuleVerdict& v : out) {
      if (o.dropped_requests > 0 && v.check == CaseRule::kAttempts) {
        v.verdict = CaseVerdict::kFail;
        v.seen = "more than " + std::to_string(o.requests.size()) + " requests";
        v.message = "expected " + v.expected + ", saw " + v.seen + ": " + why;
        continue;
      }
      v.verdict = CaseVerdict::kCouldNotJudge;
      v.message = why;
    }
  }
  return out;
}

}  // namespace hooksim
