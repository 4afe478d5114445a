// The time seam of the delivery engine.
//
// The engine never reads the time or sleeps by itself: it asks a Clock. In
// the virtual world (VirtualClock) time jumps to the next timer; in the real
// world a loop thread runs the timers against a steady clock.
// Thread: ScheduleAfter and Now are called on the clock's loop thread only;
// callbacks run on that thread, never inline inside ScheduleAfter.
#ifndef HOOKSIM_SIM_ENGINE_CLOCK_H_
#define HOOKSIM_SIM_ENGINE_CLOCK_H_

#include <functional>

#include "sim/base/time.h"

namespace hooksim {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  // Runs fn on the loop thread at or after Now() + delay (a negative delay
  // counts as zero). Timers due at the same time run in the order they were
  // scheduled.
  virtual void ScheduleAfter(Duration delay, std::function<void()> fn) = 0;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_ENGINE_CLOCK_H_
