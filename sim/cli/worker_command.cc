#include "sim/cli/worker_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <vector>

#include "sim/base/random.h"
#include "sim/cli/exit_code.h"
#include "sim/cli/receiver_command.h"
#include "sim/contract/release_events.h"
#include "sim/durable/durable_delivery.h"
#include "sim/durable/open_state.h"
#include "sim/durable/state_store.h"
#include "sim/durable/worker_metrics.h"
#include "sim/metrics/metrics_server.h"
#include "sim/world/sender_world.h"

namespace hooksim {
namespace {

constexpr const char* kWorkerUsage =
    "usage: hooksim worker [--state FILE|URL] [--poll-ms N] [--trace]\n"
    "         [--retry-schedule-ms D1,...,D5] [--timeout-ms T] [--jitter F]\n"
    "         [--concurrency C] [--seed S] [--lease-ms L] [--contract NAME|FILE]\n"
    "         [--metrics-listen HOST:PORT]\n"
    "\n"
    "Delivers, until SIGINT or SIGTERM, whatever becomes deliverable in the\n"
    "state database: pending deliveries nobody holds a lease on (new ones,\n"
    "ones a stopped or crashed runner left), and held ones whose hook was\n"
    "resumed. Attempts are recorded as in hooksim deliver. The first SIGINT\n"
    "or SIGTERM drains (no new attempts; those in flight end and are\n"
    "recorded; the rest is released); a second one stops at once.\n"
    "With --metrics-listen it serves Prometheus metrics at\n"
    "http://HOST:PORT/metrics (port 0: a free port, printed at start).\n"
    "Exit codes: 0 stopped by a signal after draining, 1 a state database\n"
    "error, 2 bad usage or no state database at the path, 130/143 stopped at\n"
    "once by a second SIGINT/SIGTERM (attempts in flight abandoned).\n";


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

// What `deliver` (without --url) and `worker` run on: the state opened at
// the resolved path, its abort flag, and the run options.
struct Runner {
  std::string path;
  std::atomic<bool> abort{false};
  std::unique_ptr<StateBackend> store;
  std::chrono::steady_clock::time_point wall_start;
  DurableRunOptions run;
};

// Opens the state of `options.state`; on failure prints
// "hooksim COMMAND: --state: ..." and sets `*exit_code` (exit_code.h).
std::unique_ptr<Runner> OpenRunner(const DeliverOptions& options,
                                   const char* command, std::ostream& out,
                                   std::ostream& err, int* exit_code) {
  auto runner = std::make_unique<Runner>();
  runner->path = ResolveStatePath(options.state);
  Result<std::unique_ptr<StateBackend>> opened =
      OpenState(runner->path, RunnerStoreOptions(&runner->abort));
  if (!opened.ok()) {
    err << "hooksim " << command << ": --state: " << opened.error().ToString()
        << "\n";
    *exit_code = ToInt(ExitCodeFor(opened.error()));
    return nullptr;
  }
  runner->store = std::move(*opened);
  runner->wall_start = std::chrono::steady_clock::now();
  runner->run = ToRunOptions(options, out);
  runner->run.abort = &runner->abort;
  return runner;
}

// What a run left: its summary, its wall time and every hook.
struct RunOutcome {
  DurableRunSummary summary;
  double wall_s = 0;
  std::vector<StoredHook> hooks;
};

// Runs the deliveries and lists the hooks; on a state error prints
// "hooksim COMMAND: ..." and returns nullopt.
std::optional<RunOutcome> RunAndList(Runner& runner, const char* command,
                                     std::ostream& out, std::ostream& err) {
  RunOutcome outcome;
  outcome.summary = RunDurableDeliveries(*runner.store, runner.run, out);
  outcome.wall_s = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - runner.wall_start)
                       .count();
  Result<std::vector<StoredHook>> hooks = runner.store->ListHooks(true);
  if (!hooks.ok()) {
    err << "hooksim " << command << ": " << hooks.error().ToString() << "\n";
    return std::nullopt;
  }
  outcome.hooks = std::move(*hooks);
  return outcome;
}

const char* SignalName(int signal) {
  return signal == SIGTERM ? "SIGTERM" : "SIGINT";
}

std::string Plural(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

void Add(DeliveryCounts& total, const DeliveryCounts& c) {
  total.delivered += c.delivered;
  total.gave_up += c.gave_up;
  total.held += c.held;
  total.cancelled += c.cancelled;
  total.pending += c.pending;
  total.failed += c.failed;
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
    Add(total, c);
  }
  return total;
}

// "N deliveries: D delivered, G gave_up, ..., P pending[, F failed]".
void PrintCounts(const DeliveryCounts& t, std::ostream& out) {
  const int64_t all =
      t.delivered + t.gave_up + t.held + t.cancelled + t.pending + t.failed;
  out << Plural(all, "delivery", "deliveries") << ": " << t.delivered
      << " delivered, " << t.gave_up << " gave_up, " << t.held << " held, "
      << t.cancelled << " cancelled, " << t.pending << " pending";
  if (t.failed > 0) out << ", " << t.failed << " failed";
}

void PrintTotal(const DeliveryCounts& t, uint64_t attempts, double wall_s,
                std::ostream& out) {
  char wall[32];
  std::snprintf(wall, sizeof(wall), "%.3f", wall_s);
  PrintCounts(t, out);
  out << "; " << attempts << " attempts in " << wall << " s\n";
}

// After a resume, whose lines count what this run took up: the whole
// state's record, every hook's deliveries whoever ran them.
void PrintStateTotal(const std::vector<StoredHook>& hooks,
                     const std::string& path, std::ostream& out) {
  DeliveryCounts all;
  for (const StoredHook& h : hooks) Add(all, h.counts);
  out << "in " << path << " now: ";
  PrintCounts(all, out);
  out << "\n";
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
    if (!summary.error.ok()) {
      err << "hooksim deliver: " << summary.error.ToString() << "\n";
    }
    return ToInt(ExitCodeForSignal(summary.signal));
  }
  if (!summary.error.ok()) {
    err << "hooksim deliver: " << summary.error.ToString() << "\n";
    return ToInt(ExitCode::kFailed);
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

FlagSet WorkerFlagSet(WorkerOptions* options) {
  DeliverOptions* o = &options->deliver;
  FlagSet flags("worker", kWorkerUsage);
  AddStateFlag(flags,
               "the state: an SQLite file or postgres://USER@HOST:PORT/DB, "
               "which any number of workers share (default $HOOKSIM_STATE "
               "or ./.hooksim/state.db)",
               &o->state);
  flags.Millis("poll-ms",
               "how often to look for deliverable rows (1.." +
                   std::to_string(kMaxPollMs) + ", default 200)",
               1, kMaxPollMs, &options->poll);
  AddSeedFlag(flags, "random seed for jitter (0..2^64-1, default 1)", &o->seed);
  const RetryTargets retry{&o->schedule, &o->timeout, &o->jitter,
                           &o->contract.max_reattempts};
  AddContractFlag(flags,
                  "NAME|FILE: the contract profile of hooks added without one "
                  "of their own (attempts, 410, Retry-After, signing; its "
                  "schedule, jitter and timeout unless the flags above are "
                  "given; default divshot)",
                  &o->contract, retry);
  AddRetryFlags(flags, retry);
  AddConcurrencyFlag(flags, "attempts in flight at once (1..1024, default 16)",
                     kMaxDeliverConcurrency, &o->concurrency);
  AddLeaseFlag(flags, "", &o->lease);
  flags.Switch("trace", "print every attempt as it ends", &o->trace);
  flags
      .Custom("metrics-listen",
              "serve Prometheus metrics at http://HOST:PORT/metrics (port 0: "
              "a free port, printed at start)",
              [options](const std::string& text) -> Status {
                Result<ListenAddress> address = ParseListenAddress(text);
                if (!address.ok()) return address.error();
                options->metrics_listen = text;
                options->metrics_host = address->host;
                options->metrics_port = address->port;
                return Status::Ok();
              })
      .Value("HOST:PORT");
  return flags;
}

// Hooks with a contract of their own keep its timing but for the flags
// given (durable_delivery.h).
Status CheckWorkerFlags(const FlagSet& flags, WorkerOptions& options) {
  options.deliver.schedule_given = flags.Given("retry-schedule-ms");
  options.deliver.timeout_given = flags.Given("timeout-ms");
  options.deliver.jitter_given = flags.Given("jitter");
  return Status::Ok();
}

const CommandFlags<WorkerOptions> kWorkerFlags{WorkerFlagSet,
                                                CheckWorkerFlags};

std::string WorkerHelp() { return HelpOf(kWorkerFlags); }

int RunWorkerCli(const std::vector<std::string>& args, std::ostream& out,
                 std::ostream& err) {
  return ParseAndRun(
      kWorkerFlags, args, out, err,
      [&](const WorkerOptions& options) { return RunWorker(options, out, err); });
}

int RunStoreDeliver(const DeliverOptions& options, std::ostream& out,
                    std::ostream& err) {
  int code = 0;
  std::unique_ptr<Runner> runner =
      OpenRunner(options, "deliver", out, err, &code);
  if (!runner) return code;
  StateBackend& store = *runner->store;
  // The location without a password (a PostgreSQL URL may carry one).
  const std::string& path = store.location();
  DurableRunOptions& run = runner->run;

  std::optional<std::string> batch;
  if (options.resume) {
    Result<int64_t> max_seq = store.MaxSeq();
    if (!max_seq.ok()) {
      err << "hooksim deliver: " << max_seq.error().ToString() << "\n";
      return ToInt(ExitCode::kFailed);
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
      return ToInt(ExitCode::kFailed);
    }
    if (hooks->empty()) {
      err << "hooksim deliver: no hooks registered in " << path
          << ": add one with `hooksim hooks add URL` (or give --url)\n";
      return ToInt(ExitCode::kUsage);
    }
    Result<EnqueueResult> enqueued = store.Enqueue(events, WallNowMs());
    if (!enqueued.ok()) {
      err << "hooksim deliver: " << enqueued.error().ToString() << "\n";
      return ToInt(ExitCode::kFailed);
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

  std::optional<RunOutcome> outcome = RunAndList(*runner, "deliver", out, err);
  if (!outcome) return ToInt(ExitCode::kFailed);
  const DurableRunSummary& summary = outcome->summary;
  std::map<std::string, DeliveryCounts> by_hook = summary.by_hook;
  if (batch) {
    // The batch's own record, whoever delivered it.
    Result<std::map<std::string, DeliveryCounts>> counts =
        store.CountBatch(*batch);
    if (!counts.ok()) {
      err << "hooksim deliver: " << counts.error().ToString() << "\n";
      return ToInt(ExitCode::kFailed);
    }
    by_hook = std::move(*counts);
  } else if (by_hook.empty() && summary.error.ok()) {
    out << "nothing pending\n";
  }
  const DeliveryCounts total = PrintSummary(by_hook, outcome->hooks, out);
  PrintTotal(total, summary.attempts, outcome->wall_s, out);
  if (!batch) PrintStateTotal(outcome->hooks, path, out);
  out.flush();
  return FinishRun(summary, total, path, err);
}

int RunWorker(const WorkerOptions& options, std::ostream& out,
              std::ostream& err) {
  int code = 0;
  std::unique_ptr<Runner> runner =
      OpenRunner(options.deliver, "worker", out, err, &code);
  if (!runner) return code;
  runner->run.keep_running = true;
  runner->run.poll_interval = options.poll;
  // Metrics: the runner counts into `metrics`; a scrape reads the queue
  // through a connection of its own (a store serves one thread).
  std::unique_ptr<WorkerMetrics> metrics;
  std::unique_ptr<StateBackend> metrics_store;
  std::unique_ptr<MetricsServer> metrics_server;
  if (options.metrics_listen) {
    StoreOptions store_options;
    store_options.create = false;
    store_options.busy_timeout = std::chrono::seconds(2);
    Result<std::unique_ptr<StateBackend>> opened =
        OpenState(runner->path, store_options);
    if (!opened.ok()) {
      err << "hooksim worker: --state: " << opened.error().ToString() << "\n";
      return ToInt(ExitCodeFor(opened.error()));
    }
    metrics_store = std::move(*opened);
    metrics = std::make_unique<WorkerMetrics>();
    MetricsServerOptions server_options;
    server_options.host = options.metrics_host;
    server_options.port = options.metrics_port;
    server_options.before_scrape = [m = metrics.get(),
                                    store = metrics_store.get()] {
      Result<QueueDepth> depth = store->Depth(WallNowMs());
      if (depth.ok()) {
        m->SetQueue(*depth);
      } else {
        m->CountQueueError();
      }
    };
    metrics_server =
        std::make_unique<MetricsServer>(metrics->registry(), server_options);
    if (Status s = metrics_server->Start(); !s.ok()) {
      // s names the address and the cause ("127.0.0.1:9101: Address
      // already in use").
      err << "hooksim worker: --metrics-listen " << s.message() << "\n";
      return ToInt(ExitCodeFor(s));
    }
    runner->run.metrics = metrics.get();
    const bool v6 = options.metrics_host.find(':') != std::string::npos;
    out << "worker: metrics at http://"
        << (v6 ? "[" + options.metrics_host + "]" : options.metrics_host)
        << ":" << metrics_server->port() << "/metrics" << std::endl;
  }
  out << "worker: delivering from " << runner->store->location()
      << " until SIGINT or SIGTERM (poll every " << ToMillis(options.poll)
      << " ms, seed " << options.deliver.seed << ")" << std::endl;
  std::optional<RunOutcome> outcome = RunAndList(*runner, "worker", out, err);
  // The last scrape may still be answered while the run drains; not after.
  if (metrics_server) metrics_server->Stop();
  if (!outcome) return ToInt(ExitCode::kFailed);
  const DurableRunSummary& summary = outcome->summary;
  const DeliveryCounts total =
      PrintSummary(summary.by_hook, outcome->hooks, out);
  PrintTotal(total, summary.attempts, outcome->wall_s, out);
  out.flush();
  if (!summary.error.ok()) {
    err << "hooksim worker: " << summary.error.ToString() << "\n";
    return ToInt(ExitCode::kFailed);
  }
  if (summary.interrupted && summary.abandoned > 0) {
    err << "hooksim worker: stopped at once by a second signal ("
        << SignalName(summary.signal) << "): "
        << Plural(static_cast<int64_t>(summary.abandoned), "attempt",
                  "attempts")
        << " in flight abandoned (they count as made)\n";
    return ToInt(ExitCodeForSignal(summary.signal));
  }
  return ToInt(ExitCode::kOk);
}

}  // namespace hooksim
