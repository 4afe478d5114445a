#include "mock-receivers/behavior.h"

#include <cmath>
#include <cstddef>
#include <utility>

namespace hooksim {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

// Position in a sequence of `size` answers for the 0-based `position`.
size_t SequenceIndex(const SequenceAnswer& seq, uint64_t position) {
  const size_t size = seq.answers.size();
  if (position < size) return static_cast<size_t>(position);
  if (seq.then == SequenceEnd::kCycle) {
    return static_cast<size_t>(position % size);
  }
  return size - 1;
}

Answer PickSequence(const SequenceAnswer& seq, const DecisionContext& ctx) {
  if (seq.answers.empty()) return Answer{};  // Not produced by the parser.
  uint64_t position;
  if (seq.per == SequenceScope::kDelivery) {
    // delivery_attempt is 1-based; anything below 1 counts as the first.
    position = ctx.delivery_attempt > 1
                   ? static_cast<uint64_t>(ctx.delivery_attempt - 1)
                   : 0;
  } else {
    position = ctx.request_index;
  }
  return seq.answers[SequenceIndex(seq, position)];
}

Answer PickWeighted(const WeightedAnswer& weighted, Random& rng) {
  // One draw, always, so the stream advances the same way whatever wins.
  const double u = rng.NextDouble();
  if (weighted.choices.empty()) return Answer{};  // Not produced by parser.
  double cumulative = 0;
  for (const auto& [answer, weight] : weighted.choices) {
    cumulative += weight;
    if (u < cumulative) return answer;
  }
  return weighted.choices.back().first;  // Rounding: the last one catches.
}

Duration DrawLatency(const LatencySpec& latency, Random& rng) {
  return std::visit(
      Overloaded{
          [](const LatencyFixed& l) { return l.value; },
          [&rng](const LatencyUniform& l) {
            // Random::Uniform does not draw when hi <= lo.
            const double us = rng.Uniform(static_cast<double>(l.lo.count()),
                                          static_cast<double>(l.hi.count()));
            return Duration(static_cast<Duration::rep>(std::llround(us)));
          },
          [&rng](const LatencyLogNormal& l) {
            const double z = rng.Normal(0.0, 1.0);
            const double cap = static_cast<double>(l.cap.count());
            double us =
                static_cast<double>(l.median.count()) * std::exp(l.sigma * z);
            // Also catches inf and NaN from extreme inputs.
            if (!(us <= cap)) us = cap;
            if (!(us >= 0)) us = 0;
            return Duration(static_cast<Duration::rep>(std::llround(us)));
          },
      },
      latency);
}

}  // namespace

std::string_view FaultName(Fault fault) {
  switch (fault) {
    case Fault::kNone:
      return "none";
    case Fault::kHang:
      return "hang";
    case Fault::kReset:
      return "reset";
    case Fault::kEmpty:
      return "empty";
    case Fault::kGarbage:
      return "garbage";
    case Fault::kDribble:
      return "dribble";
  }
  return "unknown";
}

std::optional<Fault> ParseFault(std::string_view name) {
  if (name == "none") return Fault::kNone;
  if (name == "hang") return Fault::kHang;
  if (name == "reset") return Fault::kReset;
  if (name == "empty") return Fault::kEmpty;
  if (name == "garbage") return Fault::kGarbage;
  if (name == "dribble") return Fault::kDribble;
  return std::nullopt;
}

std::string_view AnswerExtras::FindHeader(std::string_view name) const {
  for (const AnswerHeader& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return {};
}

bool Answer::operator==(const Answer& other) const {
  if (status != other.status || fault != other.fault) return false;
  if (extras == other.extras) return true;
  if (!extras || !other.extras) return false;
  return *extras == *other.extras;
}

std::string_view Answer::RetryAfter() const {
  if (!extras || (fault != Fault::kNone && fault != Fault::kDribble)) {
    return {};
  }
  return extras->FindHeader("Retry-After");
}

namespace {

void AddHeader(Answer& answer, const std::string& name,
               const std::string& value) {
  if (answer.fault != Fault::kNone) return;
  AnswerExtras extras = answer.extras ? *answer.extras : AnswerExtras{};
  bool replaced = false;
  for (AnswerHeader& h : extras.headers) {
    if (EqualsIgnoreCase(h.name, name)) {
      h.value = value;
      replaced = true;
    }
  }
  if (!replaced) extras.headers.push_back(AnswerHeader{name, value});
  answer.extras = std::make_shared<const AnswerExtras>(std::move(extras));
}

}  // namespace

void AddHeaderToStatusAnswers(BehaviorSpec& spec, const std::string& name,
                              const std::string& value) {
  for (ReceiverRoute& route : spec.routes) {
    AddHeaderToStatusAnswers(route.behavior, name, value);
  }
  std::visit(Overloaded{
                 [&](FixedAnswer& a) { AddHeader(a.answer, name, value); },
                 [&](SequenceAnswer& a) {
                   for (Answer& answer : a.answers) {
                     AddHeader(answer, name, value);
                   }
                 },
                 [&](WeightedAnswer& a) {
                   for (auto& choice : a.choices) {
                     AddHeader(choice.first, name, value);
                   }
                 },
             },
             spec.answers);
}

std::string DescribeAnswer(const Answer& answer) {
  if (answer.fault != Fault::kNone) return std::string(FaultName(answer.fault));
  return std::to_string(answer.status);
}

ReceiverBehavior::ReceiverBehavior(BehaviorSpec spec)
    : spec_(std::move(spec)) {}

Reply ReceiverBehavior::Decide(const HttpRequest& request,
                               const DecisionContext& context, TimePoint now,
                               Random& rng) const {
  // Draw order, fixed: (1) the weighted answer, (2) the latency. Both are
  // drawn even when an outage window then overrides the answer, so whether
  // an outage is active never shifts the draws of later requests.
  Reply reply;
  reply.answer = std::visit(
      Overloaded{
          [](const FixedAnswer& a) { return a.answer; },
          [&context](const SequenceAnswer& a) {
            return PickSequence(a, context);
          },
          [&rng](const WeightedAnswer& a) { return PickWeighted(a, rng); },
      },
      spec_.answers);
  reply.latency = DrawLatency(spec_.latency, rng);
  for (const OutageWindow& window : spec_.outages) {
    if (now >= window.from && now < window.to) {
      reply.answer = window.answer;
      return reply;  // A receiver that is down checks no signature.
    }
  }
  if (!spec_.verify_secret.empty()) {
    const Duration unix_now =
        context.signature_unix_now.value_or(context.unix_origin +
                                            now.time_since_epoch());
    reply.signature_scheme = spec_.verify_scheme;
    reply.signature =
        VerifySignature(spec_.verify_scheme, request, spec_.verify_key,
                        unix_now);
    if (reply.signature != SignatureVerdict::kValid) {
      reply.answer = Answer{401, Fault::kNone};
    }
  }
  return reply;
}

bool ReceiverBehavior::IsDeterministic() const {
  for (const ReceiverRoute& route : spec_.routes) {
    if (!ReceiverBehavior(route.behavior).IsDeterministic()) return false;
  }
  if (std::holds_alternative<WeightedAnswer>(spec_.answers)) return false;
  if (std::holds_alternative<LatencyFixed>(spec_.latency)) return true;
  if (const auto* u = std::get_if<LatencyUniform>(&spec_.latency)) {
    return u->hi <= u->lo;  // Random::Uniform does not draw then.
  }
  return false;  // Lognormal always draws.
}

}  // namespace hooksim
