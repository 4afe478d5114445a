// A shell command run as a child process in its own process group, with
// its output captured and a way to stop it for sure.
//
// Start() runs `/bin/sh -c COMMAND` (posix_spawn, safe in a multi-threaded
// process) in a new process group whose id is the shell's pid, with the
// parent's environment plus `env` (which replaces variables of the same
// name), standard input from /dev/null (or, with `stdin_stream`, from a
// socket the parent writes with WriteStdin and ends with CloseStdin: a
// socket so a reader that has gone is an error value, never a SIGPIPE),
// every other descriptor closed, the
// signal mask empty and SIGINT/SIGTERM/SIGPIPE at their defaults. Standard
// output and standard error go to pipes that Poll() drains into buffers of
// at most `max_output_bytes` each; further bytes are read and dropped, and
// the truncation is noted, so a chatty child never blocks on a full pipe.
//
// Stopping: Stop() sends SIGTERM to the whole group, waits up to `grace`,
// then SIGKILLs the group, and reaps the shell. KillGroup() SIGKILLs what
// is left of the group once the shell has exited (a command may leave
// background processes behind). The destructor does both, so no child
// outlives its ChildProcess. Bounded: every wait has a deadline.
//
// Errors: Start returns an I/O error Status when the pipes or the spawn fail (a
// command that does not exist is not such an error: the shell runs and
// exits with 127). Thread: one owner thread; not thread-safe.
#ifndef HOOKSIM_SIM_OS_CHILD_PROCESS_H_
#define HOOKSIM_SIM_OS_CHILD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/base/result.h"
#include "sim/base/time.h"
#include "sim/os/child_outcome.h"

namespace hooksim {

struct ChildOptions {
  std::string command;  // Run by /bin/sh -c.
  std::vector<std::pair<std::string, std::string>> env;
  size_t max_output_bytes = 1 << 20;  // Kept per stream.
  bool stdin_stream = false;  // Standard input fed by WriteStdin.
};

// Makes this process the reaper of its descendants' orphans (Linux
// PR_SET_CHILD_SUBREAPER), so a command's background processes, once
// killed, are reaped by KillGroup instead of waiting for init. Process-wide
// and permanent; harmless for processes that start no children.
void BecomeSubreaper();

class ChildProcess {
 public:
  static Result<std::unique_ptr<ChildProcess>> Start(
      const ChildOptions& options);
  ~ChildProcess();  // Stop(1 s grace) then KillGroup().
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Reads available output and checks whether the shell has exited,
  // waiting up to `wait` for something to happen. Returns ended().
  bool Poll(Duration wait);
  bool ended() const { return outcome_.ended; }

  // SIGTERM to the group, SIGKILL after `grace`, then reaps the shell.
  // Idempotent; does nothing once the shell has ended on its own.
  void Stop(Duration grace);
  // SIGKILLs every process left in the group and waits (at most 2 s) until
  // the group is gone. Returns whether it is gone.
  bool KillGroup();
  // Whether any process of the group still exists.
  bool GroupAlive() const;

  // With stdin_stream: writes what the child's standard input takes now
  // without blocking; returns the bytes written (0 when it is full, closed
  // or the reader has gone; stdin_open() then tells which).
  size_t WriteStdin(std::string_view bytes);
  // Ends the child's standard input (it reads end of file). Idempotent.
  void CloseStdin();
  bool stdin_open() const { return in_fd_ >= 0; }

  pid_t pid() const { return pid_; }
  // The outcome so far (the output read so far, `ran` up to now).
  ChildOutcome outcome() const;

 private:
  ChildProcess(pid_t pid, int in_fd, int out_fd, int err_fd,
               size_t max_output,
               std::chrono::steady_clock::time_point started);
  void Drain(int& fd, std::string& text, bool& truncated);
  bool Reap(bool block);

  pid_t pid_;
  int in_fd_;  // -1: /dev/null, or closed.
  int out_fd_;
  int err_fd_;
  size_t max_output_;
  std::chrono::steady_clock::time_point started_;
  ChildOutcome outcome_;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_OS_CHILD_PROCESS_H_
