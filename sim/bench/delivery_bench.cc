#include "sim/bench/delivery_bench.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string_view>
#include <thread>
#include <vector>

#include "sim/bench/bench_receivers.h"
#include "sim/contract/release_events.h"
#include "sim/engine/delivery_engine.h"
#include "sim/engine/retry_policy.h"
#include "sim/http/http_transport.h"
#include "sim/http/http_url.h"
#include "sim/http/real_clock.h"
#include "sim/os/interrupt_watcher.h"
#include "sim/os/peak_memory.h"
#include "sim/os/wall_time.h"

namespace hooksim {
namespace {

constexpr char kPrefix[] = "hooksim bench: ";
constexpr auto kProgressEvery = std::chrono::milliseconds(250);
constexpr size_t kReceiverJournalCapacity = 1024;

using SteadyClock = std::chrono::steady_clock;

// Counts the attempts handed to the inner transport and not yet answered
// (queued for a worker or in flight), and first attempts published but not
// yet sent, so the publisher can keep the transport busy without queuing
// the whole run. `on_done` runs on the loop thread after each answer has
// been handed to the engine. Each attempt's `done` waits in a slot here
// and the inner transport gets a two-word callback (std::function keeps it
// inline): no allocation per attempt once the slots have grown.
class CountingTransport : public Transport {
 public:
  CountingTransport(Transport& inner, std::function<void()> on_done)
      : inner_(inner), on_done_(std::move(on_done)) {}

  void Send(const HttpRequest& request, Duration timeout,
            std::function<void(AttemptResult)> done) override {
    ++in_flight_;
    const std::optional<std::string_view> attempt =
        request.FindHeader(kAttemptHeader);
    if (attempt && *attempt == "1" && unsent_ > 0) --unsent_;
    size_t slot = 0;
    if (free_.empty()) {
      slot = dones_.size();
      dones_.push_back(std::move(done));
    } else {
      slot = free_.back();
      free_.pop_back();
      dones_[slot] = std::move(done);
    }
    inner_.Send(request, timeout,
                [this, slot](AttemptResult result) { Done(slot, result); });
  }

  void AddUnsent(size_t n) { unsent_ += n; }
  // Attempts the publisher counts as queued: in flight or about to be.
  size_t busy() const { return in_flight_ + unsent_; }

 private:
  void Done(size_t slot, AttemptResult result) {
    --in_flight_;
    // Out of its slot first: `done` may Send again, which may grow dones_.
    std::function<void(AttemptResult)> done = std::move(dones_[slot]);
    dones_[slot] = nullptr;
    free_.push_back(slot);
    done(result);
    on_done_();
  }

  Transport& inner_;
  std::function<void()> on_done_;
  size_t in_flight_ = 0;
  size_t unsent_ = 0;
  // Bounded by the attempts in flight at once (the publisher's cap).
  std::vector<std::function<void(AttemptResult)>> dones_;
  std::vector<size_t> free_;
};

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  // Bounded by the file: a few dozen lines per core.
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) {
        const size_t start = line.find_first_not_of(' ', colon + 1);
        return start == std::string::npos ? "" : line.substr(start);
      }
    }
  }
  return "";
}

EngineOptions BenchEngineOptions(const BenchOptions& options) {
  EngineOptions engine_options;
  engine_options.seed = options.seed;
  engine_options.id_salt = options.id_salt;
  engine_options.policy = RetryPolicy::WithAttemptsOf(
      options.contract, options.schedule, options.jitter, options.timeout);
  engine_options.contract = options.contract;
  engine_options.keep_attempt_log = false;
  engine_options.slots = SlotReuse::kEnded;
  engine_options.max_deliveries = kMaxBenchOpenDeliveries + kMaxBenchReceivers;
  return engine_options;
}

// Publishes, delivers and measures until the run ends; the receivers are
// stopped and their counts read at the end.
BenchRun Measure(const BenchOptions& options,
                 const std::vector<std::string>& urls,
                 std::vector<BenchReceiver>& served, std::ostream& err) {
  BenchRun result;
  result.options = options;
  BenchFigures& f = result.figures;
  SteadyClock::time_point start{};
  SteadyClock::time_point last_end{};
  const size_t hooks = static_cast<size_t>(options.receivers);
  const size_t connections = static_cast<size_t>(options.concurrency);
  const bool by_events = !options.duration;
  const uint64_t event_limit =
      static_cast<uint64_t>(options.count.value_or(kDefaultBenchEvents));
  const size_t max_busy = 2 * connections;
  bool publishing_done = false;
  bool finished = false;
  bool timer_set = false;  // A top-up is scheduled for the next due event.

  RealClock clock;
  // The bench's loop thread never blocks (no store), so it carries a
  // share of the connections too: that share needs no handoff.
  HttpTransport http(
      clock, HttpTransportOptions{
                 .workers = connections,
                 .io_threads = static_cast<size_t>(options.io_threads),
                 .share_loop_thread = true});
  std::function<void()> top_up;
  CountingTransport counting(http, [&top_up] { top_up(); });
  DeliveryEngine engine(clock, counting, BenchEngineOptions(options));
  for (size_t h = 0; h < hooks; ++h) {
    engine.AddHook(
        Hook{"bench" + std::to_string(h + 1), urls[h], true, "", nullptr});
  }
  engine.SetAttemptObserver([&f, &start](const AttemptRecord& record) {
    ++f.attempts;
    const AttemptResult& r = record.result;
    if (r.error == AttemptError::kNone) {
      if (r.status >= 0 && r.status < kBenchMaxStatus) ++f.status[r.status];
    } else if (static_cast<size_t>(r.error) < f.errors.size()) {
      ++f.errors[static_cast<size_t>(r.error)];
    }
    f.attempt_latency.Record(record.ended - record.started);
    f.throughput.RecordAttempt(
        std::chrono::duration_cast<Duration>(SteadyClock::now() - start),
        !r.IsSuccess());
  });
  engine.SetEndedObserver([&f, &start, &last_end](const Delivery& d, const EventRecord&) {
    if (d.state == DeliveryState::kDelivered) {
      ++f.delivered;
    } else {
      ++f.gave_up;
    }
    f.delivery_latency.Record(d.ended - d.created);
    last_end = SteadyClock::now();
    f.throughput.RecordDelivery(
        std::chrono::duration_cast<Duration>(last_end - start));
  });

  ReleaseEventGenerator generator(ReleaseEventOptions{},
                                  Random(options.seed).Fork("events"));
  const size_t payload_bytes = static_cast<size_t>(options.payload_bytes);
  // Publishes while the transport has fewer than 2 x connections attempts
  // queued or in flight. Bounded: each round publishes one event, and
  // stops at max_busy, the open-delivery cap or the end of the run.
  top_up = [&] {
    if (publishing_done) {
      finished = engine.open_deliveries() == 0;
      return;
    }
    while (counting.busy() < max_busy &&
           engine.open_deliveries() + hooks <= kMaxBenchOpenDeliveries) {
      const bool more =
          by_events ? f.events_published < event_limit
                    : SteadyClock::now() - start <
                          std::chrono::duration_cast<SteadyClock::duration>(
                              *options.duration);
      if (!more) {
        publishing_done = true;
        finished = engine.open_deliveries() == 0;
        return;
      }
      if (options.rate) {
        // Open model: event k is due k / rate seconds after the start.
        const Duration due = std::chrono::duration_cast<Duration>(
            std::chrono::duration<double>(
                static_cast<double>(f.events_published) / *options.rate));
        const Duration now =
            std::chrono::duration_cast<Duration>(SteadyClock::now() - start);
        if (now < due) {
          if (!timer_set) {
            timer_set = true;
            clock.ScheduleAfter(due - now, [&] {
              timer_set = false;
              top_up();
            });
          }
          return;
        }
        result.publish_lag.Record(now - due);
      }
      const FileEvent* file_event =
          options.file_events.empty()
              ? nullptr
              : &options.file_events[f.events_published %
                                     options.file_events.size()];
      std::string body =
          file_event ? file_event->body : generator.Next().body;
      if (body.size() < payload_bytes) {
        // Trailing JSON whitespace: the body still parses and validates.
        body.append(payload_bytes - body.size(), ' ');
      }
      f.body_bytes += body.size();
      if (!engine.Publish(file_event ? file_event->type : "release",
                          std::move(body))
               .ok()) {
        publishing_done = true;  // Unreachable: the cap is below the limit.
        return;
      }
      ++f.events_published;
      f.deliveries_published += hooks;
      counting.AddUnsent(hooks);
    }
  };

  const bool progress = options.progress && isatty(STDERR_FILENO) == 1;
  std::function<void()> show_progress = [&] {
    const double elapsed =
        std::chrono::duration<double>(SteadyClock::now() - start).count();
    const uint64_t ended = f.delivered + f.gave_up;
    err << "\r" << kPrefix << FormatFixed(elapsed, 1) << " s  " << ended << "/"
        << (by_events ? event_limit * hooks : f.deliveries_published)
        << " deliveries  " << f.attempts << " attempts  "
        << FormatFixed(PerSecond(ended, elapsed), 0) << " deliveries/s  rss "
        << CurrentRssBytes().value_or(0) / (1 << 20) << " MB   " << std::flush;
    if (!finished) clock.ScheduleAfter(kProgressEvery, show_progress);
  };

  std::optional<InterruptWatcher> watcher;
  if (options.handle_interrupt) {
    watcher.emplace([&clock] { clock.Stop(); },
                    InterruptWatcherOptions{.sigterm = true, .on_repeat = {}});
  }
  result.started_at = UtcIsoNow();
  start = SteadyClock::now();
  last_end = start;
  clock.ScheduleAfter(Duration::zero(), top_up);
  if (progress) clock.ScheduleAfter(kProgressEvery, show_progress);
  result.error = clock.Run();
  // Attempts still in flight (after Ctrl-C) are abandoned here, before the
  // engine whose requests they read is destroyed.
  http.Shutdown();
  result.interrupted = watcher && watcher->interrupted();
  result.stop_signal = watcher ? watcher->signal() : 0;
  watcher.reset();
  if (progress) err << "\r\033[K" << std::flush;
  for (BenchReceiver& s : served) {
    s.server->Stop();
    s.receiver->WithJournal([&f](const Journal& j) {
      f.receiver_requests += j.total_requests();
      f.receiver_schema_failures += j.schema_failures();
    });
  }

  result.wall_s = std::chrono::duration<double>(last_end - start).count();
  result.peak_rss_bytes = PeakRssBytes();
  result.cores = std::thread::hardware_concurrency();
  result.cpu_model = CpuModel();
  return result;
}

}  // namespace

void RetryGapFigures::Merge(const RetryGapFigures& other) {
  gaps += other.gaps;
  abs_error_sum_ms += other.abs_error_sum_ms;
  outside_schedule += other.outside_schedule;
  if (std::abs(other.worst_error_ms) > std::abs(worst_error_ms)) {
    worst_error_ms = other.worst_error_ms;
  }
}

double PerSecond(uint64_t n, double seconds) {
  return seconds > 0 ? static_cast<double>(n) / seconds : 0.0;
}

std::string FormatFixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", digits, value);
  return text;
}

Status ValidateBenchOptions(const BenchOptions& options) {
  const RetryPolicy policy = RetryPolicy::WithAttemptsOf(
      options.contract, options.schedule, options.jitter, options.timeout);
  if (Status s = policy.Validate(); !s.ok()) {
    return Status(s.code(), "retry policy " + s.ToString());
  }
  if (options.receivers < 1 || options.receivers > kMaxBenchReceivers ||
      options.concurrency < 1 || options.concurrency > kMaxBenchConcurrency ||
      options.io_threads < 0 || options.io_threads > kMaxBenchIoThreads ||
      (options.count &&
       (*options.count < 1 || *options.count > kMaxBenchEvents)) ||
      (options.duration && *options.duration <= Duration::zero()) ||
      options.payload_bytes < 0 ||
      options.payload_bytes > kMaxBenchPayloadBytes ||
      !(options.failure_rate >= 0 && options.failure_rate <= 1)) {
    return Status::InvalidArgument("an option is out of range (see hooksim bench --help)");
  }
  if (!options.target &&
      options.receivers * options.concurrency > kMaxBenchReceiverConnections) {
    return Status::InvalidArgument(
        "--receivers x --concurrency: at most " +
        std::to_string(kMaxBenchReceiverConnections) +
        " in-process receiver connections (each has its own server thread), "
        "got " +
        std::to_string(options.receivers) + " x " +
        std::to_string(options.concurrency));
  }
  if (options.target) {
    if (Result<HttpUrl> url = ParseHttpUrl(*options.target); !url.ok()) {
      return Status::InvalidArgument("--target: " + url.error().message());
    }
  }
  return Status::Ok();
}

Result<BenchRun> RunDeliveryBench(const BenchOptions& options,
                                  std::ostream& progress) {
  if (Status s = ValidateBenchOptions(options); !s.ok()) return s;
  try {
    // Receivers, unless the deliveries go to the target.
    std::vector<BenchReceiver> served;
    std::vector<std::string> urls;
    if (options.target) {
      urls.assign(static_cast<size_t>(options.receivers), *options.target);
    } else {
      BenchReceiverSetup setup;
      setup.journal_capacity = kReceiverJournalCapacity;
      setup.tracked_deliveries = kBenchReceiverTrackedDeliveries;
      // Each transport worker keeps one connection to each receiver.
      setup.threads = static_cast<size_t>(options.concurrency) + 4;
      if (Status s = StartBenchReceivers(options, setup, served); !s.ok()) {
        return s;
      }
      for (const BenchReceiver& r : served) urls.push_back(r.url);
    }
    return Measure(options, urls, served, progress);
  } catch (const std::exception& e) {
    return Status::Internal(e.what());
  }
}

}  // namespace hooksim
