#include "sim/engine/attempt_log_summary.h"

#include <cstdio>

#include "sim/base/random.h"

namespace hooksim {

AttemptLogSummary::AttemptLogSummary(Options options)
    : options_(std::move(options)) {}

void AttemptLogSummary::Note(Offences& o, const AttemptRecord& a) {
  ++o.count;
  if (o.first.size() < kExamples) o.first.push_back(a);
}

void AttemptLogSummary::Add(const DeliveryEngine& engine,
                            const AttemptRecord& a) {
  ++attempts_;
  const Delivery& d = engine.deliveries()[a.delivery];
  auto mix = [this](uint64_t v) {
    uint64_t state = fingerprint_ ^ v;
    fingerprint_ = SplitMix64(state);
  };
  char id_text[kDeliveryIdSize];
  mix(Hash64(d.id.View(id_text)));  // The id's text, as when kept as text.
  mix(a.attempt);
  mix(static_cast<uint64_t>(a.started.time_since_epoch().count()));
  mix(static_cast<uint64_t>(a.ended.time_since_epoch().count()));
  mix(static_cast<uint64_t>(a.result.error));
  mix(static_cast<uint64_t>(a.result.status));
  mix(a.next_at ? static_cast<uint64_t>(a.next_at->time_since_epoch().count())
                : ~0ULL);

  const uint32_t hook = d.hook;
  const Contract& contract = engine.ContractOf(hook);  // The hook's own.
  if (hook >= hook_gone_.size()) hook_gone_.resize(hook + 1);
  std::optional<TimePoint>& gone = hook_gone_[hook];
  if (gone && a.started > *gone) Note(after_gone_, a);
  const bool stops =
      a.result.error == AttemptError::kNone && contract.StopsOn(a.result.status);
  if (stops && !gone) gone = a.ended;

  if (a.delivery >= replay_.size()) replay_.resize(a.delivery + 1);
  Replay& r = replay_[a.delivery];
  if (a.attempt != r.seen + 1) r.broken_order = true;
  r.seen = a.attempt;
  if (r.success_at != 0) Note(after_success_, a);
  if (a.result.IsSuccess() && r.success_at == 0) r.success_at = a.attempt;
  if (stops && r.gone_at == 0 && r.success_at == 0) r.gone_at = a.attempt;

  if (keeps(hook)) kept_.push_back(a);
}

std::string AttemptLogSummary::Fingerprint() const {
  char buf[20];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(fingerprint_));
  return buf;
}

AttemptLogSummary SummariseLog(const DeliveryEngine& engine) {
  AttemptLogSummary summary(AttemptLogSummary::Options{.keep_hooks = {}, .keep_all = true});
  summary.Reserve(engine.deliveries().size());
  for (const AttemptRecord& a : engine.attempts()) summary.Add(engine, a);
  return summary;
}

}  // namespace hooksim
