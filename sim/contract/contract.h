// The webhook contract as a value: what a sender must do, so every judge and
// every default reads it from one place. DivshotContract() is the seed's
// contract (the `divshot` profile, ../shared/spec/divshot-webhooks.md), the
// default everywhere:
//   C1 method POST; C2 Content-Type application/json; C3 body is JSON with
//   "event" (string) and "data" (object); C4 a release body matches the
//   release schema; C5 no attempt after a 2xx; C6 any other answer (3xx
//   included: redirects are failures and never followed), a timeout or a
//   connection error is re-attempted, up to 5 re-attempts (6 attempts at
//   most, exactly 6 when never delivered), after 5 s, 5 min, 30 min, 2 h,
//   5 h +-20 %, each attempt with a 10 s timeout; C7 every attempt of a
//   delivery carries the same body and delivery id; C8 nothing reaches a
//   paused hook and no delivery is lost. Signatures are not required.
// Thread: values; DivshotContract() is safe from any thread.
#ifndef HOOKSIM_SIM_CONTRACT_CONTRACT_H_
#define HOOKSIM_SIM_CONTRACT_CONTRACT_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/base/time.h"

namespace hooksim {

// The divshot contract's re-attempts (6 attempts at most).
inline constexpr int kContractMaxReattempts = 5;

// The contract's rules, in report order. kExpectations is not a rule of the
// contract but the scenario's own expectations, judged and reported with
// them.
enum class Rule : uint8_t {
  kC1Method,
  kC2ContentType,
  kC3Envelope,
  kC4ReleaseSchema,
  kC5NothingAfterSuccess,
  kC6RetriedUntilSuccess,
  kC7SameBodyAndId,
  kC8PausedAndNoneLost,
  kExpectations,
};
inline constexpr size_t kRuleCount = 9;
static_assert(static_cast<size_t>(Rule::kExpectations) + 1 == kRuleCount);

// "C1".."C8", "expect": the names reports have always used.
std::string_view RuleId(Rule rule);
// What the rule says, in words (the run report's titles).
std::string_view RuleTitle(Rule rule);
// The rule of a schema issue text ("C3 ..." or "C4 ..."): kC3Envelope when
// it starts with "C3", else kC4ReleaseSchema.
Rule SchemaRuleOf(std::string_view issue);

// What a 410 Gone answer means to the sender.
enum class GoneHandling : uint8_t {
  kRetry,            // A failure like any other (divshot).
  kDisableEndpoint,  // Stop this delivery; no new delivery to the endpoint.
};
// What the sender does with a Retry-After header on the statuses
// Contract::retry_after_statuses names.
enum class RetryAfterMode : uint8_t {
  kIgnore,  // The schedule alone decides (divshot).
  kHonour,  // The next attempt not before the hint (capped at retry_after_max).
  kClamp,   // The hint, clamped into [min, max] x the scheduled delay.
};
// How every request is signed when the hook has a secret.
enum class SigningScheme : uint8_t {
  kNone,              // No signature required (divshot).
  kStandardWebhooks,  // webhook-id, webhook-timestamp, webhook-signature v1.
  kGithubSha256,      // X-Hub-Signature-256: sha256=<hex HMAC of the body>.
};

std::string_view GoneHandlingName(GoneHandling value);      // "retry", ...
std::string_view RetryAfterModeName(RetryAfterMode value);  // "ignore", ...
std::string_view SigningSchemeName(SigningScheme value);    // "none", ...

// A contract profile: what a sender promises. The defaults are the divshot
// profile. Files and built-in profiles: sim/contract/contract_file.h.
struct Contract {
  std::string profile = "divshot";
  // Where the figures come from (a URL or a document), for reports.
  std::string source = "shared/spec/divshot-webhooks.md";
  // Attempts: the first plus at most max_reattempts re-attempts.
  int max_reattempts = kContractMaxReattempts;
  // Delay before re-attempt k is retry_schedule[k-1] (the last repeats),
  // scaled by 1 +- jitter; each attempt times out after `timeout`.
  std::vector<Duration> retry_schedule = {
      std::chrono::seconds(5), std::chrono::minutes(5),
      std::chrono::minutes(30), std::chrono::hours(2), std::chrono::hours(5)};
  double jitter = 0.2;
  Duration timeout = std::chrono::seconds(10);
  // Success is a status in [success_min, success_max].
  int success_min = 200;
  int success_max = 299;
  // 3xx answers are failures to re-attempt; their Location is never asked.
  // (Every profile so far; the file format names it "failure".)
  bool redirects_are_failures = true;
  GoneHandling gone = GoneHandling::kRetry;
  RetryAfterMode retry_after = RetryAfterMode::kIgnore;
  std::vector<int> retry_after_statuses;  // e.g. {429, 503}.
  // kClamp: the hint is clamped into [min, max] x the scheduled delay.
  double retry_after_clamp_min = 1.0;
  double retry_after_clamp_max = 2.0;
  // kHonour: hints longer than this are cut to it.
  Duration retry_after_max = std::chrono::hours(24);
  // After a timeout or a 429, the next delay is at least this (0: none).
  Duration throttle_floor = Duration::zero();
  SigningScheme signing = SigningScheme::kNone;

  int max_attempts() const { return max_reattempts + 1; }
  bool signatures_required() const { return signing != SigningScheme::kNone; }
  bool IsSuccessStatus(int status) const {
    return status >= success_min && status <= success_max;
  }
  // Whether `status` stops the delivery and disables the endpoint.
  bool StopsOn(int status) const {
    return status == 410 && gone == GoneHandling::kDisableEndpoint;
  }
  // Whether a Retry-After on `status` changes the next delay.
  bool HonoursRetryAfter(int status) const;
  // C1: the only method a delivery may use.
  bool MethodOk(std::string_view method) const { return method == "POST"; }
  // C2: application/json (parameters allowed, case-insensitive).
  bool ContentTypeOk(std::string_view content_type) const;
};

// The seed's contract (profile "divshot").
const Contract& DivshotContract();

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CONTRACT_CONTRACT_H_
