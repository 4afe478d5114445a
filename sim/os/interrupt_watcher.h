// Turns SIGINT (Ctrl-C) into a call on an ordinary thread, where it may
// take locks (RealClock::Stop is not async-signal-safe).
//
// While an InterruptWatcher exists, SIGINT runs a handler that only writes
// one byte to a pipe; the watcher's thread reads it and calls on_interrupt
// for the first signal, and options.on_repeat (when set) for the second;
// later ones are ignored while the watcher lives.
// The destructor restores the previous SIGINT disposition and joins the
// thread. With options.sigterm, SIGTERM is handled the same way. At most
// one watcher may exist at a time in a process; a second
// one installs nothing and never fires (installed() is false).
// Thread: construct and destroy on one thread; on_interrupt runs on the
// watcher's thread and must be thread-safe with respect to the owner.
#ifndef HOOKSIM_SIM_OS_INTERRUPT_WATCHER_H_
#define HOOKSIM_SIM_OS_INTERRUPT_WATCHER_H_

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

namespace hooksim {

struct InterruptWatcherOptions {
  // Also turn SIGTERM into on_interrupt (long-running commands: `worker`).
  bool sigterm = false;
  // Called (on the watcher's thread) on the second signal: "stop at once".
  std::function<void()> on_repeat;
};

class InterruptWatcher {
 public:
  explicit InterruptWatcher(std::function<void()> on_interrupt,
                            InterruptWatcherOptions options = {});
  ~InterruptWatcher();
  InterruptWatcher(const InterruptWatcher&) = delete;
  InterruptWatcher& operator=(const InterruptWatcher&) = delete;

  bool installed() const { return installed_; }
  // True once a SIGINT has been handled (on_interrupt has been called).
  bool interrupted() const { return interrupted_; }
  // The first signal handled (SIGINT or SIGTERM), 0 when none.
  int signal() const { return signal_; }
  // Signals handled so far.
  int count() const { return count_; }
  // The conventional exit code for signal(): 128 + its number (130, 143);
  // 0 before one has.
  int exit_code() const { return signal_ == 0 ? 0 : 128 + signal_; }

 private:
  std::function<void()> on_interrupt_;
  bool installed_ = false;
  std::function<void()> on_repeat_;
  std::atomic<bool> interrupted_{false};
  std::atomic<int> signal_{0};
  std::atomic<int> count_{0};
  int pipe_[2] = {-1, -1};
  struct sigaction previous_ {};
  bool sigterm_ = false;
  struct sigaction previous_term_ {};
  std::thread thread_;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_OS_INTERRUPT_WATCHER_H_
