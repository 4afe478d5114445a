// Virtual time: a timer heap whose time jumps to the next timer.
//
// Ties are broken by insertion order, so a run is a pure function of its
// inputs. Run() executes timers until none is left or a step limit is hit
// (every loop in hooksim is bounded).
// Thread: single-threaded; everything runs on the caller of Run().
#ifndef HOOKSIM_SIM_VIRTUAL_VIRTUAL_CLOCK_H_
#define HOOKSIM_SIM_VIRTUAL_VIRTUAL_CLOCK_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/base/result.h"
#include "sim/engine/clock.h"

namespace hooksim {

class VirtualClock : public Clock {
 public:
  VirtualClock() = default;
  VirtualClock(const VirtualClock&) = delete;
  VirtualClock& operator=(const VirtualClock&) = delete;

  TimePoint Now() const override { return now_; }
  void ScheduleAfter(Duration delay, std::function<void()> fn) override;

  // Runs timers in (time, insertion) order until none is left. Stops with an
  // error after max_steps timers (the run is then incomplete).
  Status Run(uint64_t max_steps);

  size_t pending() const { return heap_.size(); }
  uint64_t steps() const { return steps_; }

 private:
  struct Timer {
    TimePoint at;
    uint64_t seq;
    uint32_t slot;
  };
  struct Later {
    bool operator()(const Timer& a, const Timer& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };

  TimePoint now_{};
  uint64_t next_seq_ = 0;
  uint64_t steps_ = 0;
  std::vector<Timer> heap_;
  std::vector<std::function<void()>> slots_;  // Callbacks, by slot.
  std::vector<uint32_t> free_slots_;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_VIRTUAL_VIRTUAL_CLOCK_H_
