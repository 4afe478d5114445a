// One human-readable line per ended attempt, shared by `hooksim run --trace`
// and `hooksim deliver`:
//   +00:00:04.084  hook=flaky  dlv_...  attempt 2/6  503 after 0 ms  -> retry
//   at +00:05:29.419
// (run time the attempt started, the hook when asked for, the delivery id,
// attempt n/max, the result and how long it took, then what comes next).
// Thread: reads the engine; call on the engine's loop thread.
#ifndef HOOKSIM_SIM_ENGINE_ATTEMPT_LINE_H_
#define HOOKSIM_SIM_ENGINE_ATTEMPT_LINE_H_

#include <string>

#include "sim/engine/delivery_engine.h"

namespace hooksim {

struct AttemptLineOptions {
  bool show_hook = true;  // Off where there is only one hook (deliver).
};

std::string FormatAttemptLine(const DeliveryEngine& engine,
                              const AttemptRecord& record,
                              AttemptLineOptions options = {});

}  // namespace hooksim

#endif  // HOOKSIM_SIM_ENGINE_ATTEMPT_LINE_H_
