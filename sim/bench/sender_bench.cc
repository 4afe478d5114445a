#include "sim/bench/sender_bench.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <optional>
#include <ostream>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "sim/base/random.h"
#include "mock-receivers/sender_signing.h"
#include "sim/bench/bench_receivers.h"
#include "sim/contract/event_file.h"
#include "sim/contract/release_events.h"
#include "sim/contract/sender_env.h"
#include "sim/os/child_process.h"
#include "sim/os/interrupt_watcher.h"
#include "sim/os/peak_memory.h"
#include "sim/os/temp_dir.h"
#include "sim/os/wall_time.h"

namespace hooksim {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr char kPrefix[] = "hooksim bench: ";
constexpr auto kStopGrace = std::chrono::seconds(2);
constexpr auto kPollStep = Millis(1);
constexpr auto kWaitStep = Millis(10);
constexpr auto kProgressEvery = std::chrono::milliseconds(250);
// Bytes handed to the sender per turn of the loop, so a large backlog does
// not keep the loop from watching the receivers and the clock.
constexpr size_t kMaxWritePerTurn = 1 << 20;

Duration Since(SteadyClock::time_point t) {
  return std::chrono::duration_cast<Duration>(SteadyClock::now() - t);
}

double Seconds(Duration d) { return static_cast<double>(d.count()) / 1e6; }

// One event's place at one receiver, while the journal is read.
struct EventAtReceiver {
  bool seen = false;
  TimePoint first_at{};
  std::optional<TimePoint> first_2xx;
};

// One timed request of a delivery at a receiver, on the run's timeline.
struct TimedAttempt {
  Duration arrival{};
  Duration end{};
  bool success = false;  // A 2xx the sender waited for.
  // The answer was a failure whose next attempt the schedule times.
  bool scheduled_retry = false;
};

// The first kMaxTimedAttempts requests of each delivery key at each
// receiver, from the receivers' on_request_end (serving threads). Bounded:
// at most `max_keys` keys per receiver (as the journal tracks).
class AttemptTimes {
 public:
  AttemptTimes(size_t receivers, size_t max_keys, const Contract& contract)
      : by_key_(receivers), max_keys_(max_keys), contract_(contract) {}

  void Record(size_t receiver, const RequestLogRecord& r, Duration now) {
    // A request refused before the behaviour belongs to no delivery (the
    // errors count it, from the receivers' traffic).
    if (!r.refused.empty()) return;
    const Answer& a = r.answer;
    const bool hinted = a.fault == Fault::kNone && !a.RetryAfter().empty() &&
                        contract_.HonoursRetryAfter(a.status);
    const TimedAttempt t{now - std::chrono::duration_cast<Duration>(r.latency),
                         now, a.IsSuccess() && !r.abandoned,
                         !a.IsSuccess() && !r.abandoned && !hinted};
    std::lock_guard<std::mutex> lock(mu_);
    auto& keys = by_key_[receiver];
    auto it = keys.find(std::string(r.delivery));
    if (it == keys.end()) {
      if (keys.size() >= max_keys_) return;
      it = keys.emplace(std::string(r.delivery), std::vector<TimedAttempt>{})
               .first;
    }
    if (it->second.size() < kMaxTimedAttempts) it->second.push_back(t);
    if (r.signature == SignatureVerdict::kMissing ||
        r.signature == SignatureVerdict::kStale ||
        r.signature == SignatureVerdict::kBad) {
      ++bad_signatures_[receiver];
    }
  }
  // Call once the receivers have stopped.
  const std::unordered_map<std::string, std::vector<TimedAttempt>>& Of(
      size_t receiver) const {
    return by_key_[receiver];
  }
  uint64_t BadSignatures(size_t receiver) const {
    const auto it = bad_signatures_.find(receiver);
    return it == bad_signatures_.end() ? 0 : it->second;
  }

 private:
  std::mutex mu_;
  std::vector<std::unordered_map<std::string, std::vector<TimedAttempt>>>
      by_key_;
  std::unordered_map<size_t, uint64_t> bad_signatures_;
  const size_t max_keys_;
  const Contract contract_;
};

// Judges the gaps of one event's requests at one receiver (every key of
// it, in arrival order), up to its first 2xx, against `schedule`.
void JudgeGaps(std::vector<TimedAttempt>& attempts,
               const std::vector<Duration>& schedule, double jitter,
               RetryGapFigures& g) {
  if (schedule.empty()) return;
  std::sort(attempts.begin(), attempts.end(),
            [](const TimedAttempt& a, const TimedAttempt& b) {
              return a.arrival < b.arrival;
            });
  for (size_t k = 1; k < attempts.size(); ++k) {
    const TimedAttempt& prev = attempts[k - 1];
    if (prev.success) break;  // What follows a 2xx is a duplicate.
    // A Retry-After the contract honours, or an answer the sender stopped
    // waiting for (its own timeout), times the next attempt instead.
    if (!prev.scheduled_retry) continue;
    const Duration want = schedule[std::min(k - 1, schedule.size() - 1)];
    const Duration gap = attempts[k].arrival - prev.end;
    const double error_ms = static_cast<double>((gap - want).count()) / 1e3;
    ++g.gaps;
    g.abs_error_sum_ms += std::abs(error_ms);
    if (std::abs(error_ms) > std::abs(g.worst_error_ms)) {
      g.worst_error_ms = error_ms;
    }
    const auto scaled = [&](double f) {
      return std::chrono::duration_cast<Duration>(want * f);
    };
    if (gap < scaled(1.0 - jitter) - kBenchGapSlack ||
        gap > scaled(1.0 + jitter) + kBenchGapSlack) {
      ++g.outside_schedule;
    }
  }
}

// Folds receiver `r`'s journal into `f`: `events` are the bodies' hashes
// (index = event), `published` each event's publication on the run's
// timeline.
// `times` are the receiver's timed requests per key (AttemptTimes::Of).
void FoldJournal(
    const Journal& j, const std::unordered_map<uint64_t, size_t>& by_hash,
    const std::vector<Duration>& published, size_t published_n,
    const std::unordered_map<std::string, std::vector<TimedAttempt>>& times,
    const BenchOptions& options, ReceiverSideFigures& f) {
  std::vector<EventAtReceiver> at(published_n);
  // Each event's timed requests, over all its keys.
  std::unordered_map<size_t, std::vector<TimedAttempt>> event_times;
  f.requests = j.total_requests();
  for (const auto& [answer, n] : j.answers()) f.answers[answer] += n;
  TimePoint last_2xx{}, last_request{};
  // Keys of one event: the first successful one counts; requests of keys
  // that begin after the event's 2xx are duplicates (a resend with a new
  // id). Two passes: successes first, then the duplicates.
  const FlatTable<DeliveryCounters>& table = j.deliveries();
  std::vector<std::pair<size_t, const DeliveryCounters*>> matched;
  for (const auto& entry : table) {
    const DeliveryCounters& c = entry.second;
    last_request = std::max(last_request, c.last_at);
    const auto it = by_hash.find(c.first_body_hash);
    if (it == by_hash.end() || it->second >= published_n) {
      f.unmatched_requests += static_cast<uint64_t>(c.attempts);
      continue;
    }
    EventAtReceiver& e = at[it->second];
    if (!e.seen || c.first_at < e.first_at) e.first_at = c.first_at;
    e.seen = true;
    if (c.success_mask != 0 &&
        (!e.first_2xx || c.first_2xx_at < *e.first_2xx)) {
      e.first_2xx = c.first_2xx_at;
    }
    matched.emplace_back(it->second, &c);
    if (const auto t = times.find(std::string(entry.first)); t != times.end()) {
      auto& into = event_times[it->second];
      into.insert(into.end(), t->second.begin(), t->second.end());
    }
    f.errors["abandoned"] += static_cast<uint64_t>(c.abandoned);
    f.errors["schema_invalid"] += static_cast<uint64_t>(c.schema_invalid);
  }
  for (auto& [event, attempts] : event_times) {
    JudgeGaps(attempts, options.schedule, options.jitter, f.retry_gaps);
  }
  for (const auto& [event, c] : matched) {
    const EventAtReceiver& e = at[event];
    if (c->success_mask != 0 && c->first_2xx_at == *e.first_2xx) {
      f.duplicates += static_cast<uint64_t>(c->attempts_after_success());
    } else if (e.first_2xx && c->first_at > *e.first_2xx) {
      f.duplicates += static_cast<uint64_t>(c->attempts);
    } else if (c->success_mask != 0) {
      f.duplicates += static_cast<uint64_t>(c->attempts_after_success());
    }
  }
  f.deliveries += published_n;
  for (size_t i = 0; i < published_n; ++i) {
    const EventAtReceiver& e = at[i];
    if (!e.seen) {
      ++f.never_seen;
      continue;
    }
    const TimePoint pub(published[i]);
    f.publish_to_first_attempt.Record(
        std::max(Duration::zero(), e.first_at - pub));
    if (e.first_2xx) {
      ++f.delivered;
      f.publish_to_first_2xx.Record(
          std::max(Duration::zero(), *e.first_2xx - pub));
      last_2xx = std::max(last_2xx, *e.first_2xx);
    }
  }
  // Journal times are offsets from the run's start, as publications are.
  f.delivered_wall_s = Seconds(last_2xx.time_since_epoch());
  f.requests_wall_s = Seconds(last_request.time_since_epoch());
}

// The server's refusals and connection counts as figures of `f`.
void FoldTraffic(const ServerTraffic& t, ReceiverSideFigures& f) {
  f.peak_open_connections = t.peak_open_connections;
  f.errors["over_connection_limit"] += t.connections_over_limit;
  for (const auto& [status, n] : t.refused) {
    std::string kind = "refused_" + std::to_string(status);
    switch (status) {
      case 400: kind = "bad_request"; break;
      case 405: kind = "method_not_allowed"; break;
      case 408: kind = "request_timeout"; break;
      case 413: kind = "body_too_large"; break;
      case 431: kind = "head_too_large"; break;
      default: break;
    }
    f.errors[kind] += n;
  }
}

void AddInto(const ReceiverSideFigures& r, ReceiverSideFigures& total) {
  total.deliveries += r.deliveries;
  total.delivered += r.delivered;
  total.never_seen += r.never_seen;
  total.requests += r.requests;
  total.duplicates += r.duplicates;
  total.unmatched_requests += r.unmatched_requests;
  for (const auto& [answer, n] : r.answers) total.answers[answer] += n;
  for (const auto& [kind, n] : r.errors) total.errors[kind] += n;
  total.retry_gaps.Merge(r.retry_gaps);
  total.peak_open_connections += r.peak_open_connections;
  total.publish_to_first_attempt.Merge(r.publish_to_first_attempt);
  total.publish_to_first_2xx.Merge(r.publish_to_first_2xx);
  total.delivered_wall_s = std::max(total.delivered_wall_s, r.delivered_wall_s);
  total.requests_wall_s = std::max(total.requests_wall_s, r.requests_wall_s);
}

// Whether every published event has had a 2xx at every receiver.
bool AllDelivered(const std::vector<BenchReceiver>& receivers,
                  const std::unordered_map<uint64_t, size_t>& by_hash,
                  size_t events) {
  for (const BenchReceiver& r : receivers) {
    size_t delivered = 0;
    std::vector<bool> done(events, false);
    r.receiver->WithJournal([&](const Journal& j) {
      for (const auto& entry : j.deliveries()) {
        const DeliveryCounters& c = entry.second;
        if (c.success_mask == 0) continue;
        const auto it = by_hash.find(c.first_body_hash);
        if (it == by_hash.end() || it->second >= done.size() ||
            done[it->second]) {
          continue;
        }
        done[it->second] = true;
        ++delivered;
      }
    });
    if (delivered < events) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<std::string>> SenderBenchEvents(const BenchOptions& options) {
  if (!options.file_events.empty()) {
    std::vector<std::string> bodies;
    std::unordered_map<uint64_t, size_t> seen;
    for (const FileEvent& e : options.file_events) {
      const auto [it, added] = seen.emplace(Hash64(e.body), bodies.size());
      if (!added) {
        return Status::InvalidArgument(
            "--event-file: event " + std::to_string(bodies.size() + 1) +
            " repeats event " + std::to_string(it->second + 1) +
            " byte for byte; with --sender-cmd requests are matched to "
            "events by their body, so each event needs its own");
      }
      bodies.push_back(e.body);
    }
    return bodies;
  }
  int64_t count = options.count.value_or(kDefaultBenchEvents);
  if (options.duration && options.rate) {
    count = static_cast<int64_t>(
        std::ceil(*options.rate * Seconds(*options.duration)));
  }
  if (count < 1 || count > kMaxSenderBenchEvents) {
    return Status::InvalidArgument(
        "--sender-cmd: at most " + std::to_string(kMaxSenderBenchEvents) +
        " events (every one is tracked at every receiver), got " +
        std::to_string(count));
  }
  ReleaseEventGenerator generator(ReleaseEventOptions{},
                                  Random(options.seed).Fork("events"));
  std::vector<std::string> bodies;
  bodies.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) {
    std::string body = generator.Next().body;
    if (body.size() < static_cast<size_t>(options.payload_bytes)) {
      body.append(static_cast<size_t>(options.payload_bytes) - body.size(),
                  ' ');
    }
    bodies.push_back(std::move(body));
  }
  return bodies;
}

Result<BenchRun> RunSenderBench(const BenchOptions& options,
                                std::ostream& progress_out) {
  if (!options.sender_cmd) {
    return Status::InvalidArgument("--sender-cmd: no command");
  }
  try {
    Result<std::vector<std::string>> events = SenderBenchEvents(options);
    if (!events.ok()) return events.error();
    const std::vector<std::string>& bodies = *events;
    const size_t n = bodies.size();
    std::unordered_map<uint64_t, size_t> by_hash;
    by_hash.reserve(n);
    for (size_t i = 0; i < n; ++i) by_hash.emplace(Hash64(bodies[i]), i);

    TempDir dir("hooksim-bench");
    if (!dir.ok()) return Status::IoError("cannot create a temporary dir");
    const std::string event_file = dir.File("events.jsonl");
    if (Status s = WriteEventFile(event_file, bodies); !s.ok()) return s;

    const SteadyClock::time_point origin = SteadyClock::now();
    BenchReceiverSetup setup;
    setup.journal_capacity = 1024;
    setup.tracked_deliveries = 2 * n + 1024;  // Room for resent ids.
    setup.threads = 64;  // The sender's connections at once.
    setup.now = [origin] { return TimePoint(Since(origin)); };
    AttemptTimes times(static_cast<size_t>(options.receivers),
                       setup.tracked_deliveries, options.contract);
    setup.on_request_end = [&times, origin](size_t i,
                                            const RequestLogRecord& r) {
      times.Record(i, r, Since(origin));
    };
    // Under a signing contract the receivers answer 401 to a request not
    // signed with the HOOKSIM_SECRET handed over (unless the behaviour
    // given checks its own).
    BenchOptions receiver_options = options;
    receiver_options.behavior = BenchBehavior(options);
    if (receiver_options.behavior->verify_secret.empty()) {
      VerifySenderSignatures(options.contract, *receiver_options.behavior);
    }
    std::vector<BenchReceiver> receivers;
    if (Status s = StartBenchReceivers(receiver_options, setup, receivers);
        !s.ok()) {
      return s;
    }
    std::string urls;
    for (const BenchReceiver& r : receivers) urls += r.url + "\n";

    ChildOptions child_options;
    child_options.command = *options.sender_cmd;
    child_options.stdin_stream = true;
    child_options.env = {{"HOOKSIM_URL", receivers.front().url},
                         {"HOOKSIM_URLS", urls},
                         {"HOOKSIM_EVENT_FILE", event_file},
                         {"HOOKSIM_CONTRACT", options.contract.profile}};
    for (auto& var : SenderContractEnv(options.contract, options.schedule)) {
      child_options.env.push_back(std::move(var));
    }

    BenchRun run;
    run.options = options;
    run.options.file_events.clear();  // Not kept twice.
    SenderFigures& sf = run.sender.emplace();
    std::vector<Duration> published(n);
    run.started_at = UtcIsoNow();
    const Duration start = Since(origin);
    // Watch SIGINT/SIGTERM before the sender starts: a signal that comes
    // once the sender runs must stop it with its group, not kill us alone
    // and orphan it (the sender may answer before this thread goes on).
    std::atomic<bool> stop{false};
    std::optional<InterruptWatcher> watcher;
    if (options.handle_interrupt) {
      watcher.emplace([&stop] { stop = true; },
                      InterruptWatcherOptions{.sigterm = true, .on_repeat = {}});
    }
    // The sender's group is reaped by us (its orphans too), so its CPU
    // time is the growth of our children's.
    BecomeSubreaper();
    rusage before{};
    getrusage(RUSAGE_CHILDREN, &before);
    Result<std::unique_ptr<ChildProcess>> child =
        ChildProcess::Start(child_options);
    if (!child.ok()) return child.error();
    ChildProcess& sender = **child;

    const bool show_progress = options.progress && isatty(STDERR_FILENO) == 1;

    // Hand-over: `pending` holds lines not yet taken; `line_ends` where
    // each handed event ends in the stream, to count the lines taken.
    std::string pending;
    size_t pending_from = 0;
    uint64_t stream_written = 0, stream_queued = 0;
    std::vector<uint64_t> line_ends;
    line_ends.reserve(n);
    size_t next = 0;
    const auto due = [&](size_t i) {
      return options.rate
                 ? start + std::chrono::duration_cast<Duration>(
                               std::chrono::duration<double>(
                                   static_cast<double>(i) / *options.rate))
                 : start;
    };
    std::optional<SteadyClock::time_point> handed_all;
    const SteadyClock::time_point publish_due_end =
        origin + (n == 0 ? start : due(n - 1));
    uint64_t seen_requests = 0;
    auto last_request = SteadyClock::now();
    auto next_progress = SteadyClock::now() + kProgressEvery;
    // Bounded: publishing takes at most n / rate, and then sender_wait.
    while (!stop.load()) {
      const Duration now = Since(origin);
      // Publish what is due (all at once in the closed model).
      while (next < n && due(next) <= now) {
        if (options.rate) sf.publish_lag.Record(now - due(next));
        published[next] = due(next);
        pending += bodies[next];
        pending += '\n';
        stream_queued += bodies[next].size() + 1;
        line_ends.push_back(stream_queued);
        ++next;
      }
      sf.events_published = next;
      if (pending_from < pending.size() && sender.stdin_open()) {
        const size_t chunk =
            std::min(kMaxWritePerTurn, pending.size() - pending_from);
        const size_t w =
            sender.WriteStdin(std::string_view(pending).substr(pending_from,
                                                               chunk));
        pending_from += w;
        stream_written += w;
        if (pending_from == pending.size() || pending_from > (8u << 20)) {
          pending.erase(0, pending_from);
          pending_from = 0;
        }
      }
      if (next == n && pending.size() == pending_from) {
        if (!handed_all) handed_all = SteadyClock::now();
        sender.CloseStdin();
      }
      if (!sender.stdin_open() && !handed_all) {
        handed_all = SteadyClock::now();  // The sender stopped reading.
      }
      // Fine steps while handing over; coarser ones while waiting.
      Duration wait = handed_all ? kWaitStep : kPollStep;
      if (next < n && options.rate) {
        wait = std::clamp(due(next) - Since(origin), Duration::zero(),
                          Millis(5));
      }
      if (sender.ended()) {
        // Poll returns at once for an ended child: sleep instead.
        std::this_thread::sleep_for(std::chrono::microseconds(wait.count()));
      }
      sender.Poll(wait);
      uint64_t total = 0;
      for (const BenchReceiver& r : receivers) {
        r.receiver->WithJournal(
            [&](const Journal& j) { total += j.total_requests(); });
      }
      const auto wall_now = SteadyClock::now();
      if (total != seen_requests) {
        seen_requests = total;
        last_request = wall_now;
      }
      if (show_progress && wall_now >= next_progress) {
        next_progress = wall_now + kProgressEvery;
        progress_out << "\r" << kPrefix
                     << FormatFixed(Seconds(Since(origin) - start), 1)
                     << " s  " << next << "/" << n << " events handed over  "
                     << total << " requests   " << std::flush;
      }
      // The budget runs from the hand-over's end, or from when it was due
      // to end for a sender that does not take its events.
      if (wall_now >= handed_all.value_or(publish_due_end) +
                          options.sender_wait) {
        sf.budget_ended = true;
        break;
      }
      if (!handed_all) continue;
      if (wall_now - last_request >= options.quiet &&
          wall_now - *handed_all >= options.quiet &&
          (sender.ended() || AllDelivered(receivers, by_hash, n))) {
        break;
      }
    }
    if (show_progress) progress_out << "\r\033[K" << std::flush;
    sender.CloseStdin();
    sender.Stop(kStopGrace);
    sender.KillGroup();
    run.interrupted = stop.load();
    run.stop_signal = watcher ? watcher->signal() : 0;
    watcher.reset();
    for (BenchReceiver& r : receivers) r.server->Stop();
    sf.sender = sender.outcome();
    rusage after{};
    getrusage(RUSAGE_CHILDREN, &after);
    const auto cpu_s = [](const rusage& u) {
      return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
             static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) /
                 1e6;
    };
    sf.sender_cpu_s = std::max(0.0, cpu_s(after) - cpu_s(before));
    // ru_maxrss: the largest reaped child so far, in KiB.
    sf.sender_peak_rss_bytes = static_cast<uint64_t>(after.ru_maxrss) * 1024;
    // Lines the sender took whole.
    sf.events_taken = static_cast<uint64_t>(
        std::upper_bound(line_ends.begin(), line_ends.end(), stream_written) -
        line_ends.begin());
    sf.total.name = "total";
    for (size_t i = 0; i < receivers.size(); ++i) {
      BenchReceiver& r = receivers[i];
      ReceiverSideFigures f;
      f.name = r.receiver->name();
      for (std::string_view kind : kBenchErrorKinds) f.errors[std::string(kind)];
      r.receiver->WithJournal([&](const Journal& j) {
        FoldJournal(j, by_hash, published, next, times.Of(i), options, f);
      });
      FoldTraffic(r.server->traffic(), f);
      f.errors["signature_invalid"] += times.BadSignatures(i);
      // Times from the first publication, not from the receivers' start.
      f.delivered_wall_s = std::max(0.0, f.delivered_wall_s - Seconds(start));
      f.requests_wall_s = std::max(0.0, f.requests_wall_s - Seconds(start));
      AddInto(f, sf.total);
      sf.receivers.push_back(std::move(f));
    }
    run.wall_s = sf.total.delivered_wall_s;
    run.peak_rss_bytes = PeakRssBytes();
    run.cores = std::thread::hardware_concurrency();
    return run;
  } catch (const std::exception& e) {
    return Status::Internal(e.what());
  }
}

}  // namespace hooksim
