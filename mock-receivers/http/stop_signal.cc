#include "mock-receivers/http/stop_signal.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace hooksim {

StopSignal::StopSignal() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

StopSignal::~StopSignal() {
  if (fd_ >= 0) close(fd_);
}

void StopSignal::Raise() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (raised_.exchange(true, std::memory_order_acq_rel)) return;
  }
  cv_.notify_all();
  if (fd_ >= 0) {
    const uint64_t one = 1;
    // Non-blocking; the counter cannot overflow from one write.
    [[maybe_unused]] ssize_t n = write(fd_, &one, sizeof(one));
  }
}

bool StopSignal::WaitUntil(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  // wait_until returns on the predicate or the deadline (spurious wake-ups
  // are absorbed by the predicate).
  return !cv_.wait_until(lock, deadline, [this] {
    return raised_.load(std::memory_order_acquire);
  });
}

}  // namespace hooksim
