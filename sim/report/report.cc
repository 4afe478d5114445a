#include "sim/report/report.h"

#include <cctype>
#include <cstdio>

#include "sim/base/shell_quote.h"

namespace hooksim {
namespace {

std::string FindingText(const Finding& f) {
  return f.side + "  " + f.subject + ": expected " + f.expected + "; got " +
         f.actual;
}

}  // namespace

std::string ReproduceCommand(const ScenarioOutcome& outcome) {
  std::string command = "hooksim run " + ShellQuote(outcome.file) + " --seed " +
                        std::to_string(outcome.seed);
  if (outcome.mode == "http") {
    char scale[32];
    std::snprintf(scale, sizeof(scale), "%g", outcome.time_scale);
    command += " --mode http --time-scale ";
    command += scale;
  }
  if (!outcome.contract_flag.empty()) {
    command += " --contract " + ShellQuote(outcome.contract_flag);
  }
  return command;
}

std::string FormatScenarioLine(const ScenarioOutcome& o) {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "%s  %-32s deliveries=%llu attempts=%llu delivered=%llu "
                "gave_up=%llu seed=%llu",
                o.verdict.passed() ? "PASS" : "FAIL", o.name.c_str(),
                static_cast<unsigned long long>(o.verdict.deliveries),
                static_cast<unsigned long long>(o.verdict.attempts),
                static_cast<unsigned long long>(o.verdict.delivered),
                static_cast<unsigned long long>(o.verdict.gave_up),
                static_cast<unsigned long long>(o.seed));
  std::string line = buf;
  if (o.verdict.held > 0) {
    // Deliveries of hooks still paused at the end (not lost).
    line += " held=" + std::to_string(o.verdict.held);
  }
  return line;
}

void PrintFailureDetails(const ScenarioOutcome& o, std::ostream& out) {
  if (o.verdict.passed()) return;
  for (const RuleResult& r : o.verdict.rules) {
    if (r.passed()) continue;
    out << "      " << r.id() << " " << r.title();
    // The default contract is not named, so the seed's reports stay as
    // they were; any other profile is.
    if (!r.contract.empty() && r.contract != "divshot") {
      out << " (contract " << r.contract << ")";
    }
    out << ": " << r.failed << " of " << r.checked << " checks failed\n";
    for (const Finding& f : r.examples) {
      out << "        " << FindingText(f) << "\n";
    }
    if (r.failed > r.examples.size()) {
      out << "        ... and " << (r.failed - r.examples.size()) << " more\n";
    }
  }
  out << "      reproduce: " << ReproduceCommand(o) << "\n";
}

nlohmann::json ReportJson(const std::vector<ScenarioOutcome>& outcomes) {
  nlohmann::json scenarios = nlohmann::json::array();
  size_t passed = 0;
  for (const ScenarioOutcome& o : outcomes) {
    passed += o.verdict.passed() ? 1 : 0;
    nlohmann::json rules = nlohmann::json::array();
    for (const RuleResult& r : o.verdict.rules) {
      nlohmann::json examples = nlohmann::json::array();
      for (const Finding& f : r.examples) {
        examples.push_back({{"side", f.side},
                            {"subject", f.subject},
                            {"expected", f.expected},
                            {"actual", f.actual}});
      }
      nlohmann::json rule = {{"rule", r.id()},       {"title", r.title()},
                             {"passed", r.passed()}, {"checked", r.checked},
                             {"failed", r.failed},   {"examples", examples},
                             {"notes", r.notes}};
      // Named when not the default (divshot), so default reports keep
      // their bytes.
      if (!r.contract.empty() && r.contract != "divshot") {
        rule["contract"] = r.contract;
      }
      rules.push_back(std::move(rule));
    }
    scenarios.push_back({{"file", o.file},
                         {"name", o.name},
                         {"seed", o.seed},
                         {"passed", o.verdict.passed()},
                         {"deliveries", o.verdict.deliveries},
                         {"delivered", o.verdict.delivered},
                         {"gave_up", o.verdict.gave_up},
                         {"held", o.verdict.held},
                         {"attempts", o.verdict.attempts},
                         {"fingerprint", o.fingerprint},
                         {"mode", o.mode},
                         {"time_scale", o.time_scale},
                         {"virtual_ms", o.virtual_ms},
                         {"wall_seconds", o.wall_seconds},
                         {"rules", rules},
                         {"reproduce", ReproduceCommand(o)}});
  }
  return {{"tool", "hooksim"},
          {"scenarios", scenarios},
          {"summary",
           {{"scenarios", outcomes.size()},
            {"passed", passed},
            {"failed", outcomes.size() - passed}}}};
}

std::vector<JUnitSuite> ReportJUnit(
    const std::vector<ScenarioOutcome>& outcomes) {
  std::vector<JUnitSuite> suites;
  for (const ScenarioOutcome& o : outcomes) {
    JUnitSuite suite;
    suite.name = o.name;
    suite.seconds = o.wall_seconds;
    suite.timestamp = o.started_at;
    suite.hostname = o.hostname;
    for (const RuleResult& r : o.verdict.rules) {
      JUnitCase c;
      c.classname = "hooksim.run." + o.name;
      c.name = std::string(r.id()) + " " + std::string(r.title());
      if (!r.passed()) {
        c.status = JUnitCase::Status::kFailed;
        c.message = std::to_string(r.failed) + " of " +
                    std::to_string(r.checked) + " checks failed";
        for (const Finding& f : r.examples) {
          c.details += FindingText(f) + "\n";
        }
        c.details += "reproduce: " + ReproduceCommand(o) + "\n";
      }
      // The profile that judged the rule, when not the default (so default
      // reports keep their bytes).
      if (!r.contract.empty() && r.contract != "divshot") {
        c.system_out += "contract: " + r.contract + "\n";
      }
      for (const std::string& note : r.notes) c.system_out += note + "\n";
      // The rules are judged over the whole run: its time, shared out.
      c.seconds = o.wall_seconds / static_cast<double>(o.verdict.rules.size());
      suite.cases.push_back(std::move(c));
    }
    suites.push_back(std::move(suite));
  }
  return suites;
}

}  // namespace hooksim
