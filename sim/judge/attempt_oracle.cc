#include "sim/judge/attempt_oracle.h"

#include <algorithm>
#include <variant>
#include <vector>

namespace hooksim {
namespace {

// The answer the behaviour's source gives at 1-based delivery attempt k.
Answer SourceAnswer(const BehaviorSpec& spec, int k) {
  if (const auto* fixed = std::get_if<FixedAnswer>(&spec.answers)) {
    return fixed->answer;
  }
  const auto& seq = std::get<SequenceAnswer>(spec.answers);
  const size_t n = seq.answers.size();
  size_t i = static_cast<size_t>(k - 1);
  if (i >= n) i = seq.then == SequenceEnd::kCycle ? i % n : n - 1;
  return seq.answers[i];
}

Answer AnswerAt(const BehaviorSpec& spec, int k, TimePoint t) {
  for (const OutageWindow& w : spec.outages) {
    if (t >= w.from && t < w.to) return w.answer;
  }
  return SourceAnswer(spec, k);
}

}  // namespace

std::optional<DerivedAttempts> DeriveAttempts(const BehaviorSpec& spec,
                                              const RetryPolicy& policy,
                                              TimePoint first_attempt,
                                              const Contract& contract) {
  // With routes, which behaviour answers depends on each request.
  if (!spec.routes.empty()) return std::nullopt;
  if (std::holds_alternative<WeightedAnswer>(spec.answers)) {
    return std::nullopt;
  }
  const bool stretched_delays =
      contract.retry_after != RetryAfterMode::kIgnore ||
      contract.throttle_floor > Duration::zero();
  if (stretched_delays && !spec.outages.empty()) return std::nullopt;
  if (const auto* seq = std::get_if<SequenceAnswer>(&spec.answers);
      seq && seq->per == SequenceScope::kReceiver) {
    return std::nullopt;
  }
  Duration latency{0};
  if (const auto* fixed = std::get_if<LatencyFixed>(&spec.latency)) {
    latency = fixed->value;
  } else if (const auto* uni = std::get_if<LatencyUniform>(&spec.latency);
             uni && uni->lo == uni->hi) {
    latency = uni->lo;
  } else {
    return std::nullopt;
  }
  const bool slow = latency >= policy.timeout;
  auto duration_of = [&](const Answer& a) {
    return a.fault == Fault::kHang || slow ? policy.timeout : latency;
  };
  auto succeeds = [&](const Answer& a) {
    return (a.fault == Fault::kNone || a.fault == Fault::kDribble) &&
           contract.IsSuccessStatus(a.status) && !slow;
  };

  const int max_attempts = policy.max_attempts();
  TimePoint lo = first_attempt;
  TimePoint hi = first_attempt;
  int min_success = 0;  // First attempt that can succeed.
  for (int k = 1; k <= max_attempts; ++k) {
    // Every answer the receiver can give to an attempt starting in [lo, hi].
    std::vector<TimePoint> probes = {lo, hi};
    for (const OutageWindow& w : spec.outages) {
      for (TimePoint edge : {w.from, w.to}) {
        if (edge > lo && edge <= hi) {
          probes.push_back(edge);
          probes.push_back(edge - Duration(1));
        }
      }
    }
    bool can_succeed = false;
    bool can_fail = false;
    Duration fail_lo = Duration::max();
    Duration fail_hi = Duration::min();
    for (TimePoint t : probes) {
      const Answer a = AnswerAt(spec, k, t);
      if (a.fault == Fault::kNone && contract.StopsOn(a.status)) {
        return std::nullopt;  // Ends the hook's other deliveries too.
      }
      if (succeeds(a)) {
        can_succeed = true;
      } else {
        can_fail = true;
        fail_lo = std::min(fail_lo, duration_of(a));
        fail_hi = std::max(fail_hi, duration_of(a));
      }
    }
    if (can_succeed && min_success == 0) min_success = k;
    if (!can_fail) {
      // Success is certain here; it may have come earlier.
      return DerivedAttempts{
          Range{static_cast<double>(min_success), static_cast<double>(k)},
          OutcomeExpectation::kDelivered};
    }
    const auto [delay_lo, delay_hi] = policy.DelayBounds(k);
    lo += fail_lo + delay_lo;
    hi += fail_hi + delay_hi;
  }
  if (min_success == 0) {
    return DerivedAttempts{Range{static_cast<double>(max_attempts),
                                 static_cast<double>(max_attempts)},
                           OutcomeExpectation::kGaveUp};
  }
  return DerivedAttempts{Range{static_cast<double>(min_success),
                               static_cast<double>(max_attempts)},
                         OutcomeExpectation::kAny};
}

DerivedAttempts DeriveRefusedAttempts(const RetryPolicy& policy) {
  const double n = policy.max_attempts();
  return DerivedAttempts{Range{n, n}, OutcomeExpectation::kGaveUp};
}

}  // namespace hooksim
