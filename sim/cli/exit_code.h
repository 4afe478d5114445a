// The exit codes of the hooksim command line, in one place: the README's
// "Exit codes" table lists the same values with the same wording.
// Thread: plain values and pure functions.
#ifndef HOOKSIM_SIM_CLI_EXIT_CODE_H_
#define HOOKSIM_SIM_CLI_EXIT_CODE_H_

#include "sim/base/result.h"

namespace hooksim {

enum class ExitCode : int {
  // Everything passed (all scenarios, all payloads valid, every delivery of
  // `deliver` delivered); `receiver` and `worker` stopped cleanly.
  kOk = 0,
  // An expectation or a contract rule failed (or an invalid payload; or a
  // `deliver` delivery gave up), or a run failed after it started.
  kFailed = 1,
  // Bad input or usage: malformed scenario, unknown flag or command, an
  // unexpected argument, unreadable or binary file, bad `--listen` address
  // or a port in use, a report path that cannot be written, no state
  // database at the path or a file that is not one.
  kUsage = 2,
  // Interrupted by Ctrl-C (SIGINT): 128 + 2.
  kInterrupted = 130,
  // Stopped by SIGTERM: 128 + 15.
  kTerminated = 143,
};

// The process exit status for `code`.
constexpr int ToInt(ExitCode code) { return static_cast<int>(code); }

// The exit code of a command that stops on `status` before its work starts:
//   kOk                                      -> kOk (0)
//   kInvalidArgument, kNotFound, kIoError,
//   kUnavailable, kFailedPrecondition        -> kUsage (2)
//   kDeadlineExceeded, kInternal             -> kFailed (1)
// A failure during the work itself (a delivery that gave up, a store that
// fails mid-run) is kFailed, returned by the command, not through here.
ExitCode ExitCodeFor(const Status& status);

// The exit code for a stop by `signal`: kInterrupted for SIGINT,
// kTerminated for SIGTERM, kFailed for any other (never raised by hooksim's
// handlers).
ExitCode ExitCodeForSignal(int signal);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CLI_EXIT_CODE_H_
