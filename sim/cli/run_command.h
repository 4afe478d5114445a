// `hooksim run`: loads scenario files (directories expand to their *.json
// files, *.schema.json excluded, sorted by name), runs each in the virtual
// world (or over HTTP on loopback with --mode http), verifies it and
// reports.
//
// Report paths are checked before anything runs (nothing is left behind
// by the check).
// With --mode http, SIGINT (Ctrl-C) and SIGTERM stop the run: the scenario
// in progress is abandoned, the ones finished so far are printed and go
// into the reports, and the exit code is 130 (SIGINT) or 143 (SIGTERM).
//
// Exit codes: 0 every scenario passed; 1 an expectation or contract rule
// failed; 2 bad input or usage (no scenario is run when any file is bad or
// a report path is not writable); 130/143 interrupted (--mode http).
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

// --mode http: the smallest wall-time timeout a --time-scale may make of a
// scenario's attempt timeout; below it the run is refused (exit 2).
inline constexpr double kMinScaledTimeoutMs = 5;

struct RunCommandOptions {
  std::vector<std::string> inputs;  // Files or directories.
  std::optional<uint64_t> seed;
  std::optional<std::string> report_json;  // Path.
  std::optional<std::string> junit;        // Path.
  std::optional<std::string> report_html;  // Path (see html_report.h).
  std::string command;      // The command line, shown in the HTML page.
  bool trace = false;
  World world = World::kVirtual;
  double time_scale = 1.0;  // HTTP world: wall seconds per run second.
  // --contract NAME|FILE: every scenario's contract (its "retry" object,
  // when it has one, still sets the timing); unset: each scenario's own.
  std::optional<std::string> contract;
  bool handle_interrupt = true;  // HTTP world: own SIGINT and SIGTERM.
  // Test seam: the stop the run uses (null: its own). Borrowed.
  RunStop* stop = nullptr;
};

// Expands the inputs into scenario files.
Result<std::vector<std::string>> ExpandScenarioInputs(
    const std::vector<std::string>& inputs);

int RunRunCommand(const RunCommandOptions& options, std::ostream& out,
                  std::ostream& err);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_RUN_COMMAND_H_
