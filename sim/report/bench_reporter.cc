#include "sim/report/bench_reporter.h"

#include <algorithm>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

#include "sim/contract/sender_env.h"

namespace hooksim {
namespace {

double Ms(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

nlohmann::ordered_json LatencyJson(const LatencyHistogram& h) {
  nlohmann::ordered_json j;
  j["count"] = h.count();
  j["p50"] = Ms(h.Percentile(0.50));
  j["p90"] = Ms(h.Percentile(0.90));
  j["p99"] = Ms(h.Percentile(0.99));
  j["p99_9"] = Ms(h.Percentile(0.999));
  j["max"] = Ms(h.max());
  j["mean"] = Ms(h.mean());
  return j;
}

// Attempts by outcome: "http_200", "http_500", "timeout", "reset", ...
nlohmann::ordered_json OutcomesJson(const BenchFigures& f, bool errors_only) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (int s = 0; s < kBenchMaxStatus; ++s) {
    if (f.status[s] == 0 || (errors_only && s >= 200 && s < 300)) continue;
    j["http_" + std::to_string(s)] = f.status[s];
  }
  for (size_t e = 1; e < f.errors.size(); ++e) {
    if (f.errors[e] == 0) continue;
    j[std::string(AttemptErrorName(static_cast<AttemptError>(e)))] =
        f.errors[e];
  }
  return j;
}

// The last `lines` lines of `text` (a sender's stderr), trimmed.
std::string LastLines(const std::string& text, size_t lines) {
  const size_t end = text.find_last_not_of("\r\n");
  if (end == std::string::npos) return "";
  size_t from = 0;
  size_t search = end;
  // Bounded by `lines` searches.
  for (size_t i = 0; i < lines; ++i) {
    const size_t nl = text.rfind('\n', search);
    if (nl == std::string::npos) {
      from = 0;
      break;
    }
    from = nl + 1;
    if (nl == 0) break;
    search = nl - 1;
  }
  return text.substr(from, end + 1 - from);
}

// The receiver-side figures of a --sender-cmd run (one receiver or all).
void ReceiverSideJson(const ReceiverSideFigures& f, nlohmann::ordered_json& j) {
  j["deliveries"] = f.deliveries;
  j["delivered"] = f.delivered;
  j["never_seen"] = f.never_seen;
  j["attempts"] = f.requests;
  j["duplicates"] = f.duplicates;
  j["unmatched_requests"] = f.unmatched_requests;
  j["wall_s"] = f.delivered_wall_s;
  j["deliveries_per_s"] = PerSecond(f.delivered, f.delivered_wall_s);
  j["attempts_per_s"] = PerSecond(f.requests, f.requests_wall_s);
  j["publish_to_first_attempt_ms"] = LatencyJson(f.publish_to_first_attempt);
  j["publish_to_first_2xx_ms"] = LatencyJson(f.publish_to_first_2xx);
  nlohmann::ordered_json answers = nlohmann::ordered_json::object();
  for (const auto& [answer, n] : f.answers) answers[answer] = n;
  j["answers"] = answers;
  j["retry_gaps"] = {{"gaps", f.retry_gaps.gaps},
                     {"mean_abs_error_ms", f.retry_gaps.mean_abs_error_ms()},
                     {"worst_error_ms", f.retry_gaps.worst_error_ms},
                     {"outside_schedule", f.retry_gaps.outside_schedule}};
  j["peak_open_connections"] = f.peak_open_connections;
  nlohmann::ordered_json errors = nlohmann::ordered_json::object();
  for (std::string_view kind : kBenchErrorKinds) errors[std::string(kind)] = 0;
  for (const auto& [kind, n] : f.errors) errors[kind] = n;
  j["errors"] = errors;
}

// One figure of a --vs-engine run, the sender's against the engine's.
struct EngineComparison {
  std::string key;    // In the JSON report's vs_engine object.
  std::string label;  // In the text report.
  double yours = 0;
  double engine = 0;
  // yours / engine; 0 when the engine's is 0.
  double ratio() const { return engine == 0 ? 0 : yours / engine; }
};

std::vector<EngineComparison> CompareWithEngine(const BenchRun& run) {
  const SenderFigures& y = *run.sender;
  const SenderFigures& e = *run.engine->sender;
  const auto row = [](std::string key, std::string label, double yours,
                      double engine) {
    return EngineComparison{std::move(key), std::move(label), yours, engine};
  };
  return {
      row("deliveries_per_s", "deliveries/s",
          PerSecond(y.total.delivered, y.total.delivered_wall_s),
          PerSecond(e.total.delivered, e.total.delivered_wall_s)),
      row("attempts_per_s", "attempts/s",
          PerSecond(y.total.requests, y.total.requests_wall_s),
          PerSecond(e.total.requests, e.total.requests_wall_s)),
      row("publish_to_first_attempt_ms_p99", "to first attempt p99 ms",
          Ms(y.total.publish_to_first_attempt.Percentile(0.99)),
          Ms(e.total.publish_to_first_attempt.Percentile(0.99))),
      row("publish_to_first_2xx_ms_p99", "to first 2xx p99 ms",
          Ms(y.total.publish_to_first_2xx.Percentile(0.99)),
          Ms(e.total.publish_to_first_2xx.Percentile(0.99))),
      row("retry_gap_mean_abs_error_ms", "retry gap mean error ms",
          y.total.retry_gaps.mean_abs_error_ms(),
          e.total.retry_gaps.mean_abs_error_ms()),
      row("sender_cpu_s", "sender cpu s", y.sender_cpu_s, e.sender_cpu_s),
  };
}

nlohmann::ordered_json SenderBenchJson(const BenchRun& run) {
  const BenchOptions& options = run.options;
  const SenderFigures& sf = *run.sender;
  nlohmann::ordered_json j;
  j["hooksim_version"] = std::string(kHooksimVersion);
  j["started_at"] = run.started_at;
  j["machine"] = {{"cores", run.cores}, {"cpu_model", run.cpu_model}};
  j["sender_cmd"] = *options.sender_cmd;
  j["model"] = options.rate ? "open" : "closed";
  j["rate"] = options.rate.value_or(0);
  j["receivers"] = options.receivers;
  j["seed"] = options.seed;
  j["contract"] = options.contract.profile;
  j["retry_schedule_ms"] = ScheduleText(options.schedule);
  j["jitter"] = options.jitter;
  j["events"] = sf.events_published;
  j["events_taken"] = sf.events_taken;
  ReceiverSideJson(sf.total, j);
  j["publish_lag_ms"] = LatencyJson(sf.publish_lag);
  j["sender"] = {{"outcome", sf.sender.Describe()},
                 {"exit_code", sf.sender.exit_code},
                 {"signal", sf.sender.signal},
                 {"ran_s", static_cast<double>(sf.sender.ran.count()) / 1e6},
                 {"cpu_s", sf.sender_cpu_s},
                 {"peak_rss_bytes", sf.sender_peak_rss_bytes},
                 {"stderr_tail", LastLines(sf.sender.stderr_text, 5)}};
  j["budget_ended"] = sf.budget_ended;
  j["peak_rss_bytes"] = run.peak_rss_bytes.value_or(0);
  j["interrupted"] = run.interrupted;
  j["per_receiver"] = nlohmann::ordered_json::array();
  for (const ReceiverSideFigures& r : sf.receivers) {
    nlohmann::ordered_json rj;
    rj["name"] = r.name;
    ReceiverSideJson(r, rj);
    j["per_receiver"].push_back(rj);
  }
  if (run.engine && run.engine->sender) {
    j["engine"] = SenderBenchJson(*run.engine);
    nlohmann::ordered_json vs;
    for (const EngineComparison& c : CompareWithEngine(run)) {
      vs[c.key] = c.ratio();
    }
    j["vs_engine"] = vs;
  }
  return j;
}

void ComparisonLines(const BenchRun& run, std::ostream& out) {
  out << "  vs engine   yours / hooksim deliver (same events, receivers, "
         "schedule) = ratio\n";
  for (const EngineComparison& c : CompareWithEngine(run)) {
    out << "    " << c.label;
    for (size_t i = c.label.size(); i < 28; ++i) out << ' ';
    out << FormatFixed(c.yours, 3) << " / " << FormatFixed(c.engine, 3)
        << " = " << FormatFixed(c.ratio(), 3) << "\n";
  }
}

void LatencyLine(std::ostream& out, const char* name,
                 const LatencyHistogram& h) {
  out << "    " << name << FormatFixed(Ms(h.Percentile(0.5)), 3) << " / "
      << FormatFixed(Ms(h.Percentile(0.9)), 3) << " / "
      << FormatFixed(Ms(h.Percentile(0.99)), 3) << " / "
      << FormatFixed(Ms(h.Percentile(0.999)), 3) << " / "
      << FormatFixed(Ms(h.max()), 3) << "\n";
}

void ReportSenderText(const BenchRun& run, std::ostream& out) {
  const BenchOptions& options = run.options;
  const SenderFigures& sf = *run.sender;
  const ReceiverSideFigures& t = sf.total;
  out << "hooksim bench: " << sf.events_published << " events -> sender `"
      << *options.sender_cmd << "` -> " << options.receivers << " receiver"
      << (options.receivers == 1 ? "" : "s") << ", "
      << (options.rate ? "open model at " + FormatFixed(*options.rate, 1) +
                             " events/s"
                       : std::string("closed model (all events at once)"))
      << ", seed " << options.seed << "\n";
  out << "  deliveries  " << t.delivered << " of " << t.deliveries
      << " delivered (" << t.never_seen << " never seen) in "
      << FormatFixed(t.delivered_wall_s, 3)
      << " s: " << FormatFixed(PerSecond(t.delivered, t.delivered_wall_s), 0)
      << " deliveries/s\n";
  out << "  attempts    " << t.requests << " (" << t.duplicates
      << " duplicates after a 2xx, " << t.unmatched_requests
      << " with a body that is no event's): "
      << FormatFixed(PerSecond(t.requests, t.requests_wall_s), 0)
      << " attempts/s\n";
  out << "  from publish, ms  p50 / p90 / p99 / p99.9 / max\n";
  LatencyLine(out, "to first attempt  ", t.publish_to_first_attempt);
  LatencyLine(out, "to first 2xx      ", t.publish_to_first_2xx);
  if (options.rate) LatencyLine(out, "publish lag       ", sf.publish_lag);
  out << "  answers     ";
  if (t.answers.empty()) out << "none";
  for (const auto& [answer, n] : t.answers) out << answer << "=" << n << " ";
  out << "\n";
  out << "  errors      ";
  bool any_error = false;
  for (const auto& [kind, n] : t.errors) {
    if (n == 0) continue;
    out << kind << "=" << n << " ";
    any_error = true;
  }
  out << (any_error ? "" : "none") << "\n";
  const RetryGapFigures& g = t.retry_gaps;
  out << "  retry gaps  " << g.gaps << " against "
      << (options.schedule.empty() ? std::string("no schedule")
                                   : ScheduleText(options.schedule) + " ms")
      << " +-" << FormatFixed(options.jitter * 100, 0) << " %";
  if (g.gaps > 0) {
    out << ": mean error " << FormatFixed(g.mean_abs_error_ms(), 1)
        << " ms, worst " << FormatFixed(g.worst_error_ms, 1) << " ms, "
        << g.outside_schedule << " outside";
  }
  out << "\n";
  out << "  connections " << t.peak_open_connections
      << " open at most (per receiver, summed)\n";
  if (sf.receivers.size() > 1) {
    for (const ReceiverSideFigures& r : sf.receivers) {
      out << "  " << r.name << "  " << r.delivered << "/" << r.deliveries
          << " delivered, " << r.requests << " attempts, " << r.duplicates
          << " duplicates, first 2xx p99 "
          << FormatFixed(Ms(r.publish_to_first_2xx.Percentile(0.99)), 3)
          << " ms\n";
    }
  }
  out << "  sender      " << sf.events_taken << " of "
      << sf.events_published << " events taken by its stdin; "
      << sf.sender.Describe()
      << " after " << FormatFixed(sf.sender.ran.count() / 1e6, 1) << " s; cpu "
      << FormatFixed(sf.sender_cpu_s, 2) << " s, peak rss "
      << FormatFixed(static_cast<double>(sf.sender_peak_rss_bytes) / (1 << 20),
                     1)
      << " MB" << (sf.budget_ended ? " (the --sender-wait-s budget ended)" : "")
      << "\n";
  const std::string tail = LastLines(sf.sender.stderr_text, 5);
  if (!tail.empty()) out << "  stderr      " << tail << "\n";
  if (run.engine && run.engine->sender) {
    const ReceiverSideFigures& e = run.engine->sender->total;
    out << "  engine      " << e.delivered << " of " << e.deliveries
        << " delivered, " << e.requests << " attempts, " << e.duplicates
        << " duplicates, " << e.never_seen << " never seen; "
        << run.engine->sender->sender.Describe() << "\n";
    ComparisonLines(run, out);
  }
  out.flush();
}

}  // namespace

nlohmann::ordered_json BenchJson(const BenchRun& run) {
  if (run.sender) return SenderBenchJson(run);
  const BenchOptions& options = run.options;
  const BenchFigures& f = run.figures;
  const double wall_s = run.wall_s;
  const uint64_t ended = f.ended();
  nlohmann::ordered_json j;
  j["hooksim_version"] = std::string(kHooksimVersion);
  j["started_at"] = run.started_at;
  j["machine"] = {{"cores", run.cores}, {"cpu_model", run.cpu_model}};
  j["target"] = options.target ? *options.target : "in-process receivers";
  j["receivers"] = options.receivers;
  j["connections"] = options.concurrency;
  j["io_threads"] = options.io_threads;
  j["failure_rate"] = options.failure_rate;
  j["seed"] = options.seed;
  j["retry_schedule_ms"] = nlohmann::ordered_json::array();
  for (Duration d : options.schedule) j["retry_schedule_ms"].push_back(Ms(d));
  j["timeout_ms"] = Ms(options.timeout);
  j["events"] = f.events_published;
  j["deliveries"] = ended;
  j["delivered"] = f.delivered;
  j["gave_up"] = f.gave_up;
  j["pending"] = f.deliveries_published - ended;
  j["attempts"] = f.attempts;
  j["retries"] = f.attempts - std::min(f.attempts, ended);
  j["payload_bytes_mean"] =
      f.events_published ? f.body_bytes / f.events_published : 0;
  j["wall_s"] = wall_s;
  j["deliveries_per_s"] = PerSecond(ended, wall_s);
  j["attempts_per_s"] = PerSecond(f.attempts, wall_s);
  j["latency_ms"] = LatencyJson(f.delivery_latency);
  j["attempt_latency_ms"] = LatencyJson(f.attempt_latency);
  j["outcomes"] = OutcomesJson(f, false);
  j["errors"] = OutcomesJson(f, true);
  if (!options.target) {
    j["receiver_requests"] = f.receiver_requests;
    j["receiver_schema_failures"] = f.receiver_schema_failures;
  }
  j["peak_rss_bytes"] = run.peak_rss_bytes.value_or(0);
  j["interrupted"] = run.interrupted;
  j["publish_lag_ms"] = LatencyJson(run.publish_lag);
  j["model"] = options.rate ? "open" : "closed";
  j["rate"] = options.rate.value_or(0);
  j["throughput"] = f.throughput.ToJson();

  return j;
}

void JsonBenchReporter::Report(const BenchRun& run) {
  out_ << BenchJson(run).dump(2) << "\n";
}

void TextBenchReporter::Report(const BenchRun& run) {
  if (run.sender) {
    ReportSenderText(run, out_);
    return;
  }
  std::ostream& out = out_;
  const BenchOptions& options = run.options;
  const BenchFigures& f = run.figures;
  const double wall_s = run.wall_s;
  const uint64_t ended = f.ended();
  const size_t hooks = static_cast<size_t>(options.receivers);
  const size_t connections = static_cast<size_t>(options.concurrency);
  const std::optional<uint64_t> peak = run.peak_rss_bytes;
  out << "hooksim bench: " << f.events_published << " events x " << hooks
      << (hooks == 1 ? " hook" : " hooks") << " -> "
      << (options.target ? *options.target
                         : std::to_string(hooks) + " in-process receiver" +
                               (hooks == 1 ? "" : "s"))
      << ", " << connections << " connections, failure rate "
      << options.failure_rate << ", seed " << options.seed << "\n";
  out << "  deliveries  " << ended << " (" << f.delivered << " delivered, "
      << f.gave_up << " gave_up) in " << FormatFixed(wall_s, 3)
      << " s: " << FormatFixed(PerSecond(ended, wall_s), 0) << " deliveries/s\n";
  out << "  attempts    " << f.attempts << " ("
      << f.attempts - std::min(f.attempts, ended)
      << " retries): " << FormatFixed(PerSecond(f.attempts, wall_s), 0) << " attempts/s\n";
  out << "  latency ms  p50 / p90 / p99 / p99.9 / max\n";
  auto latency_line = [&out](const char* name, const LatencyHistogram& h) {
    out << "    " << name << FormatFixed(Ms(h.Percentile(0.5)), 3) << " / "
        << FormatFixed(Ms(h.Percentile(0.9)), 3) << " / "
        << FormatFixed(Ms(h.Percentile(0.99)), 3) << " / "
        << FormatFixed(Ms(h.Percentile(0.999)), 3) << " / " << FormatFixed(Ms(h.max()), 3)
        << "\n";
  };
  latency_line("delivery  ", f.delivery_latency);
  latency_line("attempt   ", f.attempt_latency);
  if (options.rate) latency_line("pub. lag  ", run.publish_lag);
  out << "  errors      ";
  const nlohmann::ordered_json errors = OutcomesJson(f, true);
  if (errors.empty()) out << "none";
  for (const auto& [kind, count] : errors.items()) {
    out << kind << "=" << count.get<uint64_t>() << " ";
  }
  out << "\n";
  if (!options.target) {
    out << "  receivers   " << f.receiver_requests
        << (f.receiver_requests == 1 ? " request, " : " requests, ")
        << f.receiver_schema_failures
        << (f.receiver_schema_failures == 1 ? " schema failure\n"
                                            : " schema failures\n");
  }
  out << "  peak rss    "
      << (peak ? FormatFixed(static_cast<double>(*peak) / (1 << 20), 1) + " MB"
               : std::string("unknown"))
      << "\n";
  out.flush();
}

}  // namespace hooksim
