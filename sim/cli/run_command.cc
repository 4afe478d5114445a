#include "sim/cli/run_command.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/contract/contract_file.h"
#include "sim/judge/verifier.h"
#include "sim/report/report.h"
#include "sim/scenario/scenario.h"
#include "sim/world/runner.h"

namespace hooksim {
namespace {

constexpr size_t kMaxScenarioFiles = 10'000;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return Error{"cannot open for writing", "", path};
  f << text;
  f.close();
  if (!f) return Error{"cannot write", "", path};
  return std::nullopt;
}

}  // namespace

Result<std::vector<std::string>> ExpandScenarioInputs(
    const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const std::string& input : inputs) {
    std::error_code ec;
    const fs::file_status st = fs::status(input, ec);
    if (ec || !fs::exists(st)) {
      return Error{"no such file or directory", "", input};
    }
    if (fs::is_directory(st)) {
      std::vector<std::string> found;
      for (fs::directory_iterator it(input, ec), end; !ec && it != end;
           it.increment(ec)) {
        const std::string p = it->path().string();
        if (it->is_regular_file() && EndsWith(p, ".json") &&
            !EndsWith(p, ".schema.json")) {
          found.push_back(p);
        }
        if (found.size() > kMaxScenarioFiles) break;
      }
      if (ec) return Error{"cannot list the directory", "", input};
      if (found.empty()) {
        return Error{"no scenario files (*.json) in this directory", "", input};
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(input);
    }
    if (files.size() > kMaxScenarioFiles) {
      return MakeError("more than " + std::to_string(kMaxScenarioFiles) +
                       " scenario files");
    }
  }
  if (files.empty()) return MakeError("no scenario given");
  return files;
}

int RunRunCommand(const RunCommandOptions& options, std::ostream& out,
                  std::ostream& err) {
  Result<std::vector<std::string>> files = ExpandScenarioInputs(options.inputs);
  if (!files.ok()) {
    err << "hooksim run: " << files.error().ToString() << "\n";
    return 2;
  }
  // Load everything first: a bad file stops the run before anything runs.
  std::vector<Scenario> scenarios;
  bool bad = false;
  for (const std::string& file : *files) {
    Result<Scenario> s = LoadScenarioFile(file);
    if (!s.ok()) {
      err << "hooksim run: " << s.error().ToString() << "\n";
      bad = true;
      continue;
    }
    scenarios.push_back(std::move(s).value());
  }
  if (bad) return 2;
  if (options.contract) {
    Result<Contract> contract = LoadContract(*options.contract);
    if (!contract.ok()) {
      err << "hooksim run: --contract: " << contract.error().ToString() << "\n";
      return 2;
    }
    for (Scenario& scenario : scenarios) {
      scenario.contract = *contract;
      if (!scenario.retry_given) {
        scenario.retry = RetryPolicy::FromContract(*contract);
      }
    }
  }

  // One validator (schemas parsed once) for every scenario of the run.
  Result<std::shared_ptr<const PayloadValidator>> validator =
      PayloadValidator::Bundled();
  if (!validator.ok()) {
    err << "hooksim run: " << validator.error().ToString() << "\n";
    return 2;
  }
  std::vector<ScenarioOutcome> outcomes;
  for (const Scenario& scenario : scenarios) {
    RunOptions ropts;
    ropts.seed = options.seed;
    ropts.validator = *validator;
    ropts.world = options.world;
    ropts.time_scale = options.time_scale;
    if (options.world == World::kHttp) {
      const double wall_s =
          ToMillis(LongestRunTime(scenario)) / 1000.0 * options.time_scale;
      if (wall_s > 60) {
        out << "note   " << scenario.name << ": over HTTP at time scale "
            << options.time_scale << " this can take up to "
            << static_cast<int64_t>(wall_s) << " s of wall time (try "
            << "--time-scale 0.001)\n";
        out.flush();
      }
    }
    if (options.trace) {
      out << "trace  " << scenario.name << " (seed "
          << options.seed.value_or(scenario.seed) << ")\n";
      ropts.trace = [&out](const std::string& line) {
        out << "  " << line << "\n";
      };
    }
    Result<std::unique_ptr<RunResult>> run = RunScenario(scenario, ropts);
    if (!run.ok()) {
      err << "hooksim run: " << scenario.file << ": " << run.error().ToString()
          << "\n";
      return 2;
    }
    ScenarioOutcome o;
    o.file = scenario.file;
    o.name = scenario.name;
    o.contract_flag = options.contract.value_or("");
    o.seed = (*run)->seed;
    o.verdict = Verify((*run)->Record());
    o.fingerprint = (*run)->Fingerprint();
    o.wall_seconds = (*run)->wall_seconds;
    o.virtual_ms = ToMillis((*run)->ended_at);
    o.mode = std::string(WorldName((*run)->world));
    o.time_scale = (*run)->time_scale;
    out << FormatScenarioLine(o) << "\n";
    PrintFailureDetails(o, out);
    out.flush();
    outcomes.push_back(std::move(o));
  }

  size_t passed = 0;
  for (const ScenarioOutcome& o : outcomes) passed += o.verdict.passed();
  out << outcomes.size() << " scenario" << (outcomes.size() == 1 ? "" : "s")
      << ": " << passed << " passed, " << (outcomes.size() - passed)
      << " failed\n";

  if (!options.report_json.empty()) {
    if (Status s = WriteFile(options.report_json,
                             ReportJson(outcomes).dump(2) + "\n")) {
      err << "hooksim run: --report-json: " << s->ToString() << "\n";
      return 2;
    }
  }
  if (!options.junit.empty()) {
    std::ostringstream xml;
    WriteJUnit(ReportJUnit(outcomes), xml);
    if (Status s = WriteFile(options.junit, xml.str())) {
      err << "hooksim run: --junit: " << s->ToString() << "\n";
      return 2;
    }
  }
  return passed == outcomes.size() ? 0 : 1;
}

}  // namespace hooksim
