// The wall clock as text, for reports and listings (never for timing: use
// a steady clock or the run's Clock).
// Thread: safe (gmtime_r).
#ifndef HOOKSIM_SIM_OS_WALL_TIME_H_
#define HOOKSIM_SIM_OS_WALL_TIME_H_

#include <cstdint>
#include <string>

namespace hooksim {

// "2026-01-02T03:04:05Z" for the Unix time `unix_s` (UTC).
std::string UtcIsoTime(int64_t unix_s);

// UtcIsoTime of now.
std::string UtcIsoNow();

}  // namespace hooksim

#endif  // HOOKSIM_SIM_OS_WALL_TIME_H_
