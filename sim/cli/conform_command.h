// `hooksim conform`: checks any webhook sender, started as a shell
// command, against the webhook contract, one battery case at a time.
//
// For each case (conform_cases.h): a MockReceiver with the case's
// behaviour behind an HttpReceiverServer on 127.0.0.1 (kernel-chosen
// port), the case's events written to a temporary event file, and the
// sender command run by /bin/sh in its own process group (child_process.h)
// with HOOKSIM_URL (http://127.0.0.1:PORT/hook), HOOKSIM_EVENT_FILE and
// HOOKSIM_CASE in its environment. The case ends when the sender has
// exited and no request has arrived for `quiet` (measured from the later
// of the exit and the last request), or when `case_budget` has passed since
// the start (the sender is then stopped: SIGTERM to its group, SIGKILL
// after 2 s). Whatever is left of the group is killed, the server stopped
// (answers still held count as abandoned), and the judge (conform_judge.h)
// rules on what the receiver recorded. Up to `parallel` cases run at once,
// each with its own receiver and port.
//
// Output: a table, one row per case and rule; `junit` writes JUnit XML
// (junit_writer.h; could-not-judge is an <error>), `report_json` the same
// data as JSON with each case's requests and the sender's stdout/stderr
// (each capped at 1 MiB).
// Exit codes: 0 every rule passed; 1 a rule failed or could not be judged;
// 2 bad usage (kConformFlags' errors, or a report file that cannot be
// written); 130 interrupted by SIGINT (senders are stopped, reports of
// what ran are still written).
// Thread: RunConform blocks; it starts `parallel` worker threads and owns
// the process's SIGINT handling while it runs (handle_interrupt).
#ifndef HOOKSIM_SIM_CLI_CONFORM_COMMAND_H_
#define HOOKSIM_SIM_CLI_CONFORM_COMMAND_H_

#include <atomic>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "sim/base/result.h"
#include "sim/base/time.h"
#include "sim/cli/flags.h"
#include "sim/conform/conform_cases.h"
#include "sim/conform/conform_judge.h"
#include "sim/report/junit_writer.h"

namespace hooksim {

inline constexpr int64_t kMaxConformParallel = 32;
inline constexpr int64_t kMaxCaseBudgetS = 3600;

struct ConformOptions {
  std::string sender_cmd;
  BatteryOptions battery;
  std::vector<ConformCase> cases;  // The battery, or the --cases subset.
  std::optional<std::string> case_names;  // --cases LIST.
  bool list_cases = false;                // --list-cases: print, do not run.
  Duration case_budget = std::chrono::seconds(120);
  Duration quiet = Millis(3000);
  int parallel = 4;
  std::optional<std::string> junit;
  std::optional<std::string> report_json;
  std::optional<std::string> report_html;  // See html_report.h.
  std::string command;  // The command line, shown in the HTML page.
  bool handle_interrupt = true;  // Install the SIGINT handling.
};

// `hooksim conform`'s flags, each bound to its field of `*options`.
FlagSet ConformFlagSet(ConformOptions* options);

// The rules between flags, after parsing: --sender-cmd is required and not
// blank (unless --list-cases); --slow-ms must be below --hang-ms, and
// --quiet-ms below the case budget; --cases selects from the battery.
Status CheckConformFlags(const FlagSet& flags, ConformOptions& options);

// Both: ParseArgs(kConformFlags, args) gives the options, or the error
// naming the flag and the value (`--parallel: expected an integer 1..32,
// got "0"`).
extern const CommandFlags<ConformOptions> kConformFlags;

std::string ConformHelp();

// `hooksim conform ARGS...`: --help, --list-cases, or parse and run.
int RunConformCli(const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err);

struct CaseResult {
  ConformCase c;
  std::string url;
  Duration elapsed{};
  CaseObservation observation;
  std::vector<RuleVerdict> verdicts;
};

// Runs one case (see above); `stop` ends it early as interrupted.
CaseResult RunConformCase(const ConformCase& c, const ConformOptions& options,
                          const std::atomic<bool>& stop);

// The battery as a table: case, receiver behaviour, expected attempts, why.
void PrintConformCases(const std::vector<ConformCase>& cases,
                       std::ostream& out);

// The JUnit model of the results: one suite, one testcase per case and
// rule ("CASE/RULE", classname "conform.CASE"); could-not-judge is an
// error; the sender's output goes with the case's first testcase and with
// every testcase that did not pass.
std::vector<JUnitSuite> ConformJUnit(const std::vector<CaseResult>& results,
                                     Duration total);

// The table printed by RunConform.
void PrintConformTable(const std::vector<CaseResult>& results,
                       std::ostream& out);

int RunConform(const ConformOptions& options, std::ostream& out,
               std::ostream& err);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_CONFORM_COMMAND_H_
