// What hooksim hands a sender under test (`conform --sender-cmd`, `bench
// --sender-cmd`) besides its URL and events: the secret it signs with and
// the compressed retry schedule it should keep, so the two commands hand
// over the same values and a sender written for one works with the other.
// Errors: none (pure values). Thread: pure functions.
#ifndef HOOKSIM_SIM_CONTRACT_SENDER_ENV_H_
#define HOOKSIM_SIM_CONTRACT_SENDER_ENV_H_

#include <string>
#include <utility>
#include <vector>

#include "sim/base/time.h"
#include "sim/contract/contract.h"

namespace hooksim {

// The secret handed to the sender in HOOKSIM_SECRET under a signing
// profile (receivers verify with it; GitHub's scheme takes the whole text
// as key).
inline constexpr char kSenderSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

// The compressed schedule handed to the sender in HOOKSIM_RETRY_SCHEDULE_MS:
// one delay per re-attempt of `contract`, 500 ms, 750 ms, ... (+250 ms
// each, at most 2500 ms), so the gaps are distinct and short.
std::vector<Duration> CompressedSchedule(const Contract& contract);
// "500,750,1000" (ms).
std::string ScheduleText(const std::vector<Duration>& schedule);

// The environment for a sender keeping `contract` on `schedule`:
// HOOKSIM_RETRY_SCHEDULE_MS when the contract re-attempts (and `schedule`
// is not empty), HOOKSIM_SECRET when it signs.
std::vector<std::pair<std::string, std::string>> SenderContractEnv(
    const Contract& contract, const std::vector<Duration>& schedule);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CONTRACT_SENDER_ENV_H_
