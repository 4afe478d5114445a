#include "sim/http/http_transport.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
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
    // io_threads 0: one loop, run by the clock's loop thread.
    const bool in_clock_loop = options_.io_threads == 0;
    const size_t threads =
        std::clamp<size_t>(options_.io_threads, 1, options_.workers);
    counts_->per_loop.assign(threads, 0);
    loops_.reserve(threads);
    for (size_t i = 0; i < threads; ++i) {
      HttpIoLoopOptions loop_options;
      // The connections, spread over the threads.
      loop_options.slots =
          options_.workers / threads + (i < options_.workers % threads);
      loop_options.max_idle = options_.max_idle;
      loop_options.in_clock_loop = in_clock_loop;
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
    Counts& counts = *counts_;
    if (shutdown_.load() ||
        counts.outstanding >= options_.workers + options_.max_queued) {
      ++rejected_;
      clock_.CompleteExternalWork([done = std::move(done)] {
        done(AttemptResult{AttemptError::kRefused, 0});
      });
      return;
    }
    // The loop with the fewest attempts; counts are kept on the clock's
    // loop thread (Send and completions both run there).
    size_t pick = 0;
    for (size_t i = 1; i < counts.per_loop.size(); ++i) {
      if (counts.per_loop[i] < counts.per_loop[pick]) pick = i;
    }
    ++counts.outstanding;
    ++counts.per_loop[pick];
    loops_[pick]->Submit(HttpIoJob{
        request, clock_.ToWall(timeout),
        [counts = counts_, pick, done = std::move(done)](AttemptResult r) {
          --counts->outstanding;
          --counts->per_loop[pick];
          done(r);
        }});
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
  // Attempts accepted and not yet completed on the clock's loop thread.
  // Shared with the completions, which may outlive the engine.
  struct Counts {
    size_t outstanding = 0;
    std::vector<size_t> per_loop;
  };

  EventLoop& clock_;
  HttpTransportOptions options_;
  AddressCache addresses_;
  HttpClientCounters counters_;
  std::atomic<uint64_t> rejected_{0};
  std::atomic<bool> shutdown_{false};
  std::shared_ptr<Counts> counts_ = std::make_shared<Counts>();
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
