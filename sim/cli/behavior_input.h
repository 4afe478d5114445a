// A receiver behaviour given on the command line: as JSON text (--behavior)
// or in a file (--behavior-file). `receiver` and `bench` take both flags
// and read them alike; each command words its own error prefix.
#ifndef HOOKSIM_SIM_CLI_BEHAVIOR_INPUT_H_
#define HOOKSIM_SIM_CLI_BEHAVIOR_INPUT_H_

#include <cstddef>
#include <string>

#include "mock-receivers/behavior.h"
#include "sim/base/result.h"

namespace hooksim {

// Largest behaviour file read (1 MiB).
inline constexpr size_t kMaxBehaviorFileBytes = 1 << 20;

// Parses a behaviour document (the format in behavior_parser.h). Errors
// are invalid-argument and read "POINTER: message" ("/" for the document
// itself, "invalid JSON" when it is not JSON).
Result<BehaviorSpec> ParseBehaviorText(const std::string& text);

// The whole text of `path`, at most kMaxBehaviorFileBytes. Errors name the
// path: an I/O error when it cannot be opened or read, invalid-argument
// when it is larger.
Result<std::string> ReadBehaviorFile(const std::string& path);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_BEHAVIOR_INPUT_H_
