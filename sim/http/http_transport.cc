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
#include "sim/http/http_client.h"
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
  EventLoopEngine(RealClock& clock, HttpTransportOptions options)
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

  RealClock& clock_;
  HttpTransportOptions options_;
  AddressCache addresses_;
  HttpClientCounters counters_;
  std::atomic<uint64_t> rejected_{0};
  std::atomic<bool> shutdown_{false};
  std::shared_ptr<Counts> counts_ = std::make_shared<Counts>();
  std::vector<std::unique_ptr<HttpIoLoop>> loops_;
};

// One blocking HttpClient per worker thread.
class WorkerThreadsEngine : public HttpTransport::Impl {
 public:
  WorkerThreadsEngine(RealClock& clock, HttpTransportOptions options)
      : clock_(clock), options_(options) {
    options_.workers = std::clamp<size_t>(options_.workers, 1, 1024);
    if (pipe2(cancel_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
      std::perror("HttpTransport: pipe2");
      std::abort();
    }
    workers_.reserve(options_.workers);
    for (size_t i = 0; i < options_.workers; ++i) {
      workers_.emplace_back([this] { WorkerLoop(); });
    }
  }

  ~WorkerThreadsEngine() override {
    Shutdown();
    close(cancel_pipe_[0]);
    close(cancel_pipe_[1]);
  }

  void Send(const HttpRequest& request, Duration timeout,
            std::function<void(AttemptResult)> done) override {
    clock_.BeginExternalWork();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!shutdown_ && queue_.size() < options_.max_queued) {
        queue_.push_back(Job{request, timeout, std::move(done)});
        cv_.notify_one();
        return;
      }
    }
    ++rejected_;
    clock_.CompleteExternalWork([done = std::move(done)] {
      done(AttemptResult{AttemptError::kRefused, 0});
    });
  }

  void Shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shutdown_) return;
      shutdown_ = true;
      queue_.clear();
    }
    // The byte is never read: the pipe stays readable, so every wait of
    // every client ends from now on.
    const char byte = 'x';
    [[maybe_unused]] const ssize_t n = write(cancel_pipe_[1], &byte, 1);
    cv_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  HttpTransportStats stats() const override {
    return HttpTransportStats{counters_.connections_opened.load(),
                              counters_.connections_reused.load(),
                              counters_.stale_connections.load(),
                              rejected_.load()};
  }

 private:
  struct Job {
    HttpRequest request;
    Duration timeout;
    std::function<void(AttemptResult)> done;
  };

  void WorkerLoop() {
    HttpClientOptions client_options;
    client_options.max_idle = options_.max_idle;
    client_options.max_head_bytes = options_.max_answer_head_bytes;
    client_options.max_drained_body_bytes = options_.max_drained_body_bytes;
    client_options.cancel_fd = cancel_pipe_[0];
    HttpClient client(addresses_, client_options, &counters_);
    // Runs until Shutdown(); each job is bounded by its deadline.
    while (true) {
      Job job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return shutdown_ || !queue_.empty(); });
        if (shutdown_) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      const auto deadline =
          std::chrono::steady_clock::now() + clock_.ToWall(job.timeout);
      const AttemptResult result = client.Send(job.request, deadline);
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (shutdown_) return;  // Abandoned: see Shutdown's contract.
      }
      clock_.CompleteExternalWork(
          [done = std::move(job.done), result] { done(result); });
    }
  }

  RealClock& clock_;
  HttpTransportOptions options_;
  AddressCache addresses_;
  HttpClientCounters counters_;
  std::atomic<uint64_t> rejected_{0};
  int cancel_pipe_[2] = {-1, -1};

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool shutdown_ = false;
  std::vector<std::thread> workers_;
};

std::unique_ptr<HttpTransport::Impl> MakeEngine(RealClock& clock,
                                                HttpTransportOptions options) {
  if (options.engine == HttpTransportEngine::kWorkerThreads) {
    return std::make_unique<WorkerThreadsEngine>(clock, options);
  }
  return std::make_unique<EventLoopEngine>(clock, options);
}

}  // namespace

HttpTransport::HttpTransport(RealClock& clock, HttpTransportOptions options)
    : impl_(MakeEngine(clock, options)) {}

HttpTransport::~HttpTransport() = default;

void HttpTransport::Send(const HttpRequest& request, Duration timeout,
                         std::function<void(AttemptResult)> done) {
  impl_->Send(request, timeout, std::move(done));
}

void HttpTransport::Shutdown() { impl_->Shutdown(); }

HttpTransportStats HttpTransport::stats() const { return impl_->stats(); }

}  // namespace hooksim
