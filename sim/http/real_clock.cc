#include "sim/http/real_clock.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "sim/base/check.h"

namespace hooksim {
namespace {

// 100 years of nanoseconds: ToWall's ceiling, well inside int64.
constexpr double kMaxWallNanos = 100.0 * 365 * 24 * 3600 * 1e9;
// Due timers run per pass of Run's loop before it looks at completions and
// Stop() again: bounds the inner loop and keeps Stop() responsive.
constexpr size_t kMaxTimersPerPass = 4096;

}  // namespace

RealClock::RealClock(RealClockOptions options)
    : options_(options), origin_(std::chrono::steady_clock::now()) {
  HOOKSIM_CHECK(options_.time_scale > 0 && options_.time_scale <= 1,
                "RealClock: time_scale must be in (0, 1], got %g",
                options_.time_scale);
}

TimePoint RealClock::Now() const {
  const std::chrono::duration<double, std::micro> wall =
      std::chrono::steady_clock::now() - origin_;
  return TimePoint(
      Duration(static_cast<int64_t>(wall.count() / options_.time_scale)));
}

std::chrono::steady_clock::duration RealClock::ToWall(Duration run_time) const {
  if (run_time <= Duration(0)) return std::chrono::steady_clock::duration(0);
  // Rounded up, so that a timer never fires before Now() has reached its
  // due time (truncation could make it fire up to 1/time_scale ns early,
  // which Now() can see as a whole microsecond). Clamped far below
  // int64 overflow (~292 years of nanoseconds).
  double ns = std::ceil(static_cast<double>(run_time.count()) * 1000.0 *
                        options_.time_scale);
  ns = std::min(ns, kMaxWallNanos);
  return std::max<std::chrono::steady_clock::duration>(
      std::chrono::microseconds(1),
      std::chrono::nanoseconds(static_cast<int64_t>(ns)));
}

void RealClock::ScheduleAfter(Duration delay, std::function<void()> fn) {
  HOOKSIM_CHECK(timers_.size() < options_.max_timers,
                "RealClock: more than %zu timers queued", options_.max_timers);
  // Due times are kept on the run timeline's wall image so that a timer
  // scheduled at run time t fires when Now() reaches t + delay.
  const auto now = std::chrono::steady_clock::now();
  timers_.push(Timer{now + ToWall(delay), next_seq_++, std::move(fn)});
}

void RealClock::BeginExternalWork() { ++outstanding_; }

void RealClock::CompleteExternalWork(std::function<void()> fn) {
  LoopPoller* wake = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    completions_.push_back(Completion{std::move(fn), nullptr, {}});
    wake = PollerToWake();
  }
  WakeAfterHandover(wake);
}

void RealClock::WakeAfterHandover(LoopPoller* poller) {
  if (poller) poller->Wake();
  // No system call when the loop thread is not waiting on it.
  cv_.notify_one();
}

LoopPoller* RealClock::PollerToWake() const {
  // A completion the loop thread makes itself, inside Poll, is seen when
  // Poll returns: no wake-up.
  return polling_ && std::this_thread::get_id() != loop_thread_ ? poller_
                                                                : nullptr;
}

bool RealClock::SetPoller(LoopPoller* poller) {
  std::lock_guard<std::mutex> lock(mu_);
  if (poller != nullptr && poller_ != nullptr && poller != poller_) {
    return false;
  }
  poller_ = poller;
  return true;
}

void RealClock::CompleteExternalWorkBatch(
    std::vector<std::function<void()>>* fns) {
  if (fns->empty()) return;
  LoopPoller* wake = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& fn : *fns) {
      completions_.push_back(Completion{std::move(fn), nullptr, {}});
    }
    wake = PollerToWake();
  }
  fns->clear();
  WakeAfterHandover(wake);
}

void RealClock::CompleteAttempts(std::vector<AttemptCompletion>* batch) {
  if (batch->empty()) return;
  LoopPoller* wake = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (AttemptCompletion& c : *batch) {
      completions_.push_back(Completion{nullptr, std::move(c.done), c.result});
    }
    wake = PollerToWake();
  }
  batch->clear();
  WakeAfterHandover(wake);
}

void RealClock::Post(std::function<void()> fn) {
  LoopPoller* wake = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    posted_.push_back(std::move(fn));
    wake = PollerToWake();
  }
  WakeAfterHandover(wake);
}

void RealClock::Stop() {
  LoopPoller* wake = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    wake = PollerToWake();
  }
  WakeAfterHandover(wake);
}

Status RealClock::Run(const LoopLimits& limits) {
  const auto deadline = std::chrono::steady_clock::now() + limits.wall_limit;
  {
    std::lock_guard<std::mutex> lock(mu_);
    loop_thread_ = std::this_thread::get_id();
  }
  std::vector<Completion> ready;
  std::vector<std::function<void()>> posted;
  uint64_t steps = 0;
  while (true) {
    if (steps >= limits.max_steps) {
      return Status::DeadlineExceeded(
          "the real clock stopped after " + std::to_string(limits.max_steps) +
          " callbacks with " + std::to_string(timers_.size()) +
          " timers queued");
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stop_) {
        stop_ = false;
        return Status::Ok();
      }
      if (completions_.empty() && posted_.empty()) {
        if (timers_.empty() && outstanding_ == 0) return Status::Ok();
        auto wake = deadline;
        if (!timers_.empty() && timers_.top().at < wake)
          wake = timers_.top().at;
        if (poller_ != nullptr) {
          polling_ = true;
          LoopPoller* poller = poller_;
          lock.unlock();
          poller->Poll(wake);
          lock.lock();
          polling_ = false;
        } else {
          cv_.wait_until(lock, wake, [this] {
            return stop_ || !completions_.empty() || !posted_.empty();
          });
        }
        if (stop_) continue;
      }
      ready.swap(completions_);
      posted.swap(posted_);
    }
    // Completions first (each ends one piece of external work), then every
    // timer that is due, in (due time, insertion) order.
    for (Completion& c : ready) {
      HOOKSIM_CHECK(outstanding_ > 0,
                    "RealClock: CompleteExternalWork without a matching "
                    "BeginExternalWork");
      --outstanding_;
      ++steps;
      if (c.fn) {
        c.fn();
      } else {
        c.done(c.result);
      }
    }
    ready.clear();
    for (auto& fn : posted) {
      ++steps;
      fn();
    }
    posted.clear();
    // Timers scheduled by these callbacks are due after `now` (their due
    // time is read later), so this pass ends; it is also capped.
    const auto now = std::chrono::steady_clock::now();
    for (size_t ran = 0;
         ran < kMaxTimersPerPass && !timers_.empty() && timers_.top().at <= now;
         ++ran) {
      // priority_queue::top is const; the timer is moved out before pop.
      std::function<void()> fn =
          std::move(const_cast<Timer&>(timers_.top()).fn);
      timers_.pop();
      ++steps;
      fn();
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::DeadlineExceeded(
          "the run did not finish within its wall-time limit (" +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                             limits.wall_limit)
                             .count()) +
          " s): " + std::to_string(outstanding_) + " attempts in flight, " +
          std::to_string(timers_.size()) + " timers queued");
    }
  }
}

}  // namespace hooksim
