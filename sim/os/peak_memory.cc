#include "sim/os/peak_memory.h"

#include <sys/resource.h>

#include <fstream>
#include <string>

#include "sim/base/parse_number.h"

namespace hooksim {
namespace {

// The value of a "Key:   1234 kB" line of /proc/self/status, in bytes.
std::optional<uint64_t> StatusField(const std::string& key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  // Bounded: /proc/self/status has a few dozen lines.
  while (std::getline(status, line)) {
    if (line.compare(0, key.size(), key) != 0 || line.size() <= key.size() ||
        line[key.size()] != ':') {
      continue;
    }
    const size_t start = line.find_first_of("0123456789", key.size());
    if (start == std::string::npos) return std::nullopt;
    const size_t end = line.find_first_not_of("0123456789", start);
    const std::optional<uint64_t> kb =
        ParseUint64(std::string_view(line).substr(start, end - start));
    if (!kb) return std::nullopt;
    return *kb * 1024;
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint64_t> PeakRssBytes() {
  if (std::optional<uint64_t> hwm = StatusField("VmHWM")) return hwm;
  struct rusage usage {};
  if (getrusage(RUSAGE_SELF, &usage) != 0 || usage.ru_maxrss <= 0) {
    return std::nullopt;
  }
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // Linux: kB.
}

std::optional<uint64_t> CurrentRssBytes() { return StatusField("VmRSS"); }

}  // namespace hooksim
