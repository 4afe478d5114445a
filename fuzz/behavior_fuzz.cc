// libFuzzer target: behaviour parsing (mock-receivers/behavior_parser.h)
// and the decisions of an accepted behaviour (mock-receivers/behavior.h).
//
// Checks: bytes that are JSON go through ParseBehavior without a crash or
// an exception; an accepted behaviour round-trips (BehaviorToJson, parsed
// again, gives the same JSON), and deciding a few requests with it answers
// a status in 100..599 or a fault, with a latency in [0, 30 days].
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "mock-receivers/behavior.h"
#include "mock-receivers/behavior_parser.h"
#include "sim/base/random.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json doc = nlohmann::json::parse(
      data, data + size, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  hooksim::Result<hooksim::BehaviorSpec> spec =
      hooksim::ParseBehavior(doc, "/receivers/0/behavior");
  if (!spec.ok()) {
    Check(!spec.error().message().empty());
    Check(spec.error().path().rfind("/receivers/0/behavior", 0) == 0);
    return 0;
  }
  const nlohmann::json written = hooksim::BehaviorToJson(*spec);
  hooksim::Result<hooksim::BehaviorSpec> again =
      hooksim::ParseBehavior(written, "");
  Check(again.ok());
  Check(hooksim::BehaviorToJson(*again) == written);

  const hooksim::ReceiverBehavior behavior(*spec);
  hooksim::Random rng(size);
  const hooksim::HttpRequest request{"POST", "/hook", {}, "{}"};
  const auto max_latency = std::chrono::milliseconds(hooksim::kMaxBehaviorMillis);
  for (int i = 0; i < 8; ++i) {
    hooksim::DecisionContext context;
    context.delivery_attempt = 1 + i % 6;
    context.request_index = static_cast<uint64_t>(i);
    const hooksim::TimePoint now(std::chrono::milliseconds(
        static_cast<int64_t>(i) * hooksim::kMaxBehaviorMillis / 8));
    const hooksim::Reply reply = behavior.Decide(request, context, now, rng);
    Check(reply.latency >= hooksim::Duration::zero());
    Check(reply.latency <= max_latency);
    if (reply.answer.fault == hooksim::Fault::kNone) {
      Check(reply.answer.status >= 100 && reply.answer.status <= 599);
    }
  }
  return 0;
}
