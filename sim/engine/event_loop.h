// The loop a world runs on: a Clock that also runs its own timers, takes
// work handed over from other threads, and can be stopped. The virtual world
// (VirtualClock: time jumps to the next timer) and the real one (RealClock:
// timers against a steady clock) are both an EventLoop, so the runner, the
// HTTP transport and the commands drive either the same way.
//
// External work: an asynchronous operation started on the loop thread (an
// HTTP attempt) calls BeginExternalWork() there and ends with exactly one
// CompleteExternalWork(fn) from any thread: fn then runs on the loop thread.
// Run() does not return while external work is outstanding. Post(fn) hands
// over work that was never begun. Both run before timers due at the same
// moment.
// Thread: Now, ScheduleAfter, BeginExternalWork and Run on the loop thread
// (the thread that calls Run; before Run, the constructing thread); Stop,
// Post, CompleteExternalWork(Batch) and ToWall from any thread.
#ifndef HOOKSIM_SIM_ENGINE_EVENT_LOOP_H_
#define HOOKSIM_SIM_ENGINE_EVENT_LOOP_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "sim/base/result.h"
#include "sim/base/time.h"
#include "sim/contract/http_types.h"
#include "sim/engine/clock.h"

namespace hooksim {

// When Run() gives up (with an error naming the limit).
struct LoopLimits {
  // Callbacks run (timers and handed-over work).
  uint64_t max_steps = std::numeric_limits<uint64_t>::max();
  // Wall time spent in Run().
  std::chrono::steady_clock::duration wall_limit = std::chrono::hours(24);
};

// One attempt's end, handed to the loop thread (CompleteAttempts): done
// runs there with result.
struct AttemptCompletion {
  std::function<void(AttemptResult)> done;
  AttemptResult result;
};

// What a loop may wait in instead of a condition variable (SetPoller): an
// I/O multiplexer (HttpTransport's in-loop engine), so the loop thread
// itself reads answers and runs their `done`.
class LoopPoller {
 public:
  virtual ~LoopPoller() = default;
  // Loop thread: waits until `until` (time_point::max(): no limit), I/O
  // readiness or Wake(), whichever is first, and handles what is ready
  // (it may call CompleteExternalWork*). May return early.
  virtual void Poll(std::chrono::steady_clock::time_point until) = 0;
  // Any thread: makes a Poll in progress, or the next one, return soon.
  virtual void Wake() = 0;
};

class EventLoop : public Clock {
 public:
  // Runs timers, completions and posted work until none is left and no
  // external work is outstanding, Stop() was called (no error), or a limit
  // is reached (an error; what is pending stays queued).
  virtual Status Run(const LoopLimits& limits) = 0;
  // Makes Run() return soon; a Stop() while Run() is not running makes the
  // next Run() return at once.
  virtual void Stop() = 0;
  virtual void Post(std::function<void()> fn) = 0;

  virtual void BeginExternalWork() = 0;
  virtual void CompleteExternalWork(std::function<void()> fn) = 0;
  // Completes fns->size() pieces of external work at once, in order;
  // empties *fns (its capacity is kept for reuse).
  virtual void CompleteExternalWorkBatch(
      std::vector<std::function<void()>>* fns) = 0;
  // The same for attempts: each done(result) runs on the loop thread, in
  // order, and ends one piece of external work; empties *batch (capacity
  // kept). The default wraps each in a function (an allocation per
  // attempt); a loop that queues them as they are needs none.
  virtual void CompleteAttempts(std::vector<AttemptCompletion>* batch) {
    std::vector<std::function<void()>> fns;
    fns.reserve(batch->size());
    for (AttemptCompletion& c : *batch) {
      fns.push_back([done = std::move(c.done), result = c.result] {
        done(result);
      });
    }
    batch->clear();
    CompleteExternalWorkBatch(&fns);
  }

  // Wall time that `run_time` takes on this loop (the virtual loop: the
  // same duration, at least 1 us when positive).
  virtual std::chrono::steady_clock::duration ToWall(
      Duration run_time) const = 0;

  // Makes Run() wait in `poller` (null: no poller). False, and no change,
  // when the loop cannot poll or another poller is set. Not while Run()
  // is running; the poller is borrowed until it is unset.
  virtual bool SetPoller(LoopPoller* poller) = 0;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_ENGINE_EVENT_LOOP_H_
