#include "sim/durable/durable_delivery.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <unordered_map>

#include "sim/base/time.h"
#include "sim/engine/attempt_line.h"
#include "sim/engine/delivery_engine.h"
#include "sim/engine/retry_policy.h"
#include "sim/http/http_transport.h"
#include "sim/http/real_clock.h"
#include "sim/os/interrupt_watcher.h"

namespace hooksim {
namespace {

// An engine that has handled this many deliveries and has none open is
// replaced by a fresh one, so a long-running worker's memory stays flat.
constexpr size_t kEngineRecycleAt = 200'000;

class Runner {
 public:
  Runner(StateStore& store, const DurableRunOptions& options, std::ostream& out)
      : store_(store),
        options_(options),
        out_(out),
        owner_(NewOwnerToken()),
        transport_(clock_, HttpTransportOptions{.workers = static_cast<size_t>(
                                                    options.concurrency)}) {}

  DurableRunSummary Run() {
    EngineOptions engine_options;
    engine_options.seed = options_.seed;
    engine_options.policy.max_reattempts = kContractMaxReattempts;
    engine_options.policy.schedule = options_.schedule;
    engine_options.policy.jitter = options_.jitter;
    engine_options.policy.timeout = options_.timeout;
    engine_options.keep_attempt_log = false;
    // webhook-timestamp: the clock's zero in Unix time.
    engine_options.unix_origin =
        UnixTimeNow() - clock_.Now().time_since_epoch();
    if (Status s = engine_options.policy.Validate()) {
      summary_.error = MakeError("retry policy " + s->ToString());
      return std::move(summary_);
    }
    engine_options_ = engine_options;
    NewEngine();
    std::optional<InterruptWatcher> watcher;
    if (options_.handle_signals) {
      watcher.emplace([this] { clock_.Stop(); },
                      InterruptWatcherOptions{.sigterm = options_.sigterm});
    }
    clock_.ScheduleAfter(Duration::zero(), [this] { Poll(); });
    RealRunLimits limits;
    if (options_.keep_running)
      limits.wall_limit = std::chrono::hours(24 * 3650);
    const Status run = clock_.Run(limits);
    // Attempts in flight are abandoned here: recorded as started, not
    // ended; the next runner counts them.
    transport_.Shutdown();
    summary_.interrupted = watcher && watcher->interrupted();
    watcher.reset();
    if (run && !summary_.error) summary_.error = run;
    if (Status s = store_.Release(owner_); s && !summary_.error) {
      summary_.error = s;
    }
    // Whatever is still open stays pending in the store.
    for (const auto& [id, hook] : open_) ++summary_.by_hook[hook].pending;
    if (options_.progress && progress_shown_) out_ << "\n";
    out_.flush();
    return std::move(summary_);
  }

 private:
  void NewEngine() {
    engine_ =
        std::make_unique<DeliveryEngine>(clock_, transport_, engine_options_);
    hook_index_.clear();
    event_index_.clear();
    engine_->SetAttemptGate(
        [this](const Delivery& d, uint32_t) { return Gate(d); });
    engine_->SetAttemptObserver(
        [this](const AttemptRecord& record) { OnAttemptEnded(record); });
  }

  void Fail(Error error) {
    if (!summary_.error) summary_.error = std::move(error);
    clock_.Stop();
  }

  void Poll() {
    if (summary_.error) return;
    if (engine_->open_deliveries() == 0 &&
        engine_->deliveries().size() >= kEngineRecycleAt) {
      NewEngine();
    }
    const size_t open = engine_->open_deliveries();
    size_t claimed = 0;
    if (open < kMaxOpenDeliveries) {
      ClaimOptions claim;
      claim.events = options_.events;
      claim.limit = std::min(kMaxClaimBatch, kMaxOpenDeliveries - open);
      const int64_t now_ms = WallNowMs();
      Result<ClaimResult> result = store_.Claim(owner_, claim, now_ms);
      if (!result.ok()) return Fail(result.error());
      for (const ClaimedDelivery& d : result->gave_up) {
        ++summary_.by_hook[d.hook_id].gave_up;
        if (options_.trace) {
          out_ << d.id << "  hook=" << d.hook_id << "  " << kStoreMaxAttempts
               << " attempts started before a stop  -> gave_up\n";
        }
      }
      for (ClaimedDelivery& d : result->deliveries) {
        if (Status s = Restore(std::move(d), now_ms)) return Fail(*s);
        ++claimed;
      }
      claimed_total_ += claimed;
    }
    // Without keep_running: stop polling once nothing is open and nothing
    // more was found (for a batch: once no delivery of it is pending, as
    // another runner may hold some).
    bool more =
        options_.keep_running || engine_->open_deliveries() > 0 || claimed > 0;
    if (!more && options_.events) {
      Result<std::map<std::string, DeliveryCounts>> counts =
          store_.CountByHook(options_.events->first, options_.events->second);
      if (!counts.ok()) return Fail(counts.error());
      for (const auto& [hook, c] : *counts) more = more || c.pending > 0;
    }
    if (more) {
      clock_.ScheduleAfter(claimed > 0 && !options_.keep_running
                               ? Duration::zero()
                               : options_.poll_interval,
                           [this] { Poll(); });
    }
  }

  Status Restore(ClaimedDelivery d, int64_t now_ms) {
    auto hook = hook_index_.find(d.hook_id);
    if (hook == hook_index_.end()) {
      const uint32_t index =
          engine_->AddHook(Hook{d.hook_id, d.url, true, d.secret});
      hook = hook_index_.emplace(d.hook_id, index).first;
    }
    auto event = event_index_.find(d.event_id);
    if (event == event_index_.end()) {
      const uint32_t index =
          engine_->RecordEvent(std::move(d.event_type), std::move(d.body));
      event = event_index_.emplace(d.event_id, index).first;
    }
    RestoredDelivery restored;
    restored.id = d.id;
    restored.hook = hook->second;
    restored.event = event->second;
    restored.attempts_made = d.attempts_started;
    restored.delay = Millis(std::max<int64_t>(0, d.next_at_ms - now_ms));
    Result<uint32_t> index = engine_->RestoreDelivery(std::move(restored));
    if (!index.ok()) return index.error();
    open_[d.id] = d.hook_id;
    return std::nullopt;
  }

  bool Gate(const Delivery& d) {
    if (summary_.error) return false;
    Result<AttemptGate> gate =
        store_.BeginAttempt(owner_, d.id, d.attempts + 1, WallNowMs());
    if (!gate.ok()) {
      Fail(gate.error());
      return false;
    }
    if (*gate == AttemptGate::kStart) return true;
    const std::string& hook = engine_->hooks()[d.hook].id;
    if (*gate == AttemptGate::kHeld) {
      ++summary_.by_hook[hook].held;
    } else {
      ++summary_.by_hook[hook].cancelled;
    }
    if (options_.trace) {
      out_ << d.id << "  hook=" << hook << "  "
           << (*gate == AttemptGate::kHeld ? "held: hook paused"
                                           : "dropped: hook removed")
           << "\n";
    }
    open_.erase(d.id);
    return false;
  }

  void OnAttemptEnded(const AttemptRecord& record) {
    ++summary_.attempts;
    const Delivery& d = engine_->deliveries()[record.delivery];
    const std::string& hook = engine_->hooks()[d.hook].id;
    AttemptEnd end;
    end.delivery_id = d.id;
    end.attempt = record.attempt;
    end.ended_ms = WallNowMs();
    end.result = DescribeAttemptResult(record.result);
    end.state = std::string(DeliveryStateName(d.state));
    end.next_at_ms = end.ended_ms;
    if (record.next_at) {
      end.next_at_ms += ToMillis(*record.next_at - clock_.Now());
    }
    if (Status s = store_.EndAttempt(owner_, end)) return Fail(*s);
    if (d.state == DeliveryState::kDelivered) {
      ++summary_.by_hook[hook].delivered;
      open_.erase(d.id);
    } else if (d.state == DeliveryState::kGaveUp) {
      ++summary_.by_hook[hook].gave_up;
      open_.erase(d.id);
    }
    if (options_.trace) {
      out_ << FormatAttemptLine(*engine_, record) << "\n";
      out_.flush();
    }
    if (options_.progress) ShowProgress();
  }

  void ShowProgress() {
    const auto now = std::chrono::steady_clock::now();
    if (progress_shown_ &&
        now - last_progress_ < std::chrono::milliseconds(100)) {
      return;
    }
    last_progress_ = now;
    progress_shown_ = true;
    uint64_t delivered = 0, gave_up = 0;
    for (const auto& [hook, c] : summary_.by_hook) {
      delivered += static_cast<uint64_t>(c.delivered);
      gave_up += static_cast<uint64_t>(c.gave_up);
    }
    out_ << "\r" << (delivered + gave_up) << "/" << claimed_total_
         << " ended: " << delivered << " delivered, " << gave_up << " gave_up, "
         << summary_.attempts << " attempts";
    out_.flush();
  }

  StateStore& store_;
  const DurableRunOptions& options_;
  std::ostream& out_;
  const std::string owner_;
  RealClock clock_;
  HttpTransport transport_;
  EngineOptions engine_options_;
  std::unique_ptr<DeliveryEngine> engine_;
  std::unordered_map<std::string, uint32_t> hook_index_;
  std::unordered_map<int64_t, uint32_t> event_index_;
  std::map<std::string, std::string> open_;  // Delivery id -> hook id.
  DurableRunSummary summary_;
  uint64_t claimed_total_ = 0;
  bool progress_shown_ = false;
  std::chrono::steady_clock::time_point last_progress_{};
};

}  // namespace

int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

DurableRunSummary RunDurableDeliveries(StateStore& store,
                                       const DurableRunOptions& options,
                                       std::ostream& out) {
  Runner runner(store, options, out);
  return runner.Run();
}

}  // namespace hooksim
