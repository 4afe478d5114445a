#include "sim/os/wall_time.h"
#include "sim/cli/run_command.h"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <utility>

#include "sim/cli/exit_code.h"
#include "sim/contract/contract_file.h"
#include "sim/judge/verifier.h"
#include "sim/os/interrupt_watcher.h"
#include "sim/report/html_report.h"
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

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "";
  return buf;
}

// An error about the file `file`, printed "FILE: MESSAGE".
Status FileError(StatusCode code, std::string message, std::string file) {
  Status s(code, std::move(message));
  s.set_file(std::move(file));
  return s;
}

// Whether `path` can be written, checked before a run so a long run does
// not end with "cannot write": a missing file is created and removed
// again, an existing one opened for appending (its content is kept).
Status CheckWritable(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (fs::is_directory(st))
    return FileError(StatusCode::kInvalidArgument, "is a directory", path);
  const bool existed = fs::exists(st);
  {
    std::ofstream probe(path, std::ios::binary | std::ios::app);
    if (!probe)
      return FileError(StatusCode::kIoError, "cannot open for writing", path);
  }
  if (!existed) fs::remove(path, ec);
  return Status::Ok();
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f)
    return FileError(StatusCode::kIoError, "cannot open for writing", path);
  f << text;
  f.close();
  if (!f) return FileError(StatusCode::kIoError, "cannot write", path);
  return Status::Ok();
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
      return FileError(StatusCode::kNotFound, "no such file or directory",
                       input);
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
      if (ec)
        return FileError(StatusCode::kIoError, "cannot list the directory",
                         input);
      if (found.empty()) {
        return FileError(StatusCode::kInvalidArgument,
                         "no scenario files (*.json) in this directory", input);
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(input);
    }
    if (files.size() > kMaxScenarioFiles) {
      return Status::InvalidArgument(
          "more than " + std::to_string(kMaxScenarioFiles) + " scenario files");
    }
  }
  if (files.empty()) return Status::InvalidArgument("no scenario given");
  return files;
}

int RunRunCommand(const RunCommandOptions& options, std::ostream& out,
                  std::ostream& err) {
  Result<std::vector<std::string>> files = ExpandScenarioInputs(options.inputs);
  if (!files.ok()) {
    err << "hooksim run: " << files.error().ToString() << "\n";
    return ToInt(ExitCodeFor(files.error()));
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
    for (const std::string& w : ScenarioRouteWarnings(*s)) {
      err << "hooksim run: warning: " << file << ": " << w << "\n";
    }
    scenarios.push_back(std::move(s).value());
  }
  if (bad) return ToInt(ExitCode::kUsage);
  if (options.contract) {
    Result<Contract> contract = LoadContract(*options.contract);
    if (!contract.ok()) {
      err << "hooksim run: --contract: " << contract.error().ToString() << "\n";
      return ToInt(ExitCodeFor(contract.error()));
    }
    for (Scenario& scenario : scenarios) {
      scenario.contract = *contract;
      if (!scenario.retry_given) {
        scenario.retry = RetryPolicy::FromContract(*contract);
      }
    }
  }
  if (options.world == World::kHttp) {
    // A scaled timeout below a loopback round trip under load makes
    // timeouts the receiver never caused, blamed on the sender.
    for (const Scenario& scenario : scenarios) {
      const double wall_ms =
          ToMillis(scenario.retry.timeout) * options.time_scale;
      if (wall_ms < kMinScaledTimeoutMs) {
        const double floor_scale =
            kMinScaledTimeoutMs / static_cast<double>(ToMillis(scenario.retry.timeout));
        err << "hooksim run: --time-scale " << options.time_scale << ": "
            << scenario.name << "'s " << ToMillis(scenario.retry.timeout)
            << " ms timeout becomes " << wall_ms
            << " ms of wall time, below the floor of " << kMinScaledTimeoutMs
            << " ms (a loopback round trip under load can take longer, and the "
               "sender would be blamed for timeouts it did not cause); use "
               "--time-scale "
            << floor_scale << " or more\n";
        return ToInt(ExitCode::kUsage);
      }
    }
  }
  for (const auto& [path, flag] :
       {std::pair{&options.report_json, "--report-json"},
        std::pair{&options.junit, "--junit"},
        std::pair{&options.report_html, "--report-html"}}) {
    if (!*path) continue;
    if (Status s = CheckWritable(**path); !s.ok()) {
      err << "hooksim run: " << flag << ": " << s.ToString() << "\n";
      return ToInt(ExitCodeFor(s));
    }
  }
  // Over HTTP a run takes wall time: Ctrl-C and SIGTERM stop it, and what
  // finished is still reported.
  RunStop own_stop;
  RunStop* stop = options.stop ? options.stop : &own_stop;
  std::optional<InterruptWatcher> watcher;
  if (options.world == World::kHttp && options.handle_interrupt) {
    watcher.emplace([stop] { stop->Stop(); },
                    InterruptWatcherOptions{.sigterm = true});
  }

  // One validator (schemas parsed once) for every scenario of the run.
  Result<std::shared_ptr<const PayloadValidator>> validator =
      PayloadValidator::Bundled();
  if (!validator.ok()) {
    err << "hooksim run: " << validator.error().ToString() << "\n";
    return ToInt(ExitCode::kUsage);
  }
  std::vector<ScenarioOutcome> outcomes;
  const RunHtmlOptions html_options{.command = options.command};
  std::vector<RunPicture> pictures;  // Only with --report-html.
  for (const Scenario& scenario : scenarios) {
    RunOptions ropts;
    ropts.seed = options.seed;
    ropts.validator = *validator;
    ropts.world = options.world;
    ropts.time_scale = options.time_scale;
    ropts.stop = stop;
    // Only the HTML report draws single attempts; the judge and the
    // fingerprint read the run's summary of them (RunResult::log).
    ropts.keep_attempt_log = options.report_html.has_value();
    if (stop->stopped()) break;
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
    // A progress line on a terminal, for runs longer than a second.
    bool progress_shown = false;
    if (&err == &std::cerr && isatty(STDERR_FILENO) == 1) {
      ropts.progress = [&err, &progress_shown,
                        name = scenario.name](const RunProgress& p) {
        err << "\r" << name << ": " << p.deliveries_ended << "/"
            << p.deliveries << " deliveries ended, " << p.attempts
            << " attempts, run time " << FormatRunTime(p.now) << ", "
            << static_cast<int64_t>(p.wall_seconds) << " s\033[K";
        err.flush();
        progress_shown = true;
      };
    }
    const std::string started_at = UtcIsoNow();
    Result<std::unique_ptr<RunResult>> run = RunScenario(scenario, ropts);
    if (progress_shown) {
      err << "\r\033[K";  // The line goes; the scenario's line follows.
      err.flush();
    }
    if (stop->stopped()) break;  // Abandoned half way: not judged.
    if (!run.ok()) {
      err << "hooksim run: " << scenario.file << ": " << run.error().ToString()
          << "\n";
      return ToInt(ExitCodeFor(run.error()));
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
    o.started_at = started_at;
    o.hostname = HostName();
    out << FormatScenarioLine(o) << "\n";
    PrintFailureDetails(o, out);
    out.flush();
    if (options.report_html) {
      pictures.push_back(CollectRunPicture((*run)->Record(), o, html_options));
    }
    outcomes.push_back(std::move(o));
  }

  const bool interrupted = stop->stopped();
  const int interrupt_code = watcher && watcher->exit_code() != 0
                                 ? watcher->exit_code()
                                 : ToInt(ExitCode::kInterrupted);
  watcher.reset();
  size_t passed = 0;
  for (const ScenarioOutcome& o : outcomes) passed += o.verdict.passed();
  out << outcomes.size() << " scenario" << (outcomes.size() == 1 ? "" : "s")
      << ": " << passed << " passed, " << (outcomes.size() - passed)
      << " failed";
  if (interrupted) {
    out << " (interrupted: " << outcomes.size() << " of " << scenarios.size()
        << " finished)";
  }
  out << "\n";
  out.flush();

  if (options.report_json) {
    if (Status s = WriteFile(*options.report_json,
                             ReportJson(outcomes).dump(2) + "\n"); !s.ok()) {
      err << "hooksim run: --report-json: " << s.ToString() << "\n";
      return ToInt(ExitCodeFor(s));
    }
  }
  if (options.junit) {
    std::ostringstream xml;
    WriteJUnit(ReportJUnit(outcomes), xml);
    if (Status s = WriteFile(*options.junit, xml.str()); !s.ok()) {
      err << "hooksim run: --junit: " << s.ToString() << "\n";
      return ToInt(ExitCodeFor(s));
    }
  }
  if (options.report_html) {
    if (Status s = WriteFile(*options.report_html,
                             RenderRunHtml(pictures, html_options)); !s.ok()) {
      err << "hooksim run: --report-html: " << s.ToString() << "\n";
      return ToInt(ExitCodeFor(s));
    }
  }
  if (interrupted) {
    err << "hooksim run: interrupted: " << outcomes.size() << " of "
        << scenarios.size() << " scenario" << (scenarios.size() == 1 ? "" : "s")
        << " finished; the one in progress was abandoned";
    if (options.report_json || options.junit || options.report_html) {
      err << "; the reports hold the finished ones";
    }
    err << "\n";
    return interrupt_code;
  }
  return ToInt(passed == outcomes.size() ? ExitCode::kOk : ExitCode::kFailed);
}

}  // namespace hooksim
