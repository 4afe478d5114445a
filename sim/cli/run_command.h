// `hooksim run`: loads scenario files (directories expand to their *.json
// files, *.schema.json excluded, sorted by name), runs each in the virtual
// world (or over HTTP on loopback with --mode http), verifies it and
// reports.
//
// Exit codes: 0 every scenario passed; 1 an expectation or contract rule
// failed; 2 bad input or usage (no scenario is run when any file is bad).
#ifndef HOOKSIM_SIM_CLI_RUN_COMMAND_H_
#define HOOKSIM_SIM_CLI_RUN_COMMAND_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "sim/base/result.h"
#include "sim/world/runner.h"

namespace hooksim {

struct RunCommandOptions {
  std::vector<std::string> inputs;  // Files or directories.
  std::optional<uint64_t> seed;
  std::string report_json;  // Path, "" for none.
  std::string junit;        // Path, "" for none.
  bool trace = false;
  World world = World::kVirtual;
  double time_scale = 1.0;  // HTTP world: wall seconds per run second.
  // --contract NAME|FILE: every scenario's contract (its "retry" object,
  // when it has one, still sets the timing); unset: each scenario's own.
  std::optional<std::string> contract;
};

// Expands the inputs into scenario files.
Result<std::vector<std::string>> ExpandScenarioInputs(
    const std::vector<std::string>& inputs);

int RunRunCommand(const RunCommandOptions& options, std::ostream& out,
                  std::ostream& err);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_RUN_COMMAND_H_
