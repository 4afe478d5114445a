// libFuzzer target: scenario parsing (sim/scenario/scenario.h), bytes in.
//
// Checks: ParseScenarioText never crashes, throws or hangs on any bytes;
// a scenario it accepts keeps the documented limits (events, receivers,
// hooks, deliveries), every hook names a receiver it has or a URL, and
// the receivers are sorted by name.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sim/scenario/scenario.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  hooksim::Result<hooksim::Scenario> scenario =
      hooksim::ParseScenarioText(text);
  if (!scenario.ok()) {
    Check(!scenario.error().message().empty());
    return 0;
  }
  const hooksim::Scenario& s = *scenario;
  Check(s.EventCount() <= static_cast<size_t>(hooksim::kMaxScenarioEvents));
  Check(s.receivers.size() <= hooksim::kMaxScenarioReceivers);
  Check(s.hooks.size() <= hooksim::kMaxScenarioHooks);
  Check(s.DeliveryCount() <= hooksim::kMaxScenarioDeliveries);
  Check(std::is_sorted(s.receivers.begin(), s.receivers.end(),
                       [](const auto& a, const auto& b) {
                         return a.name < b.name;
                       }));
  for (const hooksim::HookSpec& hook : s.hooks) {
    if (hook.receiver.empty()) {
      Check(!hook.url.empty());
      continue;
    }
    Check(std::any_of(s.receivers.begin(), s.receivers.end(),
                      [&](const auto& r) { return r.name == hook.receiver; }));
  }
  return 0;
}
