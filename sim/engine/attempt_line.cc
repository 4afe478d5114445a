#include "sim/engine/attempt_line.h"

namespace hooksim {

std::string FormatAttemptLine(const DeliveryEngine& engine,
                              const AttemptRecord& record,
                              AttemptLineOptions options) {
  const Delivery& d = engine.deliveries()[record.delivery];
  std::string line = FormatRunTime(record.started);
  if (options.show_hook) line += "  hook=" + engine.hooks()[d.hook].id;
  line += "  " + d.id.str();
  line += "  attempt " + std::to_string(record.attempt) + "/" +
          std::to_string(engine.PolicyOf(d.hook).max_attempts());
  line += "  " + DescribeAttemptResult(record.result);
  line += " after " + std::to_string(ToMillis(record.ended - record.started)) +
          " ms";
  // A Retry-After that is neither seconds nor an HTTP date: the profile's
  // schedule alone decides (as if there were none); the trace says so.
  if (record.result.error == AttemptError::kNone &&
      record.result.retry_after_ms == kBadRetryAfter) {
    line += " (Retry-After unreadable: ignored)";
  }
  if (record.result.IsSuccess()) {
    line += "  -> delivered";
  } else if (record.next_at) {
    line += "  -> retry at " + FormatRunTime(*record.next_at);
  } else {
    line += "  -> gave_up";
  }
  return line;
}

}  // namespace hooksim
