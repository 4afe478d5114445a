#include "sim/http/http_transport.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "sim/http/address_cache.h"
#include "sim/http/http_wire.h"
#include "sim/http/http_io_loop.h"

namespace hooksim {

class HttpTransport::Impl {
 public:
  virtual ~Impl() = default;
  virtual void Send(const HttpRequest& request, Duration timeout,
                    std::function<void(AttemptResult)> done) = 0;
  virtual void Shutdown() = 0;
  virtual HttpTransportStats stats() const = 0;
};

namespace {

// The event-driven engine: io_threads HttpIoLoops share the attempts.
class EventLoopEngine : public HttpTransport::Impl {
 public:
  EventLoopEngine(EventLoop& clock, HttpTransportOptions options)
      : clock_(clock), options_(options) {
    options_.workers = std::clamp<size_t>(options_.workers, 1, 1024);
    // io_threads 0: one loop, run by the clock's loop thread; with
    // share_loop_thread, loop 0 is run by it and the others by their own
    // threads.
    const bool all_in_clock_loop = options_.io_threads == 0;
    const bool first_in_clock_loop =
        all_in_clock_loop || options_.share_loop_thread;
    const size_t loops = std::clamp<size_t>(
        options_.io_threads + (all_in_clock_loop ? 0 : first_in_clock_loop),
        1, options_.workers);
    loops_.reserve(loops);
    for (size_t i = 0; i < loops; ++i) {
      HttpIoLoopOptions loop_options;
      // The connections, spread over the loops.
      loop_options.slots =
          options_.workers / loops + (i < options_.workers % loops);
      loop_options.max_idle = options_.max_idle;
      loop_options.in_clock_loop = i == 0 && first_in_clock_loop;
      loop_options.parser = HttpAnswerParserOptions{
          options_.max_answer_head_bytes, options_.max_drained_body_bytes};
      loops_.push_back(std::make_unique<HttpIoLoop>(clock_, addresses_,
                                                    counters_, loop_options));
    }
  }

  ~EventLoopEngine() override { Shutdown(); }

  void Send(const HttpRequest& request, Duration timeout,
            std::function<void(AttemptResult)> done) override {
    clock_.BeginExternalWork();
    // The loop with the fewest unfinished attempts, and the total.
    size_t pick = 0;
    size_t least = SIZE_MAX;
    size_t outstanding = 0;
    for (size_t i = 0; i < loops_.size(); ++i) {
      const size_t n = loops_[i]->unfinished();
      outstanding += n;
      if (n < least) {
        least = n;
        pick = i;
      }
    }
    if (shutdown_.load() ||
        outstanding >= options_.workers + options_.max_queued) {
      ++rejected_;
      clock_.CompleteExternalWork([done = std::move(done)] {
        done(AttemptResult{AttemptError::kRefused, 0});
      });
      return;
    }
    // `done` goes to the loop as it is: no wrapper, no allocation.
    loops_[pick]->Submit(
        HttpIoJob{request, clock_.ToWall(timeout), std::move(done)});
  }

  void Shutdown() override {
    if (shutdown_.exchange(true)) return;
    for (auto& loop : loops_) loop->Stop();
  }

  HttpTransportStats stats() const override {
    return HttpTransportStats{counters_.connections_opened.load(),
                              counters_.connections_reused.load(),
                              counters_.stale_connections.load(),
                              rejected_.load()};
  }

 private:
  EventLoop& clock_;
  HttpTransportOptions options_;
  AddressCache addresses_;
  HttpClientCounters counters_;
  std::atomic<uint64_t> rejected_{0};
  std::atomic<bool> shutdown_{false};
  std::vector<std::unique_ptr<HttpIoLoop>> loops_;
};

std::unique_ptr<HttpTransport::Impl> MakeEngine(EventLoop& clock,
                                                HttpTransportOptions options) {
  return std::make_unique<EventLoopEngine>(clock, options);
}

}  // namespace

HttpTransport::HttpTransport(EventLoop& clock, HttpTransportOptions options)
    : impl_(MakeEngine(clock, options)) {}

HttpTransport::~HttpTransport() = default;

void HttpTransport::Send(const HttpRequest& request, Duration timeout,
                         std::function<void(AttemptResult)> done) {
  impl_->Send(request, timeout, std::move(done));
}

void HttpTransport::Shutdown() { impl_->Shutdown(); }

HttpTransportStats HttpTransport::stats() const { return impl_->stats(); }

}  // namespace hooksim
