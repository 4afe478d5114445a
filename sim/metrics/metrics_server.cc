#include "sim/metrics/metrics_server.h"

#include <httplib.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>

#include "sim/metrics/metrics.h"
#include "sim/os/bind_probe.h"

namespace hooksim {
namespace {

// Start() waits at most this long for the server to accept connections.
constexpr auto kStartTimeout = std::chrono::seconds(5);
// Scrapes served at once; more wait in the pool's queue.
constexpr size_t kServingThreads = 2;

}  // namespace

class MetricsServer::Impl {
 public:
  Impl(std::shared_ptr<prometheus::Registry> registry,
       MetricsServerOptions options)
      : registry_(std::move(registry)), options_(std::move(options)) {}
  ~Impl() { Stop(); }

  Status Start() {
    const std::string where =
        options_.host + ":" + std::to_string(options_.port);
    if (started_) {
      return Status::FailedPrecondition(where + ": already started");
    }
    started_ = true;
    if (options_.port < 0 || options_.port > 65535) {
      return Status::InvalidArgument(where + ": port must be 0..65535");
    }
    server_.new_task_queue = [] {
      return new httplib::ThreadPool(kServingThreads);
    };
    // Only SO_REUSEADDR (cpp-httplib's default adds SO_REUSEPORT, which
    // would let a second server share a port in use).
    server_.set_socket_options([](socket_t sock) {
      const int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    server_.set_read_timeout(std::chrono::seconds(5));
    server_.set_write_timeout(std::chrono::seconds(5));
    server_.Get(std::string(kMetricsPath),
                [this](const httplib::Request&, httplib::Response& res) {
                  std::string text;
                  {
                    std::lock_guard<std::mutex> lock(scrape_mu_);
                    if (options_.before_scrape) options_.before_scrape();
                    text = RenderMetrics(*registry_);
                  }
                  res.set_content(std::move(text),
                                  std::string(kMetricsContentType));
                });
    auto elsewhere = [](const httplib::Request& req, httplib::Response& res) {
      if (req.path == kMetricsPath) {
        res.status = 405;
        res.set_header("Allow", "GET, HEAD");
        res.set_content("only GET /metrics\n", "text/plain");
        return;
      }
      res.status = 404;
      res.set_content("not found: metrics are at GET /metrics\n",
                      "text/plain");
    };
    server_.Get(".*", elsewhere);
    server_.Post(".*", elsewhere);
    server_.Put(".*", elsewhere);
    server_.Patch(".*", elsewhere);
    server_.Delete(".*", elsewhere);
    server_.Options(".*", elsewhere);
    if (options_.port == 0) {
      port_ = server_.bind_to_any_port(options_.host);
      if (port_ <= 0) {
        port_ = 0;
        return Status::Unavailable(where + ": " +
                                   DescribeBindFailure(options_.host, 0));
      }
    } else {
      if (!server_.bind_to_port(options_.host, options_.port)) {
        return Status::Unavailable(
            where + ": " + DescribeBindFailure(options_.host, options_.port));
      }
      port_ = options_.port;
    }
    listener_started_ = true;
    listener_ = std::thread([this] {
      // The serving threads inherit this mask: the process's signals go
      // to whoever waits for them, never here.
      sigset_t all;
      sigfillset(&all);
      pthread_sigmask(SIG_BLOCK, &all, nullptr);
      server_.listen_after_bind();
      listener_done_ = true;
    });
    // Bounded: kStartTimeout in 1 ms steps.
    const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    while (!server_.is_running()) {
      if (listener_done_ || std::chrono::steady_clock::now() > deadline) {
        Stop();
        return Status::Unavailable(where + ": the server did not start");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return Status::Ok();
  }

  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    // listen_after_bind may not have set is_running yet: retry stop()
    // until the listener has returned (bounded).
    for (int i = 0; listener_started_ && i < 5000 && !listener_done_; ++i) {
      server_.stop();
      if (listener_done_) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (listener_.joinable()) listener_.join();
  }

  int port() const { return port_; }

 private:
  const std::shared_ptr<prometheus::Registry> registry_;
  const MetricsServerOptions options_;
  httplib::Server server_;
  std::mutex scrape_mu_;  // One before_scrape and render at a time.
  std::thread listener_;
  std::atomic<bool> listener_done_{false};
  bool listener_started_ = false;
  bool started_ = false;
  bool stopped_ = false;
  int port_ = 0;
};

MetricsServer::MetricsServer(std::shared_ptr<prometheus::Registry> registry,
                             MetricsServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(registry), std::move(options))) {}
MetricsServer::~MetricsServer() = default;
Status MetricsServer::Start() { return impl_->Start(); }
void MetricsServer::Stop() { impl_->Stop(); }
int MetricsServer::port() const { return impl_->port(); }

}  // namespace hooksim
