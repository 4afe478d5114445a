#include "sim/conform/conform_cases.h"

#include <algorithm>
#include <set>

#include "mock-receivers/sender_signing.h"
#include "sim/base/random.h"
#include "sim/contract/contract.h"
#include "sim/contract/release_events.h"
#include "sim/contract/webhook_signature.h"

namespace hooksim {
namespace {

BehaviorSpec Fixed(Answer answer, Duration latency = Duration{0}) {
  BehaviorSpec spec;
  spec.answers = FixedAnswer{answer};
  spec.latency = LatencyFixed{latency};
  return spec;
}

BehaviorSpec FailThenOk(int status) {
  BehaviorSpec spec;
  SequenceAnswer seq;
  seq.answers = {Answer{status, Fault::kNone}, Answer{200, Fault::kNone}};
  spec.answers = seq;
  return spec;
}

std::string Attempts(int n) {
  return std::to_string(n) + (n == 1 ? " attempt" : " attempts");
}

std::string Seconds(Duration d) {
  const int64_t ms = ToMillis(d);
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

}  // namespace

std::vector<ConformCase> ConformBattery(const BatteryOptions& options) {
  ReleaseEventGenerator events(ReleaseEventOptions{},
                               Random(options.seed).Fork("conform-events"));
  std::vector<ConformCase> cases;
  const Contract& contract = options.contract;
  const int max_attempts = contract.max_attempts();
  const std::string retried =
      contract.max_reattempts == 0
          ? "never re-attempted under " + contract.profile
          : "retried";
  const auto add = [&](std::string name, std::string behaviour, CaseKind kind,
                       BehaviorSpec spec, int attempts, std::string why,
                       int event_count = 1) {
    ConformCase c;
    c.name = std::move(name);
    c.behaviour = std::move(behaviour);
    c.kind = kind;
    c.behavior = std::move(spec);
    c.expected_attempts = attempts;
    c.why = std::move(why);
    c.contract = contract;
    for (int i = 0; i < event_count; ++i)
      c.events.push_back(events.Next().body);
    cases.push_back(std::move(c));
  };
  const auto fails = [&](std::string name, int status, std::string why) {
    add(std::move(name), "always " + std::to_string(status),
        CaseKind::kAlwaysFails, Fixed(Answer{status, Fault::kNone}),
        max_attempts, std::move(why));
  };
  const auto fault = [&](std::string name, Fault f, std::string behaviour,
                         std::string why) {
    add(std::move(name), std::move(behaviour), CaseKind::kAlwaysFails,
        Fixed(Answer{200, f}), max_attempts, std::move(why));
  };

  add("ok-200", "200", CaseKind::kSuccess, Fixed(Answer{200, Fault::kNone}), 1,
      "a 2xx means received: no further attempt (C5)");
  // Under a profile without re-attempts (github) a failure ends the
  // delivery: 1 attempt.
  const int recovers = max_attempts >= 2 ? 2 : 1;
  add("503-then-200", "503, then 200", CaseKind::kRecovers, FailThenOk(503),
      recovers,
      max_attempts >= 2 ? "503 is retried, the 200 ends the delivery (C6, C5)"
                        : "503 is a failure, " + retried + " (C6)");
  fails("always-500", 500,
        "every answer fails: 1 attempt + " +
            std::to_string(contract.max_reattempts) +
            " re-attempts, then nothing (C6)");
  fails("redirect-302", 302,
        "a 3xx is a failure: " + retried + ", its Location not followed (C6)");
  cases.back().is_redirect = true;
  fails("not-found-404", 404,
        "a 4xx is a failure like any other: " + retried + " (C6)");
  if (contract.StopsOn(410)) {
    add("gone-410", "always 410", CaseKind::kGone,
        Fixed(Answer{410, Fault::kNone}), 1,
        "410 Gone disables the endpoint under " + contract.profile +
            ": no further attempt (C6)");
  } else {
    fails("gone-410", 410,
          "a 4xx is a failure like any other: " + retried + " (C6)");
  }
  add("reply-past-timeout", "200, but only after " + Seconds(options.hang),
      CaseKind::kHeld, Fixed(Answer{200, Fault::kNone}, options.hang),
      max_attempts,
      "each answer comes after " + Seconds(options.hang) +
          " (--hang-ms), past a sane sender timeout: every attempt times "
          "out and is retried (C6)");
  fault("connection-reset", Fault::kReset, "reset the connection (RST)",
        "a connection error is a failure: retried (C6)");
  fault("garbage-response", Fault::kGarbage, "bytes that are not HTTP, close",
        "a malformed response is a failure: retried (C6)");
  fault("empty-reply", Fault::kEmpty, "close with no answer",
        "an empty reply is a failure: retried (C6)");
  add("slow-2xx", "200 after " + Seconds(options.slow), CaseKind::kSlowSuccess,
      Fixed(Answer{200, Fault::kNone}, options.slow), 1,
      "a 2xx after " + Seconds(options.slow) +
          " (--slow-ms) is within a sane timeout: received, not retried (C5)");
  add("several-events", "503, then 200, for each of 3 events",
      CaseKind::kRecovers, FailThenOk(503), recovers,
      "each event is its own delivery with its own retries, each retry "
      "carrying its event's body byte for byte (C6, C7)",
      3);
  if (!options.profile_cases) return cases;

  // The profile's own cases.
  for (int status : {429, 503}) {
    if (contract.retry_after != RetryAfterMode::kHonour ||
        !contract.HonoursRetryAfter(status) || max_attempts < 2) {
      continue;
    }
    const std::string hint =
        std::to_string(ToMillis(kConformRetryAfter) / 1000);
    BehaviorSpec spec = FailThenOk(status);
    AddHeaderToStatusAnswers(spec, "Retry-After", hint);
    add(std::to_string(status) + "-retry-after",
        std::to_string(status) + " with Retry-After: " + hint + ", then 200",
        CaseKind::kRecovers, std::move(spec), 2,
        "the " + std::to_string(status) + " is retried, not before its " +
            "Retry-After (" + contract.profile + " honours it), and the " +
            "200 ends the delivery (C6, C5)");
    cases.back().retry_after_hint = kConformRetryAfter;
  }
  if (contract.signatures_required()) {
    BehaviorSpec spec = Fixed(Answer{200, Fault::kNone});
    VerifySenderSignatures(contract, spec);
    add("signed",
        "200 to a request signed with $HOOKSIM_SECRET (" +
            std::string(SigningSchemeName(contract.signing)) +
            "), else 401",
        CaseKind::kSuccess, std::move(spec), 1,
        "every request is signed with the secret (" + contract.profile +
            "); a valid one is answered 200: 1 attempt");
    cases.back().check_signature = true;
  }
  if (contract.max_reattempts >= 1) {
    const std::vector<Duration> schedule = CompressedSchedule(contract);
    fails("retry-timing", 500,
          "every answer fails: " + Attempts(max_attempts) +
              ", each re-attempt after the delay of $HOOKSIM_RETRY_SCHEDULE_MS "
              "(" + ScheduleText(schedule) + " ms) +-" +
              std::to_string(static_cast<int>(contract.jitter * 100)) +
              " % (C6)");
    cases.back().timing_schedule = schedule;
    cases.back().timing_slack = options.timing_slack;
  }
  return cases;
}

Result<std::vector<ConformCase>> SelectCases(
    const std::vector<ConformCase>& battery, const std::string& list) {
  std::string known;
  for (const ConformCase& c : battery)
    known += (known.empty() ? "" : ",") + c.name;
  std::set<std::string> wanted;
  size_t start = 0;
  // Bounded by the length of the list.
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string name = list.substr(start, comma - start);
    bool found = false;
    for (const ConformCase& c : battery) found = found || c.name == name;
    if (!found) {
      return Status::InvalidArgument("unknown case \"" + name +
                                     "\" (known: " + known + ")");
    }
    if (!wanted.insert(name).second) {
      return Status::InvalidArgument("case \"" + name + "\" given twice");
    }
    start = comma + 1;
  }
  std::vector<ConformCase> out;
  for (const ConformCase& c : battery) {
    if (wanted.count(c.name)) out.push_back(c);
  }
  return out;
}

}  // namespace hooksim
