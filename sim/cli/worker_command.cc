#include "sim/cli/worker_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <vector>

#include "sim/base/parse_number.h"
#include "sim/base/random.h"
#include "sim/contract/release_events.h"
#include "sim/durable/durable_delivery.h"
#include "sim/durable/state_store.h"
#include "sim/world/sender_world.h"

namespace hooksim {
namespace {

// A progress line only when writing to a terminal.
bool IsTerminal(const std::ostream& out) {
  return &out == &std::cout && isatty(STDOUT_FILENO) == 1;
}

DurableRunOptions ToRunOptions(const DeliverOptions& options,
                               const std::ostream& out) {
  DurableRunOptions run;
  run.schedule = options.schedule;
  run.timeout = options.timeout;
  run.jitter = options.jitter;
  run.contract = options.contract;
  run.schedule_given = options.schedule_given;
  run.jitter_given = options.jitter_given;
  run.timeout_given = options.timeout_given;
  run.concurrency = options.concurrency;
  run.seed = options.seed;
  run.trace = options.trace;
  run.progress = !options.trace && IsTerminal(out);
  run.handle_signals = options.handle_interrupt;
  run.lease = options.lease;
  return run;
}

// Runners wait for a busy database as long as it takes (until a second
// signal sets `abort`); they never create a state.
StoreOptions RunnerStoreOptions(std::atomic<bool>* abort) {
  StoreOptions o;
  o.create = false;
  o.busy_timeout = Duration::max();
  o.abort = abort;
  return o;
}

const char* SignalName(int signal) {
  return signal == SIGTERM ? "SIGTERM" : "SIGINT";
}

std::string Plural(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// One line per hook, then a total; returns the total.
DeliveryCounts PrintSummary(
    const std::map<std::string, DeliveryCounts>& by_hook,
    const std::vector<StoredHook>& hooks, std::ostream& out) {
  DeliveryCounts total;
  for (const StoredHook& h : hooks) {
    auto it = by_hook.find(h.id);
    if (it == by_hook.end()) continue;
    const DeliveryCounts& c = it->second;
    out << h.id << "  " << HookStateName(h.state)
        << "  delivered=" << c.delivered << " gave_up=" << c.gave_up
        << " held=" << c.held << " cancelled=" << c.cancelled
        << " pending=" << c.pending;
    if (c.failed > 0) out << " failed=" << c.failed;
    out << "  " << h.url << "\n";
    total.delivered += c.delivered;
    total.gave_up += c.gave_up;
    total.held += c.held;
    total.cancelled += c.cancelled;
    total.pending += c.pending;
    total.failed += c.failed;
  }
  return total;
}

void PrintTotal(const DeliveryCounts& t, uint64_t attempts, double wall_s,
                std::ostream& out) {
  const int64_t all =
      t.delivered + t.gave_up + t.held + t.cancelled + t.pending + t.failed;
  char wall[32];
  std::snprintf(wall, sizeof(wall), "%.3f", wall_s);
  out << Plural(all, "delivery", "deliveries") << ": " << t.delivered
      << " delivered, " << t.gave_up << " gave_up, " << t.held << " held, "
      << t.cancelled << " cancelled, " << t.pending << " pending";
  if (t.failed > 0) out << ", " << t.failed << " failed";
  out << "; " << attempts << " attempts in " << wall << " s\n";
}

int FinishRun(const DurableRunSummary& summary, const DeliveryCounts& total,
              const std::string& path, std::ostream& err) {
  if (summary.interrupted) {
    err << "hooksim deliver: "
        << (summary.signal == SIGTERM ? "terminated (SIGTERM)" : "interrupted")
        << ": " << Plural(total.pending, "delivery", "deliveries")
        << " still pending in " << path
        << " (hooksim deliver --resume continues them)";
    if (summary.abandoned > 0) {
      err << "; stopped at once: "
          << Plural(static_cast<int64_t>(summary.abandoned), "attempt",
                    "attempts")
          << " in flight abandoned (they count as made)";
    }
    err << "\n";
    if (summary.error) {
      err << "hooksim deliver: " << summary.error->ToString() << "\n";
    }
    return 128 + summary.signal;
  }
  if (summary.error) {
    err << "hooksim deliver: " << summary.error->ToString() << "\n";
    return 1;
  }
  if (total.pending > 0) {
    err << "hooksim deliver: "
        << Plural(total.pending, "delivery", "deliveries")
        << " still pending in " << path << "\n";
  }
  return total.gave_up == 0 && total.pending == 0 && total.failed == 0 ? 0
                                                                       : 1;
}

}  // namespace

Result<WorkerOptions> ParseWorkerFlags(const WorkerFlags& flags) {
  if (flags.deliver.url || flags.deliver.count || flags.deliver.generate ||
      flags.deliver.event_file || flags.deliver.secret ||
      flags.deliver.interval_ms || flags.deliver.resume) {
    return MakeError(
        "takes no events or URL: it delivers what `hooksim deliver` stored");
  }
  Result<DeliverOptions> deliver = ParseDeliverFlags(flags.deliver);
  if (!deliver.ok()) return deliver.error();
  WorkerOptions options;
  options.deliver = std::move(*deliver);
  if (flags.poll_ms) {
    const std::optional<uint64_t> v = ParseUint64(*flags.poll_ms);
    if (!v || *v < 1 || *v > static_cast<uint64_t>(kMaxPollMs)) {
      return MakeError("--poll-ms: expected an integer 1.." +
                       std::to_string(kMaxPollMs) + ", got \"" +
                       *flags.poll_ms + "\"");
    }
    options.poll = Millis(static_cast<int64_t>(*v));
  }
  return options;
}

int RunStoreDeliver(const DeliverOptions& options, std::ostream& out,
                    std::ostream& err) {
  const std::string path = ResolveStatePath(options.state);
  std::atomic<bool> abort{false};
  Result<std::unique_ptr<StateStore>> opened =
      StateStore::Open(path, RunnerStoreOptions(&abort));
  if (!opened.ok()) {
    err << "hooksim deliver: --state: " << opened.error().ToString() << "\n";
    return 2;
  }
  StateStore& store = **opened;
  const auto wall_start = std::chrono::steady_clock::now();
  DurableRunOptions run = ToRunOptions(options, out);
  run.abort = &abort;

  std::optional<std::string> batch;
  if (options.resume) {
    Result<int64_t> max_seq = store.MaxSeq();
    if (!max_seq.ok()) {
      err << "hooksim deliver: " << max_seq.error().ToString() << "\n";
      return 1;
    }
    run.scope.max_seq = *max_seq;
    out << "resuming the pending deliveries in " << path << " (seed "
        << options.seed << ")\n";
  } else {
    std::vector<FileEvent> events;
    if (options.events) {
      events = *options.events;
    } else {
      ReleaseEventGenerator generator(ReleaseEventOptions{},
                                      Random(options.seed).Fork("events"));
      for (int64_t i = 0; i < options.count; ++i) {
        events.push_back(FileEvent{"release", generator.Next().body});
      }
    }
    Result<std::vector<StoredHook>> hooks = store.ListHooks(false);
    if (!hooks.ok()) {
      err << "hooksim deliver: " << hooks.error().ToString() << "\n";
      return 1;
    }
    if (hooks->empty()) {
      err << "hooksim deliver: no hooks registered in " << path
          << ": add one with `hooksim hooks add URL` (or give --url)\n";
      return 2;
    }
    Result<EnqueueResult> enqueued = store.Enqueue(events, WallNowMs());
    if (!enqueued.ok()) {
      err << "hooksim deliver: " << enqueued.error().ToString() << "\n";
      return 1;
    }
    int64_t paused = 0;
    for (const StoredHook& h : *hooks) paused += h.state == HookState::kPaused;
    out << "delivering "
        << Plural(static_cast<int64_t>(events.size()), "event", "events")
        << " to "
        << Plural(static_cast<int64_t>(enqueued->hooks.size()), "hook", "hooks")
        << " (" << paused << " paused: held) from " << path << " (seed "
        << options.seed << ")\n";
    out.flush();
    batch = enqueued->batch;
    run.scope.batch = batch;
  }

  const DurableRunSummary summary = RunDurableDeliveries(store, run, out);
  const double wall_s = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - wall_start)
                            .count();
  Result<std::vector<StoredHook>> hooks = store.ListHooks(true);
  if (!hooks.ok()) {
    err << "hooksim deliver: " << hooks.error().ToString() << "\n";
    return 1;
  }
  std::map<std::string, DeliveryCounts> by_hook = summary.by_hook;
  if (batch) {
    // The batch's own record, whoever delivered it.
    Result<std::map<std::string, DeliveryCounts>> counts =
        store.CountBatch(*batch);
    if (!counts.ok()) {
      err << "hooksim deliver: " << counts.error().ToString() << "\n";
      return 1;
    }
    by_hook = std::move(*counts);
  } else if (by_hook.empty() && !summary.error) {
    out << "nothing pending\n";
  }
  const DeliveryCounts total = PrintSummary(by_hook, *hooks, out);
  PrintTotal(total, summary.attempts, wall_s, out);
  out.flush();
  return FinishRun(summary, total, path, err);
}

int RunWorker(const WorkerOptions& options, std::ostream& out,
              std::ostream& err) {
  const std::string path = ResolveStatePath(options.deliver.state);
  std::atomic<bool> abort{false};
  Result<std::unique_ptr<StateStore>> opened =
      StateStore::Open(path, RunnerStoreOptions(&abort));
  if (!opened.ok()) {
    err << "hooksim worker: --state: " << opened.error().ToString() << "\n";
    return 2;
  }
  StateStore& store = **opened;
  const auto wall_start = std::chrono::steady_clock::now();
  DurableRunOptions run = ToRunOptions(options.deliver, out);
  run.keep_running = true;
  run.poll_interval = options.poll;
  run.abort = &abort;
  out << "worker: delivering from " << path
      << " until SIGINT or SIGTERM (poll every " << ToMillis(options.poll)
      << " ms, seed " << options.deliver.seed << ")" << std::endl;
  const DurableRunSummary summary = RunDurableDeliveries(store, run, out);
  const double wall_s = std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - wall_start)
                            .count();
  Result<std::vector<StoredHook>> hooks = store.ListHooks(true);
  if (!hooks.ok()) {
    err << "hooksim worker: " << hooks.error().ToString() << "\n";
    return 1;
  }
  const DeliveryCounts total = PrintSummary(summary.by_hook, *hooks, out);
  PrintTotal(total, summary.attempts, wall_s, out);
  out.flush();
  if (summary.error) {
    err << "hooksim worker: " << summary.error->ToString() << "\n";
    return 1;
  }
  if (summary.interrupted && summary.abandoned > 0) {
    err << "hooksim worker: stopped at once by a second signal ("
        << SignalName(summary.signal) << "): "
        << Plural(static_cast<int64_t>(summary.abandoned), "attempt",
                  "attempts")
        << " in flight abandoned (they count as made)\n";
    return 128 + summary.signal;
  }
  return 0;
}

}  // namespace hooksim
