#include "sim/os/wall_time.h"

#include <ctime>

namespace hooksim {

std::string UtcIsoTime(int64_t unix_s) {
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string UtcIsoNow() { return UtcIsoTime(std::time(nullptr)); }

}  // namespace hooksim
