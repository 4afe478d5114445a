// A one-shot stop flag that sleeping threads can wait on, either with a
// condition variable (WaitUntil) or with poll() on a descriptor (fd()), so
// a server can wake its sleeping and hanging handlers at once on Stop.
//
// Thread: every member is safe to call from any thread. Errors: when the
// kernel refuses an eventfd, valid() is false (WaitUntil still works; the
// owner should refuse to start). Ownership: the descriptor is owned and
// closed by the destructor.
#ifndef HOOKSIM_MOCK_RECEIVERS_HTTP_STOP_SIGNAL_H_
#define HOOKSIM_MOCK_RECEIVERS_HTTP_STOP_SIGNAL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace hooksim {

class StopSignal {
 public:
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  bool valid() const { return fd_ >= 0; }

  // Raises the flag, wakes every WaitUntil and makes fd() readable.
  // Idempotent.
  void Raise();
  bool raised() const { return raised_.load(std::memory_order_acquire); }

  // Sleeps until `deadline` or until Raise(), whichever is first. Returns
  // true when the deadline was reached without a stop.
  bool WaitUntil(std::chrono::steady_clock::time_point deadline);

  // Readable (POLLIN) once raised; never read from it. -1 when !valid().
  int fd() const { return fd_; }

 private:
  std::atomic<bool> raised_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  int fd_ = -1;
};

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_HTTP_STOP_SIGNAL_H_
