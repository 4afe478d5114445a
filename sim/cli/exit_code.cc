#include "sim/cli/exit_code.h"

#include <csignal>

namespace hooksim {

ExitCode ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return ExitCode::kOk;
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kIoError:
    case StatusCode::kUnavailable:
    case StatusCode::kFailedPrecondition:
      return ExitCode::kUsage;
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kInternal:
      return ExitCode::kFailed;
  }
  return ExitCode::kFailed;
}

ExitCode ExitCodeForSignal(int signal) {
  switch (signal) {
    case SIGINT:
      return ExitCode::kInterrupted;
    case SIGTERM:
      return ExitCode::kTerminated;
    default:
      return ExitCode::kFailed;
  }
}

}  // namespace hooksim
