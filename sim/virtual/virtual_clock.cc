#include "sim/virtual/virtual_clock.h"

#include <algorithm>
#include <string>

namespace hooksim {

void VirtualClock::ScheduleAfter(Duration delay, std::function<void()> fn) {
  if (delay < Duration::zero()) delay = Duration::zero();
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot] = std::move(fn);
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back(std::move(fn));
  }
  heap_.push_back(Timer{now_ + delay, next_seq_++, slot});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
}

Status VirtualClock::Run(uint64_t max_steps) {
  uint64_t run_steps = 0;
  while (!heap_.empty()) {
    if (run_steps >= max_steps) {
      return MakeError("virtual clock stopped after " +
                       std::to_string(max_steps) + " timers with " +
                       std::to_string(heap_.size()) + " still pending");
    }
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    const Timer timer = heap_.back();
    heap_.pop_back();
    now_ = timer.at;
    std::function<void()> fn = std::move(slots_[timer.slot]);
    slots_[timer.slot] = nullptr;
    free_slots_.push_back(timer.slot);
    ++run_steps;
    ++steps_;
    fn();
  }
  return std::nullopt;
}

}  // namespace hooksim
