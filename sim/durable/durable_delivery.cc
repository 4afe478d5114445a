#include "sim/durable/durable_delivery.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <unordered_map>

#include "sim/base/time.h"
#include "sim/contract/contract_file.h"
#include "sim/engine/attempt_line.h"
#include "sim/engine/delivery_engine.h"
#include "sim/engine/retry_policy.h"
#include "sim/os/interrupt_watcher.h"

namespace hooksim {
namespace {

// Claims reach this far ahead; a retry due later is handed back.
constexpr Duration kMinHorizon = std::chrono::seconds(5);
// Past the attempt timeout, how long a drain waits for attempts in flight.
constexpr Duration kDrainSlack = std::chrono::seconds(2);

}  // namespace

class DurableRunner::Impl {
 public:
  Impl(DeliveryStore& store, DurableEnv env, const DurableRunOptions& options,
       std::ostream& out)
      : store_(store),
        options_(options),
        out_(out),
        owner_(NewOwnerToken()),
        lease_ms_(std::max<int64_t>(1, ToMillis(options.lease))),
        horizon_(std::max(kMinHorizon, options.poll_interval)),
        max_open_(std::clamp<size_t>(
            static_cast<size_t>(std::max<int64_t>(1, options.concurrency)) *
                32,
            256, kMaxOpenDeliveries)),
        env_(std::move(env)),
        clock_(*env_.loop),
        transport_(*env_.transport) {}

  DurableRunSummary Run(const LoopLimits& limits) {
    if (Status s = Start(); !s.ok()) {
      summary_.error = std::move(s);
      return std::move(summary_);
    }

    // Signals reach the loop thread as external work: the first drains,
    // the second stops at once.
    std::optional<InterruptWatcher> watcher;
    if (options_.handle_signals) {
      clock_.BeginExternalWork();
      InterruptWatcherOptions w;
      w.sigterm = true;
      w.on_repeat = [this] {
        if (options_.abort) options_.abort->store(true);
        clock_.Stop();
      };
      watcher.emplace(
          [this] {
            clock_.CompleteExternalWork([this] { BeginDrain(true); });
          },
          std::move(w));
    }
    const Status run = clock_.Run(limits);
    return Finish(run, &watcher);
  }

  Status Start() {
    EngineOptions engine_options;
    engine_options.seed = options_.seed;
    engine_options.policy = RetryPolicy::WithAttemptsOf(
        options_.contract, options_.schedule, options_.jitter,
        options_.timeout);
    engine_options.contract = options_.contract;
    engine_options.keep_attempt_log = false;
    engine_options.slots = SlotReuse::kEnded;  // Bounded: slots are reused.
    // As many attempts in flight as the transport has connections: an
    // attempt started is written at once, never queued in the transport.
    engine_options.max_in_flight = static_cast<size_t>(options_.concurrency);
    // webhook-timestamp: the loop's zero in Unix time.
    engine_options.unix_origin = env_.unix_origin;
    if (Status s = engine_options.policy.Validate(); !s.ok()) {
      return Status(s.code(), "retry policy " + s.ToString());
    }
    engine_ =
        std::make_unique<DeliveryEngine>(clock_, transport_, engine_options);
    engine_->SetAttemptGate(
        [this](const Delivery& d, uint32_t) { return Gate(d); });
    engine_->SetRetryHook([this](const Delivery&, Duration delay) {
      hand_back_ = draining_ || delay > horizon_;
      return !hand_back_;
    });
    engine_->SetAttemptObserver(
        [this](const AttemptRecord& record) { OnAttemptEnded(record); });
    // A delivery the engine ended without an attempt: its hook was disabled
    // by another delivery's 410 Gone (the others end in OnAttemptEnded).
    engine_->SetEndedObserver([this](const Delivery& d, const EventRecord&) {
      if (open_.count(d.id.str()) == 0) return;
      const std::string hook = engine_->hooks()[d.hook].id;
      AttemptEnd end;
      end.delivery_id = d.id.str();
      end.attempt = 0;  // No attempt: only the delivery's state changes.
      end.ended_ms = WallNow();
      end.result = d.attempts > 0 ? DescribeAttemptResult(d.last) : "";
      end.state = "gave_up";
      end.next_at_ms = end.ended_ms;
      if (Result<bool> stored = store_.EndAttempt(owner_, end); !stored.ok()) {
        StorageFailure(stored.error());
      }
      ++summary_.by_hook[hook].gave_up;
      if (options_.trace) {
        out_ << d.id << "  hook=" << hook
             << "  endpoint disabled by a 410 Gone: not sent  -> gave_up\n";
      }
      Left(d.id.str());
    });
    clock_.ScheduleAfter(Duration::zero(), [this] { Poll(); });
    ScheduleRenewal();
    return Status::Ok();
  }

  // `watcher` (may be null): read, then stopped once the transport is.
  DurableRunSummary Finish(Status run,
                           std::optional<InterruptWatcher>* watcher) {
    // Attempts still in flight are abandoned here: recorded as started,
    // not ended; the next runner counts them.
    summary_.abandoned = in_flight();
    if (env_.stop_transport) env_.stop_transport();
    if (watcher != nullptr && watcher->has_value()) {
      summary_.interrupted = (*watcher)->interrupted();
      summary_.signal = (*watcher)->signal();
      watcher->reset();
    }
    if (!run.ok() && summary_.error.ok()) summary_.error = run;
    if (Status s = store_.Release(owner_); !s.ok() && summary_.error.ok()) {
      summary_.error = s;
    }
    // Whatever it still held stays pending in the store.
    for (const auto& [id, hook] : open_) ++summary_.by_hook[hook].pending;
    if (options_.progress && progress_shown_) out_ << "\n";
    out_.flush();
    return std::move(summary_);
  }

  size_t in_flight() const { return engine_ ? engine_->in_flight() : 0; }

 private:
  int64_t WallNow() const { return env_.wall_now_ms(); }

  // Ends the run: the loop returns, then Finish runs.
  void StopLoop() {
    finished_ = true;
    clock_.Stop();
  }

  // A store error: record it, then drain (outcomes of attempts in flight
  // are still recorded where the store can).
  void StorageFailure(Status error) {
    if (summary_.error.ok()) summary_.error = std::move(error);
    BeginDrain(false);
  }

  void BeginDrain(bool by_signal) {
    if (draining_ || finished_) return;
    draining_ = true;
    const size_t in_flight = engine_->in_flight();
    if (by_signal) {
      out_ << (options_.progress && progress_shown_ ? "\n" : "")
           << "stopping: no new attempts; waiting for " << in_flight
           << (in_flight == 1 ? " attempt" : " attempts")
           << " in flight (a second signal stops at once)\n";
      out_.flush();
    }
    if (in_flight == 0) return StopLoop();
    clock_.ScheduleAfter(options_.timeout + kDrainSlack, [this] {
      if (!finished_) StopLoop();
    });
  }

  void ScheduleRenewal() {
    clock_.ScheduleAfter(Millis(std::max<int64_t>(1, lease_ms_ / 3)), [this] {
      if (finished_) return;
      Result<int64_t> n = store_.RenewLeases(owner_, WallNow(), lease_ms_);
      if (!n.ok()) return StorageFailure(n.error());
      ScheduleRenewal();
    });
  }

  // At most one poll is pending; a sooner request replaces a later one.
  void SchedulePoll(Duration delay) {
    const TimePoint due = clock_.Now() + delay;
    if (poll_pending_ && poll_due_ <= due) return;
    poll_pending_ = true;
    poll_due_ = due;
    const uint64_t token = ++poll_token_;
    clock_.ScheduleAfter(delay, [this, token] {
      if (token == poll_token_) Poll();
    });
  }

  void Poll() {
    poll_pending_ = false;
    if (draining_ || finished_) return;
    const int64_t now_ms = WallNow();
    size_t claimed = 0;
    size_t limit = 0;
    if (open_.size() < max_open_) {
      ClaimOptions claim;
      claim.scope = options_.scope;
      limit = std::min(kMaxClaimBatch, max_open_ - open_.size());
      claim.limit = limit;
      claim.due_by_ms = now_ms + ToMillis(horizon_);
      claim.lease_ms = lease_ms_;
      // Hooks without a contract of their own: the runner's attempts.
      claim.max_attempts = options_.contract.max_attempts();
      Result<ClaimResult> result = store_.Claim(owner_, claim, now_ms);
      if (!result.ok()) return StorageFailure(result.error());
      if (options_.metrics) {
        for (const auto* list :
             {&result->deliveries, &result->gave_up, &result->failed}) {
          for (const ClaimedDelivery& d : *list) {
            if (d.taken_over) options_.metrics->CountTakeover();
          }
        }
      }
      for (const ClaimedDelivery& d : result->gave_up) {
        ++summary_.by_hook[d.hook_id].gave_up;
        if (options_.trace) {
          out_ << d.id << "  hook=" << d.hook_id << "  " << d.attempts_started
               << " attempts started before a stop  -> gave_up\n";
        }
      }
      for (const ClaimedDelivery& d : result->gone) {
        ++summary_.by_hook[d.hook_id].gave_up;
        if (options_.trace) {
          out_ << d.id << "  hook=" << d.hook_id
               << "  endpoint disabled by a 410 Gone: not sent  -> gave_up\n";
        }
      }
      for (const ClaimedDelivery& d : result->failed) {
        ++summary_.by_hook[d.hook_id].failed;
        out_ << d.id << "  hook=" << d.hook_id
             << "  stored body does not match its checksum: not sent  -> "
                "failed\n";
      }
      for (ClaimedDelivery& d : result->deliveries) {
        if (Status s = Restore(std::move(d), now_ms); !s.ok()) {
          return StorageFailure(s);
        }
        ++claimed;
      }
      claimed_total_ += claimed;
    }
    backlog_ = limit > 0 && claimed == limit;
    if (!options_.keep_running && open_.empty() && claimed == 0) {
      Result<PendingInfo> pending =
          store_.Pending(owner_, options_.scope, now_ms);
      if (!pending.ok()) return StorageFailure(pending.error());
      if (pending->pending == 0) return StopLoop();
      if (pending->leased_by_others > 0 && !waiting_shown_) {
        waiting_shown_ = true;
        out_ << "waiting for " << pending->leased_by_others
             << " pending deliveries another runner holds (its lease ends in "
             << std::max<int64_t>(0, pending->next_lease_end_ms - now_ms) /
                    1000
             << " s unless renewed)\n";
        out_.flush();
      }
    }
    SchedulePoll(claimed > 0 && !backlog_ && !options_.keep_running
                     ? Duration::zero()
                     : options_.poll_interval);
  }

  // The hook's own contract (its stored JSON), with the runner's given
  // flags over its schedule, jitter and timeout; null when it has none.
  Result<std::shared_ptr<const HookContract>> HookProfile(
      const ClaimedDelivery& d) {
    if (d.contract.empty()) return std::shared_ptr<const HookContract>();
    Result<Contract> contract = ParseContractText(d.contract, d.hook_id);
    if (!contract.ok()) {
      return Status(contract.error().code(),
                    "hook " + d.hook_id +
                        ": its stored contract: " + contract.error().ToString());
    }
    auto profile = std::make_shared<HookContract>();
    profile->contract = std::move(contract).value();
    profile->policy = RetryPolicy::FromContract(profile->contract);
    if (options_.schedule_given) profile->policy.schedule = options_.schedule;
    if (options_.jitter_given) profile->policy.jitter = options_.jitter;
    if (options_.timeout_given) profile->policy.timeout = options_.timeout;
    if (Status s = profile->policy.Validate(); !s.ok()) {
      return Status(s.code(),
                    "hook " + d.hook_id + ": retry policy " + s.ToString());
    }
    return std::shared_ptr<const HookContract>(std::move(profile));
  }

  Status Restore(ClaimedDelivery d, int64_t now_ms) {
    auto hook = hook_index_.find(d.hook_id);
    if (hook == hook_index_.end()) {
      Result<std::shared_ptr<const HookContract>> profile = HookProfile(d);
      if (!profile.ok()) return profile.error();
      Hook h{d.hook_id, d.url, true, d.secret, nullptr};
      h.contract = std::move(profile).value();
      const uint32_t index = engine_->AddHook(std::move(h));
      hook = hook_index_.emplace(d.hook_id, index).first;
    }
    RestoredDelivery restored;
    restored.id = d.id;
    restored.hook = hook->second;
    restored.event =
        engine_->RecordEvent(std::move(d.event_type), std::move(d.body));
    restored.attempts_made = d.attempts_started;
    restored.delay = Millis(std::max<int64_t>(0, d.next_at_ms - now_ms));
    Result<uint32_t> index = engine_->RestoreDelivery(std::move(restored));
    if (!index.ok()) return index.error();
    open_[d.id] = d.hook_id;
    summary_.peak_open = std::max(summary_.peak_open, open_.size());
    return Status::Ok();
  }

  // A delivery left this runner (ended, handed back, held, ...).
  void Left(const std::string& id) {
    open_.erase(id);
    if (backlog_ && !draining_ && open_.size() <= max_open_ / 2) {
      SchedulePoll(Duration::zero());
    }
  }

  bool Gate(const Delivery& d) {
    // Draining: the row stays held until Release, then pending.
    if (draining_ || finished_) return false;
    Result<AttemptGate> gate = store_.BeginAttempt(
        owner_, d.id.str(), d.attempts + 1, WallNow(), lease_ms_);
    if (!gate.ok()) {
      StorageFailure(gate.error());
      return false;
    }
    if (*gate == AttemptGate::kStart) return true;
    const std::string hook = engine_->hooks()[d.hook].id;
    const char* what = "";
    switch (*gate) {
      case AttemptGate::kHeld:
        ++summary_.by_hook[hook].held;
        what = "held: hook paused";
        break;
      case AttemptGate::kCancelled:
        ++summary_.by_hook[hook].cancelled;
        what = "cancelled: hook removed";
        break;
      case AttemptGate::kGone:
        ++summary_.by_hook[hook].gave_up;
        what = "endpoint disabled by a 410 Gone: not sent  -> gave_up";
        break;
      default:
        what = "dropped: another runner holds it now";
        break;
    }
    if (options_.trace) out_ << d.id << "  hook=" << hook << "  " << what << "\n";
    Left(d.id.str());
    return false;
  }

  void OnAttemptEnded(const AttemptRecord& record) {
    ++summary_.attempts;
    if (options_.metrics) {
      options_.metrics->CountAttempt(
          record.result,
          std::chrono::duration<double>(record.ended - record.started)
              .count());
    }
    const Delivery& d = engine_->deliveries()[record.delivery];
    const std::string hook = engine_->hooks()[d.hook].id;
    const std::string id = d.id.str();
    AttemptEnd end;
    end.delivery_id = id;
    end.attempt = record.attempt;
    end.ended_ms = WallNow();
    end.result = DescribeAttemptResult(record.result);
    if (record.result.error == AttemptError::kNone &&
        record.result.retry_after_ms == kBadRetryAfter) {
      end.result += " (Retry-After unreadable: ignored)";
    }
    end.state = std::string(DeliveryStateName(d.state));
    end.next_at_ms = end.ended_ms;
    if (record.next_at) {
      end.next_at_ms += ToMillis(*record.next_at - clock_.Now());
    }
    const bool handed_back = d.state == DeliveryState::kPending && hand_back_;
    end.release = handed_back;
    hand_back_ = false;
    Result<bool> stored = store_.EndAttempt(owner_, end);
    if (!stored.ok()) {
      // The outcome is lost, as in a crash: the attempt still counts.
      StorageFailure(stored.error());
    }
    if (options_.trace) {
      out_ << FormatAttemptLine(*engine_, record) << "\n";
      out_.flush();
    }
    if (d.state == DeliveryState::kDelivered) {
      ++summary_.by_hook[hook].delivered;
      Left(id);
    } else if (d.state == DeliveryState::kGaveUp) {
      ++summary_.by_hook[hook].gave_up;
      if (d.stopped_by_gone) {
        // The contract disables the endpoint: for every runner, from now.
        if (Status s = store_.DisableHook(hook, end.ended_ms); !s.ok()) {
          StorageFailure(s);
        }
      }
      Left(id);
    } else if (handed_back) {
      Left(id);
    }
    if (options_.progress) ShowProgress();
    // (This attempt no longer counts in flight here.)
    if (draining_ && engine_->in_flight() == 0) StopLoop();
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

  DeliveryStore& store_;
  const DurableRunOptions& options_;
  std::ostream& out_;
  const std::string owner_;
  const int64_t lease_ms_;
  const Duration horizon_;
  const size_t max_open_;
  DurableEnv env_;
  EventLoop& clock_;
  Transport& transport_;
  std::unique_ptr<DeliveryEngine> engine_;
  std::unordered_map<std::string, uint32_t> hook_index_;
  // Deliveries this runner holds: id -> hook id. At most max_open_.
  std::unordered_map<std::string, std::string> open_;
  DurableRunSummary summary_;
  uint64_t claimed_total_ = 0;
  bool draining_ = false;
  bool finished_ = false;
  bool hand_back_ = false;  // Set by the retry hook for the observer.
  bool backlog_ = false;    // The last claim was full: more may wait.
  bool waiting_shown_ = false;
  bool poll_pending_ = false;
  TimePoint poll_due_{};
  uint64_t poll_token_ = 0;
  bool progress_shown_ = false;
  std::chrono::steady_clock::time_point last_progress_{};
};

int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

DurableRunner::DurableRunner(DeliveryStore& store, DurableEnv env,
                             const DurableRunOptions& options,
                             std::ostream& out)
    : impl_(std::make_unique<Impl>(store, std::move(env), options, out)) {}

DurableRunner::~DurableRunner() = default;

DurableRunSummary DurableRunner::Run(const LoopLimits& limits) {
  return impl_->Run(limits);
}

Status DurableRunner::Start() { return impl_->Start(); }

DurableRunSummary DurableRunner::Finish(Status run) {
  return impl_->Finish(std::move(run), nullptr);
}

size_t DurableRunner::in_flight() const { return impl_->in_flight(); }

}  // namespace hooksim
