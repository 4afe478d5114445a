#include "sim/contract/sender_env.h"

#include <algorithm>

namespace hooksim {

std::vector<Duration> CompressedSchedule(const Contract& contract) {
  std::vector<Duration> out;
  for (int k = 0; k < contract.max_reattempts; ++k) {
    out.push_back(Millis(std::min<int64_t>(500 + 250 * k, 2500)));
  }
  return out;
}

std::string ScheduleText(const std::vector<Duration>& schedule) {
  std::string out;
  for (Duration d : schedule) {
    if (!out.empty()) out += ",";
    out += std::to_string(ToMillis(d));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> SenderContractEnv(
    const Contract& contract, const std::vector<Duration>& schedule) {
  std::vector<std::pair<std::string, std::string>> env;
  if (contract.max_reattempts > 0 && !schedule.empty()) {
    env.emplace_back("HOOKSIM_RETRY_SCHEDULE_MS", ScheduleText(schedule));
  }
  if (contract.signatures_required()) {
    env.emplace_back("HOOKSIM_SECRET", kSenderSecret);
  }
  return env;
}

}  // namespace hooksim
