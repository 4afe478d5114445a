#include "sim/os/interrupt_watcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace hooksim {
namespace {

// The write end of the active watcher's pipe, or -1. Lock-free, so the
// signal handler may read it.
std::atomic<int> g_interrupt_fd{-1};
static_assert(std::atomic<int>::is_always_lock_free);

constexpr char kInterrupt = 'i';
constexpr char kTerminate = 't';
constexpr char kQuit = 'q';

void OnSigint(int sig) {
  const int saved_errno = errno;
  const int fd = g_interrupt_fd.load();
  if (fd >= 0) {
    const char byte = sig == SIGTERM ? kTerminate : kInterrupt;
    [[maybe_unused]] const ssize_t n = write(fd, &byte, 1);
  }
  errno = saved_errno;
}

}  // namespace

InterruptWatcher::InterruptWatcher(std::function<void()> on_interrupt,
                                   InterruptWatcherOptions options)
    : on_interrupt_(std::move(on_interrupt)),
      on_repeat_(std::move(options.on_repeat)),
      sigterm_(options.sigterm) {
  if (pipe2(pipe_, O_CLOEXEC) != 0) return;
  int expected = -1;
  if (!g_interrupt_fd.compare_exchange_strong(expected, pipe_[1])) {
    close(pipe_[0]);
    close(pipe_[1]);
    pipe_[0] = pipe_[1] = -1;
    return;
  }
  struct sigaction action {};
  action.sa_handler = OnSigint;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &previous_);
  if (sigterm_) sigaction(SIGTERM, &action, &previous_term_);
  installed_ = true;
  thread_ = std::thread([this] {
    // Ends on the destructor's kQuit (or a broken pipe).
    while (true) {
      char byte = 0;
      const ssize_t n = read(pipe_[0], &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || byte == kQuit) return;
      const int n_seen = ++count_;
      if (n_seen == 1) {
        signal_ = byte == kTerminate ? SIGTERM : SIGINT;
        interrupted_ = true;
        if (on_interrupt_) on_interrupt_();
      } else if (n_seen == 2 && on_repeat_) {
        on_repeat_();
      }
    }
  });
}

InterruptWatcher::~InterruptWatcher() {
  if (!installed_) return;
  sigaction(SIGINT, &previous_, nullptr);
  if (sigterm_) sigaction(SIGTERM, &previous_term_, nullptr);
  g_interrupt_fd.store(-1);
  [[maybe_unused]] const ssize_t n = write(pipe_[1], &kQuit, 1);
  thread_.join();
  close(pipe_[0]);
  close(pipe_[1]);
}

}  // namespace hooksim
