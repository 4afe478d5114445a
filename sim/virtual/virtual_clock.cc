#include "sim/virtual/virtual_clock.h"

#include <algorithm>
#include <string>

#include "sim/base/check.h"

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
  if (delay == Duration::zero()) {
    // Due now: after every timer already due now (see due_now_).
    due_now_.push_back(slot);
    return;
  }
  // Time never goes below zero (delays are clamped to it); a delay past
  // the end of the timeline waits until its end.
  const uint64_t now = static_cast<uint64_t>(now_.time_since_epoch().count());
  const uint64_t room = static_cast<uint64_t>(INT64_MAX) - now;
  const uint64_t wait = static_cast<uint64_t>(delay.count());
  PushLater(Timer{now + std::min(wait, room), next_seq_++, slot});
}

void VirtualClock::PushLater(const Timer& timer) {
  std::vector<Timer>& bucket = later_[BucketOf(timer.at, last_)];
  if (&bucket == &later_[0]) {
    // Due at last_ (not reached with a positive delay, since last_ is
    // now_): the latest scheduled runs last, and bucket 0 runs from its
    // back.
    bucket.insert(bucket.begin(), timer);
  } else {
    bucket.push_back(timer);
  }
  ++later_count_;
}

bool VirtualClock::FillDueBucket() {
  if (!later_[0].empty()) return true;
  if (later_count_ == 0) return false;
  int b = 1;
  while (later_[b].empty()) ++b;  // Bounded: later_count_ > 0.
  std::vector<Timer>& from = later_[b];
  uint64_t earliest = UINT64_MAX;
  for (const Timer& t : from) earliest = std::min(earliest, t.at);
  // Every timer of bucket b moves to a lower bucket against the new last_
  // (they all share its bits above b - 1, and none is earlier than it).
  last_ = earliest;
  for (const Timer& t : from) later_[BucketOf(t.at, last_)].push_back(t);
  from.clear();
  // Timers due at one time run in schedule order: earliest at the back.
  std::vector<Timer>& due = later_[0];
  if (due.size() > 1) {
    std::sort(due.begin(), due.end(),
              [](const Timer& x, const Timer& y) { return x.seq > y.seq; });
  }
  return true;
}

void VirtualClock::Hand(std::vector<Handed> items) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Handed& h : items) inbox_.push_back(std::move(h));
    handed_.store(true, std::memory_order_release);
  }
  cv_.notify_one();
}

void VirtualClock::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    handed_.store(true, std::memory_order_release);
  }
  cv_.notify_one();
}

void VirtualClock::Post(std::function<void()> fn) {
  std::vector<Handed> items;
  items.push_back(Handed{std::move(fn), false});
  Hand(std::move(items));
}

void VirtualClock::CompleteExternalWork(std::function<void()> fn) {
  std::vector<Handed> items;
  items.push_back(Handed{std::move(fn), true});
  Hand(std::move(items));
}

void VirtualClock::CompleteExternalWorkBatch(
    std::vector<std::function<void()>>* fns) {
  if (fns->empty()) return;
  std::vector<Handed> items;
  items.reserve(fns->size());
  for (auto& fn : *fns) items.push_back(Handed{std::move(fn), true});
  fns->clear();
  Hand(std::move(items));
}

std::chrono::steady_clock::duration VirtualClock::ToWall(
    Duration run_time) const {
  if (run_time <= Duration(0)) return std::chrono::steady_clock::duration(0);
  return std::max<std::chrono::steady_clock::duration>(
      std::chrono::microseconds(1), run_time);
}

Status VirtualClock::Run(const LoopLimits& limits) {
  const auto deadline = std::chrono::steady_clock::now() + limits.wall_limit;
  uint64_t run_steps = 0;
  std::vector<Handed> ready;
  while (true) {
    if (handed_.load(std::memory_order_acquire)) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) {
          stop_ = false;
          handed_.store(!inbox_.empty(), std::memory_order_release);
          return Status::Ok();
        }
        ready.swap(inbox_);
        handed_.store(false, std::memory_order_release);
      }
      for (Handed& h : ready) {
        if (h.ends_external_work) {
          HOOKSIM_CHECK(outstanding_ > 0,
                        "VirtualClock: CompleteExternalWork without a "
                        "matching BeginExternalWork");
          --outstanding_;
        }
        ++run_steps;
        ++steps_;
        h.fn();
      }
      ready.clear();
      continue;
    }
    if (later_count_ == 0 && due_now_head_ == due_now_.size()) {
      if (outstanding_ == 0) return Status::Ok();
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_until(lock, deadline, [this] {
            return handed_.load(std::memory_order_acquire);
          })) {
        return Status::DeadlineExceeded(
            "the run did not finish within its wall-time limit: " +
            std::to_string(outstanding_) +
            " pieces of external work outstanding");
      }
      continue;
    }
    if (run_steps >= limits.max_steps) {
      return Status::DeadlineExceeded(
          "virtual clock stopped after " + std::to_string(limits.max_steps) +
          " timers with " + std::to_string(pending()) + " still pending");
    }
    // A delayed timer due now was scheduled before any timer in due_now_
    // (at an earlier time), so it runs first; then due_now_ in order; then
    // the clock moves on to the earliest delayed timer.
    const uint64_t now = static_cast<uint64_t>(now_.time_since_epoch().count());
    uint32_t slot;
    if (due_now_head_ < due_now_.size() &&
        (later_[0].empty() || last_ != now)) {
      slot = due_now_[due_now_head_++];
      if (due_now_head_ == due_now_.size()) {
        due_now_.clear();
        due_now_head_ = 0;
      }
    } else {
      (void)FillDueBucket();  // True: a timer waits (checked above).
      const Timer timer = later_[0].back();
      later_[0].pop_back();
      --later_count_;
      now_ = TimePoint(Duration(static_cast<int64_t>(timer.at)));
      slot = timer.slot;
    }
    std::function<void()> fn = std::move(slots_[slot]);
    slots_[slot] = nullptr;
    free_slots_.push_back(slot);
    ++run_steps;
    ++steps_;
    fn();
  }
}

}  // namespace hooksim
