// Event files: one JSON document per line, each delivered as one event.
//
// This is the format of HOOKSIM_EVENT_FILE (hooksim conform) and of
// `hooksim deliver --event-file`. Each non-blank line is one event; its body
// is the line exactly as written (without the line ending, "\n" or "\r\n"),
// so a sender delivers it byte for byte. A line must parse as a JSON object;
// its type is the string under "event" ("unknown" when there is none), so a
// file may hold payloads the contract's receivers will reject on purpose.
//
// Errors name the file, the line number and the problem. Limits: at most
// kMaxEventFileEvents events, kMaxEventFileBytes in all.
// Thread: plain functions, no shared state.
#ifndef HOOKSIM_SIM_CONTRACT_EVENT_FILE_H_
#define HOOKSIM_SIM_CONTRACT_EVENT_FILE_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sim/base/result.h"

namespace hooksim {

inline constexpr size_t kMaxEventFileEvents = 100'000;
inline constexpr size_t kMaxEventFileBytes = 256u << 20;

struct FileEvent {
  std::string type;  // The body's "event", or "unknown".
  std::string body;  // The line, byte for byte.
};

// Parses the text of an event file; `name` is used in error messages.
Result<std::vector<FileEvent>> ParseEventFile(std::string_view text,
                                              std::string_view name);
// Reads and parses a file.
Result<std::vector<FileEvent>> ReadEventFile(const std::string& path);
// Writes events one per line (bodies must hold no newline); for harnesses
// that hand events to a sender. Fails when the file cannot be written.
Status WriteEventFile(const std::string& path,
                      const std::vector<std::string>& bodies);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CONTRACT_EVENT_FILE_H_
