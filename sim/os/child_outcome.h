// How a child process ended and what it printed: a plain value, so code
// that judges a run (sim/conform/conform_judge.h) needs no process code.
// ChildProcess (child_process.h) fills it.
#ifndef HOOKSIM_SIM_OS_CHILD_OUTCOME_H_
#define HOOKSIM_SIM_OS_CHILD_OUTCOME_H_

#include <string>

#include "sim/base/time.h"

namespace hooksim {

// How the child ended and what it printed.
struct ChildOutcome {
  bool ended = false;    // The shell has been reaped.
  bool stopped = false;  // Ended by Stop() rather than on its own.
  int exit_code = -1;    // When it exited normally.
  int signal = 0;        // When a signal ended it.
  Duration ran{};        // From start to the end (or to now).
  std::string stdout_text;
  std::string stderr_text;
  bool stdout_truncated = false;
  bool stderr_truncated = false;

  // "exited with 0", "killed by signal 9 (stopped by hooksim)", "running".
  std::string Describe() const;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_OS_CHILD_OUTCOME_H_
