// The process's memory high-water mark, for `hooksim bench`.
//
// PeakRssBytes: the peak resident set size (VmHWM in /proc/self/status on
// Linux; getrusage's ru_maxrss where /proc is missing). CurrentRssBytes:
// the resident set size now (VmRSS). Both nullopt when the system reports
// neither. Thread: safe from any thread; each call reads the files anew.
#ifndef HOOKSIM_SIM_OS_PEAK_MEMORY_H_
#define HOOKSIM_SIM_OS_PEAK_MEMORY_H_

#include <cstdint>
#include <optional>

namespace hooksim {

std::optional<uint64_t> PeakRssBytes();
std::optional<uint64_t> CurrentRssBytes();

}  // namespace hooksim

#endif  // HOOKSIM_SIM_OS_PEAK_MEMORY_H_
