// Turns verdicts into what people and CI systems read: the one-line
// summary per scenario, the failure details with the reproduce line, the
// JSON report and the JUnit suites.
#ifndef HOOKSIM_SIM_REPORT_REPORT_H_
#define HOOKSIM_SIM_REPORT_REPORT_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "sim/judge/verifier.h"
#include "sim/report/junit_writer.h"

namespace hooksim {

struct ScenarioOutcome {
  std::string file;
  std::string name;
  uint64_t seed = 0;
  Verdict verdict;
  std::string fingerprint;
  double wall_seconds = 0;
  int64_t virtual_ms = 0;    // Run time when the last delivery ended.
  std::string mode = "sim";  // "sim" or "http" (see WorldName).
  double time_scale = 1.0;   // HTTP world only.
  // `hooksim run --contract` as given ("" when not): the reproduce line
  // repeats it.
  std::string contract_flag;
  // When the run started (ISO 8601, UTC) and where: JUnit only (the JSON
  // report stays reproducible).
  std::string started_at;
  std::string hostname;
};

// "PASS  name  deliveries=.. attempts=.. delivered=.. gave_up=.. seed=.."
std::string FormatScenarioLine(const ScenarioOutcome& outcome);
// For each broken rule: what was expected and what happened; then the
// reproduce line. Prints nothing for a passing scenario.
void PrintFailureDetails(const ScenarioOutcome& outcome, std::ostream& out);
std::string ReproduceCommand(const ScenarioOutcome& outcome);

nlohmann::json ReportJson(const std::vector<ScenarioOutcome>& outcomes);
// One suite per scenario, one test case per rule (C1..C8, expect).
std::vector<JUnitSuite> ReportJUnit(
    const std::vector<ScenarioOutcome>& outcomes);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_REPORT_REPORT_H_
