// The real world's clock: a loop on the calling thread that runs timers
// against std::chrono::steady_clock, optionally compressed by a time scale.
//
// Run time: Now() starts at 0 (the same origin as the virtual clock) when the
// clock is constructed and advances at 1/time_scale times wall speed, so with
// time_scale 0.001 a 5 min retry delay passes in 300 ms of wall time. Every
// duration the engine hands to the clock is run time; ToWall() converts a
// run-time duration to the wall time it takes (transports and receivers use
// it for timeouts and latencies).
//
// External work: an asynchronous operation started on the loop thread (an
// HTTP attempt) calls BeginExternalWork() there, and finishes with exactly
// one CompleteExternalWork(fn) from any thread: fn then runs on the loop
// thread. Run() does not return while external work is outstanding.
// CompleteExternalWorkBatch hands over several completions at once;
// CompleteAttempts hands over attempts' `done` and result as they are
// (the HTTP transport's completions: no allocation per attempt).
// Completions run before timers that are due at the same moment.
//
// With a poller (SetPoller), the loop waits in it instead: completions
// made by the poller on the loop thread need no wake-up.
//
// Timers run in (due time, insertion) order; a timer never runs before
// Now() has reached its due time (ToWall rounds up). Limits: at most
// max_timers queued; Run() gives up after RealRunLimits::wall_limit.
//
// Thread: ScheduleAfter, BeginExternalWork and Run are for the loop thread
// (the thread that calls Run; before Run, the constructing thread).
// Now, ToWall, CompleteExternalWork(Batch) and Stop are safe from any
// thread.
// Ownership: whatever may still call CompleteExternalWork (transport
// workers) must be stopped before the clock is destroyed.
#ifndef HOOKSIM_SIM_HTTP_REAL_CLOCK_H_
#define HOOKSIM_SIM_HTTP_REAL_CLOCK_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "sim/base/result.h"
#include "sim/base/time.h"
#include "sim/engine/event_loop.h"

namespace hooksim {

// The former names of the loop's poller and limits.
using RealClockPoller = LoopPoller;
using RealRunLimits = LoopLimits;

struct RealClockOptions {
  // Wall seconds per run-time second; in (0, 1]. 0.001 runs hours in seconds.
  double time_scale = 1.0;
  // Limit on timers waiting at once; ScheduleAfter beyond it is a
  // programming error (checked, aborts with a message).
  size_t max_timers = 50'000'000;
};

class RealClock : public EventLoop {
 public:
  explicit RealClock(RealClockOptions options = {});
  RealClock(const RealClock&) = delete;
  RealClock& operator=(const RealClock&) = delete;

  TimePoint Now() const override;
  void ScheduleAfter(Duration delay, std::function<void()> fn) override;

  // Wall time that `run_time` takes at this clock's scale (at least 1 us for
  // a positive duration).
  std::chrono::steady_clock::duration ToWall(Duration run_time) const override;
  double time_scale() const { return options_.time_scale; }

  void BeginExternalWork() override;
  void CompleteExternalWork(std::function<void()> fn) override;
  // Completes fns->size() pieces of external work at once (one lock, one
  // wake-up), in order; empties *fns (its capacity is kept for reuse).
  void CompleteExternalWorkBatch(
      std::vector<std::function<void()>>* fns) override;
  // The same for attempts, queued as they are (no allocation once the
  // queue has grown to the batches' size).
  void CompleteAttempts(std::vector<AttemptCompletion>* batch) override;
  // Runs fn on the loop thread (with the completions); any thread.
  void Post(std::function<void()> fn) override;

  // Runs timers and completions until none is queued and no external work
  // is outstanding, Stop() was called, or a limit passed (an error).
  Status Run(const LoopLimits& limits) override;
  Status Run() { return Run(LoopLimits{}); }
  // Makes Run() return soon: after the callback running now, at most a
  // bounded pass of due timers. Pending timers, completions and external
  // work stay queued for a later Run(). A Stop() while Run() is not running
  // makes the next Run() return at once. Thread-safe (not async-signal-safe:
  // from a signal handler, hand over to a thread first).
  void Stop() override;

  // Makes Run() wait in poller->Poll (woken by CompleteExternalWork from
  // other threads and by Stop) instead of a condition variable; null
  // restores the condition variable. At most one poller: false (and no
  // change) when another one is set. Not while Run() is running; the
  // poller is borrowed until it is unset.
  bool SetPoller(LoopPoller* poller) override;

  // Loop thread only.
  size_t pending_timers() const { return timers_.size(); }
  int64_t outstanding_external_work() const { return outstanding_; }

 private:
  struct Timer {
    std::chrono::steady_clock::time_point at;
    uint64_t seq;
    std::function<void()> fn;
  };
  struct Later {
    bool operator()(const Timer& a, const Timer& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };

  RealClockOptions options_;
  std::chrono::steady_clock::time_point origin_;
  std::priority_queue<Timer, std::vector<Timer>, Later> timers_;
  uint64_t next_seq_ = 0;
  int64_t outstanding_ = 0;  // Loop thread only.

  // The poller to wake (after mu_ is released) when the loop waits in it
  // and the caller is another thread; else null. Under mu_.
  RealClockPoller* PollerToWake() const;

  // A completion: fn, or else done(result).
  struct Completion {
    std::function<void()> fn;
    std::function<void(AttemptResult)> done;
    AttemptResult result;
  };
  // Wakes the loop after a hand-over: the poller given (from
  // PollerToWake), and the condition variable.
  void WakeAfterHandover(LoopPoller* poller);

  std::mutex mu_;  // Guards completions_, stop_, poller_ and polling_.
  std::condition_variable cv_;
  // Vectors swapped with Run's own, so their capacity is reused: no
  // allocation per hand-over once they have grown.
  std::vector<Completion> completions_;
  std::vector<std::function<void()>> posted_;  // Post(): no external work.
  bool stop_ = false;
  RealClockPoller* poller_ = nullptr;
  bool polling_ = false;         // The loop is (about to be) in poller_->Poll.
  std::thread::id loop_thread_;  // The thread running Run().
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_HTTP_REAL_CLOCK_H_
