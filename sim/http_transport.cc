#include "sim/http_transport.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "sim/address_cache.h"
#include "sim/http_client.h"

namespace hooksim {

class HttpTransport::Impl {
 public:
  Impl(RealClock& clock, HttpTransportOptions options)
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

  ~Impl() {
    Shutdown();
    close(cancel_pipe_[0]);
    close(cancel_pipe_[1]);
  }

  void Send(const HttpRequest& request, Duration timeout,
            std::function<void(AttemptResult)> done) {
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

  void Shutdown() {
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

  HttpTransportStats stats() const {
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

HttpTransport::HttpTransport(RealClock& clock, HttpTransportOptions options)
    : impl_(std::make_unique<Impl>(clock, options)) {}

HttpTransport::~HttpTransport() = default;

void HttpTransport::Send(const HttpRequest& request, Duration timeout,
                         std::function<void(AttemptResult)> done) {
  impl_->Send(request, timeout, std::move(done));
}

void HttpTransport::Shutdown() { impl_->Shutdown(); }

HttpTransportStats HttpTransport::stats() const { return impl_->stats(); }

}  // namespace hooksim
