#include "sim/base/time.h"

#include <chrono>
#include <cstdio>

namespace hooksim {

std::string FormatRunTime(TimePoint t) {
  int64_t ms = ToMillis(t);
  const char* sign = "+";
  if (ms < 0) {
    sign = "-";
    ms = -ms;
  }
  const int64_t h = ms / 3'600'000;
  const int64_t m = ms / 60'000 % 60;
  const int64_t s = ms / 1000 % 60;
  const int64_t milli = ms % 1000;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s%02lld:%02lld:%02lld.%03lld", sign,
                static_cast<long long>(h), static_cast<long long>(m),
                static_cast<long long>(s), static_cast<long long>(milli));
  return buf;
}

Duration UnixTimeNow() {
  return std::chrono::duration_cast<Duration>(
      std::chrono::system_clock::now().time_since_epoch());
}

}  // namespace hooksim
