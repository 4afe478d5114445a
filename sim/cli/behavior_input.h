// A receiver behaviour given on the command line: as JSON text (--behavior)
// or in a file (--behavior-file). `receiver` and `bench` take both flags
// and read them alike; each command words its own error prefix.
#ifndef HOOKSIM_SIM_CLI_BEHAVIOR_INPUT_H_
#define HOOKSIM_SIM_CLI_BEHAVIOR_INPUT_H_

#include <cstddef>
#include <string>
#include <vector>

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

// The routes of a --behavior-dir: what LoadBehaviorDir read.
struct BehaviorDir {
  BehaviorSpec spec;  // One route per file, in file-name order.
  // Per route, the file it came from ("DIR/10-orders.json"): the labels
  // to give RouteWarnings.
  std::vector<std::string> files;
};

// Reads one ROUTE object (behavior_parser.h) from every regular *.json
// file of `dir` (not hidden files, not subdirectories), in byte-wise
// file-name order, as WireMock reads its mappings folder. A route without
// a "name" is named after its file, without ".json". At most kMaxRoutes
// files, each at most kMaxBehaviorFileBytes. Errors are invalid-argument
// (I/O error for an unreadable file) and name the file and the JSON
// pointer: "DIR/10-orders.json: /match/body/data~1app: bad JSON pointer
// ..."; a missing directory, a file that is not a directory, or one with
// no *.json file is an error too.
Result<BehaviorDir> LoadBehaviorDir(const std::string& dir);


}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_BEHAVIOR_INPUT_H_
