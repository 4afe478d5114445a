// Virtual time: timers whose time jumps to the next one; the virtual
// world's EventLoop.
//
// Timers due later wait in a radix heap (a monotone priority queue: virtual
// time never goes back, so a timer only ever moves towards the bucket of
// "due now", O(log of the delay) moves in all, each a sequential append),
// which keeps its cost per timer flat with 100,000 deliveries waiting for
// their re-attempts, where a binary heap's sift walked cold memory. Timers
// due at once skip it: a queue.
//
// Ties are broken by insertion order, so a run is a pure function of its
// inputs. Run() executes timers until none is left or a step limit is hit
// (every loop in hooksim is bounded). Work handed over from other threads
// (Post, CompleteExternalWork) runs at the current virtual time before the
// next timer; while external work is outstanding and no timer is left, Run()
// waits for it (bounded by the wall limit).
// Thread: everything runs on the caller of Run(); Stop, Post and
// CompleteExternalWork(Batch) are safe from any thread.
#ifndef HOOKSIM_SIM_VIRTUAL_VIRTUAL_CLOCK_H_
#define HOOKSIM_SIM_VIRTUAL_VIRTUAL_CLOCK_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "sim/base/result.h"
#include "sim/engine/event_loop.h"

namespace hooksim {

class VirtualClock : public EventLoop {
 public:
  VirtualClock() = default;
  VirtualClock(const VirtualClock&) = delete;
  VirtualClock& operator=(const VirtualClock&) = delete;

  TimePoint Now() const override { return now_; }
  void ScheduleAfter(Duration delay, std::function<void()> fn) override;

  // Runs timers in (time, insertion) order until none is left. Stops with an
  // error after limits.max_steps callbacks (the run is then incomplete).
  Status Run(const LoopLimits& limits) override;
  Status Run(uint64_t max_steps) { return Run(LoopLimits{max_steps}); }
  void Stop() override;
  void Post(std::function<void()> fn) override;

  void BeginExternalWork() override { ++outstanding_; }
  void CompleteExternalWork(std::function<void()> fn) override;
  void CompleteExternalWorkBatch(
      std::vector<std::function<void()>>* fns) override;
  // Virtual time has no wall image: the same duration (at least 1 us when
  // positive).
  std::chrono::steady_clock::duration ToWall(Duration run_time) const override;
  // A virtual loop never waits in a poller: true only for null.
  bool SetPoller(LoopPoller* poller) override { return poller == nullptr; }

  size_t pending() const {
    return later_count_ + (due_now_.size() - due_now_head_);
  }
  uint64_t steps() const { return steps_; }

 private:
  struct Timer {
    uint64_t at;  // Microseconds since the clock's zero (never negative).
    uint64_t seq;
    uint32_t slot;
  };
  // Buckets of the radix heap: bucket 0 holds the timers due at last_ (in
  // schedule order, see PopLater); bucket b > 0 those whose time differs
  // from last_ first in bit b - 1 (counting from the least significant).
  static constexpr int kBuckets = 65;
  static int BucketOf(uint64_t at, uint64_t last) {
    return at == last ? 0 : 64 - __builtin_clzll(at ^ last);
  }
  void PushLater(const Timer& timer);
  // Moves the earliest timers into bucket 0 (sorted by seq, earliest at
  // the back) and returns true, or returns false when no timer waits.
  bool FillDueBucket();
  struct Handed {
    std::function<void()> fn;
    bool ends_external_work;
  };
  void Hand(std::vector<Handed> items);

  TimePoint now_{};
  uint64_t next_seq_ = 0;
  uint64_t steps_ = 0;
  int64_t outstanding_ = 0;  // Loop thread only.
  // Timers with a delay (due later than when they were scheduled): the
  // radix heap's buckets, keyed against last_ (the time of the latest
  // timer taken from them, which is now_ once it ran).
  std::vector<Timer> later_[kBuckets];
  uint64_t last_ = 0;
  size_t later_count_ = 0;
  // Timers scheduled with no delay, in order: due at now_, after the radix
  // heap's timers due at now_ (those were scheduled earlier, so have lower
  // sequence numbers). Most timers of a run (every first attempt) skip the
  // heap this way. Entries before due_now_head_ have run.
  std::vector<uint32_t> due_now_;
  size_t due_now_head_ = 0;
  std::vector<std::function<void()>> slots_;  // Callbacks, by slot.
  std::vector<uint32_t> free_slots_;

  // Handed over from any thread; `handed_` is set when inbox_ or stop_ has
  // something, so the loop reads one atomic per step and takes no lock.
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Handed> inbox_;  // Under mu_.
  bool stop_ = false;          // Under mu_.
  std::atomic<bool> handed_{false};
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_VIRTUAL_VIRTUAL_CLOCK_H_
