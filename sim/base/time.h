// Time types shared by every part of hooksim.
//
// Both worlds measure time from the start of a run: virtual time starts at
// zero, real time at the moment the loop starts. TimePoint is therefore a
// point on a per-run timeline, not wall time. Resolution is microseconds so
// that compressed real-time runs (--time-scale) keep precision.
#ifndef HOOKSIM_SIM_BASE_TIME_H_
#define HOOKSIM_SIM_BASE_TIME_H_

#include <chrono>
#include <cstdint>
#include <string>

namespace hooksim {

using Duration = std::chrono::microseconds;

// A tag clock for the run timeline; never read directly (use Clock::Now).
struct RunClock {
  using duration = Duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<RunClock, Duration>;
  static constexpr bool is_steady = true;
};

using TimePoint = RunClock::time_point;

inline constexpr Duration Millis(int64_t ms) {
  return std::chrono::duration_cast<Duration>(std::chrono::milliseconds(ms));
}
inline constexpr int64_t ToMillis(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}
inline constexpr int64_t ToMillis(TimePoint t) {
  return ToMillis(t.time_since_epoch());
}
inline constexpr TimePoint AtMillis(int64_t ms) { return TimePoint(Millis(ms)); }

// "+HH:MM:SS.mmm" relative to the start of the run (days roll into hours).
std::string FormatRunTime(TimePoint t);

// Wall time since the Unix epoch (std::chrono::system_clock), for the one
// place a run needs it: the Unix time of the run timeline's zero, which
// signed deliveries put in their webhook-timestamp header. Only the real
// world reads it; the virtual world uses a fixed origin.
Duration UnixTimeNow();

// The Unix time of the timeline's zero when nothing else is said (virtual
// runs without "start_unix_s"): 2023-11-14T22:13:20Z, fixed so runs are
// reproducible byte for byte.
inline constexpr int64_t kDefaultStartUnixSeconds = 1'700'000'000;

}  // namespace hooksim

#endif  // HOOKSIM_SIM_BASE_TIME_H_
