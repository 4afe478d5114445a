#include "sim/cli/conform_command.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <thread>

#include "mock-receivers/behavior_parser.h"
#include "mock-receivers/http/http_receiver_server.h"
#include "mock-receivers/receiver.h"
#include "sim/base/parse_number.h"
#include "sim/base/random.h"
#include "sim/cli/conform_html.h"
#include "sim/cli/deliver_command.h"
#include "sim/cli/exit_code.h"
#include "sim/contract/contract_file.h"
#include "sim/contract/event_file.h"
#include "sim/contract/payload_validator.h"
#include "sim/contract/sender_env.h"
#include "sim/judge/journal_judge.h"
#include "sim/os/child_process.h"
#include "sim/os/interrupt_watcher.h"
#include "sim/os/temp_dir.h"
#include "sim/report/html_page.h"
#include "sim/report/junit_writer.h"

namespace hooksim {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr size_t kJournalCapacity = 4096;

constexpr const char* kConformUsage =
    "usage: hooksim conform --sender-cmd CMD [--cases LIST] "
    "[--case-timeout-s S] [--quiet-ms Q]\n"
    "         [--slow-ms MS] [--hang-ms MS] [--timing-slack-ms MS]\n"
    "         [--parallel N] [--seed S]\n"
    "         [--junit FILE] [--report-json FILE] [--report-html FILE]\n"
    "         [--contract NAME|FILE] [--list-cases]\n"
    "\n"
    "Checks a webhook sender written in any language against the contract.\n"
    "For each case of the battery, starts a mock receiver with the case's\n"
    "behaviour on 127.0.0.1, writes the case's events to a file (one JSON\n"
    "document per line) and runs CMD with HOOKSIM_URL (where to deliver),\n"
    "HOOKSIM_EVENT_FILE (what to deliver) and HOOKSIM_CASE set. When CMD has\n"
    "exited and the receiver has been quiet for --quiet-ms (or the case\n"
    "budget ends; CMD is then stopped), judges what the receiver recorded:\n"
    "attempts per event (C5/C6), no redirect followed, method (C1), content\n"
    "type (C2), body shape (C3), release schema (C4), unchanged body (C7).\n"
    "Prints one row per case and rule: pass, fail (what was expected and\n"
    "seen) or could-not-judge.\n"
    "Exit codes: 0 all rules passed, 1 a rule failed or could not be judged,\n"
    "2 bad usage, 130 interrupted (Ctrl-C; senders are stopped).\n";

constexpr auto kPollStep = Millis(50);
constexpr auto kStopGrace = std::chrono::seconds(2);

Duration Since(SteadyClock::time_point t) {
  return std::chrono::duration_cast<Duration>(SteadyClock::now() - t);
}

double ToSeconds(Duration d) { return static_cast<double>(d.count()) / 1e6; }

std::shared_ptr<CachedPayloadValidator> SharedValidator() {
  static std::shared_ptr<CachedPayloadValidator> cache = [] {
    Result<std::shared_ptr<const PayloadValidator>> bundled =
        PayloadValidator::Bundled();
    return bundled.ok() ? std::make_shared<CachedPayloadValidator>(*bundled)
                        : nullptr;
  }();
  return cache;
}

std::string RowDetail(const RuleVerdict& v) {
  return v.verdict == CaseVerdict::kPass ? v.seen : v.message;
}

JUnitCase::Status ToJUnit(CaseVerdict v) {
  switch (v) {
    case CaseVerdict::kPass:
      return JUnitCase::Status::kPassed;
    case CaseVerdict::kFail:
      return JUnitCase::Status::kFailed;
    case CaseVerdict::kCouldNotJudge:
      return JUnitCase::Status::kError;
  }
  return JUnitCase::Status::kError;
}

std::string OutputNote(const std::string& text, bool truncated) {
  return truncated ? text + "\n[hooksim: output cut at 1 MiB]\n" : text;
}

}  // namespace

std::vector<JUnitSuite> ConformJUnit(const std::vector<CaseResult>& results,
                                     Duration total) {
  JUnitSuite suite;
  suite.name = "hooksim conform";
  suite.seconds = ToSeconds(total);
  for (const CaseResult& r : results) {
    bool first = true;
    for (const RuleVerdict& v : r.verdicts) {
      JUnitCase jc;
      jc.classname = "conform." + r.c.name;
      jc.name = r.c.name + "/" + v.rule;
      jc.seconds = first ? ToSeconds(r.elapsed) : 0;
      jc.status = ToJUnit(v.verdict);
      if (v.verdict != CaseVerdict::kPass) {
        jc.message = v.message;
        jc.details = "case: " + r.c.name + " (receiver: " + r.c.behaviour +
                     ")\nrule: " + v.rule + " (" + v.contract +
                     ")\nexpected: " + v.expected + "\nseen: " + v.seen + "\n" +
                     v.message + "\nsender: " + DescribeSender(r.observation) +
                     "\n";
      }
      if (first || v.verdict != CaseVerdict::kPass) {
        const ChildOutcome& s = r.observation.sender;
        jc.system_out = OutputNote(s.stdout_text, s.stdout_truncated);
        jc.system_err = OutputNote(s.stderr_text, s.stderr_truncated);
      }
      first = false;
      suite.cases.push_back(std::move(jc));
    }
  }
  return {suite};
}

namespace {

nlohmann::json ToJson(const ConformOptions& options,
                      const std::vector<CaseResult>& results, Duration total,
                      bool interrupted) {
  using nlohmann::json;
  json cases = json::array();
  size_t passed = 0, failed = 0, unjudged = 0;
  for (const CaseResult& r : results) {
    const CaseObservation& o = r.observation;
    json requests = json::array();
    for (const ObservedRequest& q : o.requests) {
      const int event = MatchEvent(r.c, q.body_hash, q.body_size);
      requests.push_back(
          {{"at_ms", ToMillis(q.at)},
           {"method", q.method},
           {"target", q.target},
           {"content_type", q.content_type},
           {"event", event < 0 ? json(nullptr) : json(event + 1)},
           {"body_bytes", q.body_size},
           {"delivery_id", q.delivery_id},
           {"answer", DescribeAnswer(q.answer)},
           {"abandoned", q.abandoned},
           {"schema_issue", q.schema_issue}});
    }
    json rules = json::array();
    for (const RuleVerdict& v : r.verdicts) {
      passed += v.verdict == CaseVerdict::kPass;
      failed += v.verdict == CaseVerdict::kFail;
      unjudged += v.verdict == CaseVerdict::kCouldNotJudge;
      rules.push_back({{"rule", v.rule},
                       {"contract", v.contract},
                       {"verdict", VerdictName(v.verdict)},
                       {"expected", v.expected},
                       {"seen", v.seen},
                       {"message", v.message}});
    }
    const ChildOutcome& s = o.sender;
    json sender = {{"description", DescribeSender(o)},
                   {"ended", s.ended},
                   {"stopped_by_hooksim", s.stopped},
                   {"exit_code", s.ended && s.signal == 0 ? json(s.exit_code)
                                                          : json(nullptr)},
                   {"signal", s.signal == 0 ? json(nullptr) : json(s.signal)},
                   {"ran_ms", ToMillis(s.ran)},
                   {"budget_ended", o.budget_ended},
                   {"stdout", s.stdout_text},
                   {"stdout_truncated", s.stdout_truncated},
                   {"stderr", s.stderr_text},
                   {"stderr_truncated", s.stderr_truncated}};
    cases.push_back({{"name", r.c.name},
                     {"receiver", r.c.behaviour},
                     {"behavior", BehaviorToJson(r.c.behavior)},
                     {"events", r.c.events.size()},
                     {"expected_attempts_per_event", r.c.expected_attempts},
                     {"why", r.c.why},
                     {"url", r.url},
                     {"elapsed_ms", ToMillis(r.elapsed)},
                     {"requests_dropped", o.dropped_requests},
                     {"sender", sender},
                     {"requests", requests},
                     {"rules", rules}});
  }
  return {{"command", "conform"},
          {"sender_cmd", options.sender_cmd},
          {"options",
           {{"case_timeout_s", ToMillis(options.case_budget) / 1000},
            {"quiet_ms", ToMillis(options.quiet)},
            {"slow_ms", ToMillis(options.battery.slow)},
            {"hang_ms", ToMillis(options.battery.hang)},
            {"timing_slack_ms", ToMillis(options.battery.timing_slack)},
            {"parallel", options.parallel},
            {"seed", options.battery.seed},
            {"contract", options.battery.contract.profile}}},
          {"interrupted", interrupted},
          {"elapsed_ms", ToMillis(total)},
          {"summary",
           {{"cases", results.size()},
            {"rules", passed + failed + unjudged},
            {"passed", passed},
            {"failed", failed},
            {"could_not_judge", unjudged}}},
          {"cases", cases}};
}

}  // namespace

FlagSet ConformFlagSet(ConformOptions* o) {
  FlagSet flags("conform", kConformUsage);
  flags.Text("sender-cmd",
             "required: the shell command (run by /bin/sh -c) that delivers "
             "the events of $HOOKSIM_EVENT_FILE to $HOOKSIM_URL",
             &o->sender_cmd)
      .Value("CMD");
  flags.Text("cases",
             "comma-separated case names to run (default: all; see "
             "--list-cases)",
             &o->case_names)
      .Value("LIST");
  flags.Seconds("case-timeout-s",
                "budget of one case, from the sender's start (1..3600, "
                "default 120); a sender still running then is stopped",
                1, kMaxCaseBudgetS, &o->case_budget);
  flags.Millis("quiet-ms",
               "a case ends once the sender has exited and no request has "
               "come for this long (0..600000, default 3000)",
               0, 600'000, &o->quiet);
  flags.Millis("slow-ms",
               "how long the slow-2xx case takes to answer 200: within any "
               "sane timeout (0..600000, default 1500)",
               0, 600'000, &o->battery.slow);
  flags.Millis("hang-ms",
               "how long the reply-past-timeout case holds each answer: past "
               "the sender's timeout (1..3600000, default 30000; above "
               "--slow-ms)",
               1, 3'600'000, &o->battery.hang);
  flags.Millis("timing-slack-ms",
               "retry-timing: how far a gap may lie outside the handed "
               "delay +- the profile's jitter, each way (0..60000, default "
               "300); raise it on a loaded CI runner",
               0, 60'000, &o->battery.timing_slack);
  flags.Integer("parallel",
                "cases run at once, each with its own receiver (1..32, "
                "default 4)",
                1, kMaxConformParallel, &o->parallel);
  AddSeedFlag(flags,
              "seed of the generated release events (0..2^64-1, default 1)",
              &o->battery.seed);
  AddReportFlags(
      flags, {&o->report_json, &o->junit, &o->report_html},
      {.report_json = "write the full results as JSON to FILE (requests, "
                      "sender output)",
       .junit = "write JUnit XML to FILE (one testcase per case and rule)",
       .report_html = "write one self-contained HTML page to FILE: the case x "
                      "rule matrix, each case's requests and the sender's "
                      "stderr"});
  AddContractFlag(flags,
                  "NAME|FILE: the contract profile the sender promises "
                  "(expected attempts, 410 handling; default divshot); the "
                  "sender gets its name in HOOKSIM_CONTRACT",
                  &o->battery.contract);
  flags.Switch("list-cases",
               "print the battery (case, receiver behaviour, expectation) and "
               "exit",
               &o->list_cases);
  flags.PositionalHint("(give the sender with --sender-cmd 'CMD')");
  return flags;
}

Status CheckConformFlags(const FlagSet& flags, ConformOptions& o) {
  if (!o.list_cases) {
    if (!flags.Given("sender-cmd")) {
      return Status::InvalidArgument(
          "--sender-cmd is required (the command that delivers "
          "$HOOKSIM_EVENT_FILE to $HOOKSIM_URL)");
    }
    if (o.sender_cmd.find_first_not_of(" \t\n") == std::string::npos) {
      return Status::InvalidArgument("--sender-cmd: expected a shell command, got \"" +
                       o.sender_cmd + "\"");
    }
  }
  if (o.quiet >= o.case_budget) {
    return Status::InvalidArgument("--quiet-ms: must be below the case budget (" +
                     std::to_string(ToMillis(o.case_budget) / 1000) +
                     " s), got \"" + std::to_string(ToMillis(o.quiet)) + "\"");
  }
  if (o.battery.slow >= o.battery.hang) {
    return Status::InvalidArgument("--slow-ms: must be below --hang-ms (" +
                     std::to_string(ToMillis(o.battery.hang)) + "), got \"" +
                     std::to_string(ToMillis(o.battery.slow)) + "\"");
  }
  // A profile brings its own cases (conform_cases.h).
  if (flags.Given("contract")) o.battery.profile_cases = true;
  const std::vector<ConformCase> battery = ConformBattery(o.battery);
  if (o.case_names) {
    Result<std::vector<ConformCase>> selected =
        SelectCases(battery, *o.case_names);
    if (!selected.ok()) {
      return Status::InvalidArgument("--cases: " + selected.error().message());
    }
    o.cases = std::move(*selected);
  } else {
    o.cases = battery;
  }
  return Status::Ok();
}

const CommandFlags<ConformOptions> kConformFlags{ConformFlagSet,
                                                  CheckConformFlags};

std::string ConformHelp() { return HelpOf(kConformFlags); }

int RunConformCli(const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err) {
  return ParseAndRun(kConformFlags, args, out, err,
                     [&](ConformOptions& options) {
                       if (options.list_cases) {
                         // The battery needs no sender to be listed.
                         PrintConformCases(options.cases, out);
                         return ToInt(ExitCode::kOk);
                       }
                       options.command = CommandLine("conform", args);
                       return RunConform(options, out, err);
                     });
}

CaseResult RunConformCase(const ConformCase& c, const ConformOptions& options,
                          const std::atomic<bool>& stop) {
  CaseResult result;
  result.c = c;
  CaseObservation& obs = result.observation;
  obs.budget = options.case_budget;
  const auto started = SteadyClock::now();
  const auto fail_start = [&](std::string why) {
    obs.start_failed = true;
    obs.start_error = std::move(why);
    result.verdicts = JudgeCase(c, obs);
    result.elapsed = Since(started);
    return result;
  };

  TempDir dir("hooksim-conform");
  if (dir.path().empty()) return fail_start("cannot create a temporary dir");
  const std::string event_file = dir.path() + "/events.jsonl";
  if (Status s = WriteEventFile(event_file, c.events); !s.ok()) {
    return fail_start(s.message());
  }

  ReceiverOptions receiver_options;
  receiver_options.name = c.name;
  receiver_options.journal.capacity = kJournalCapacity;
  receiver_options.journal.max_deliveries = kJournalCapacity;
  receiver_options.validator = SharedValidator();
  // Signature timestamps are Unix seconds: the timeline's zero is `started`.
  receiver_options.unix_origin = UnixTimeNow() - Since(started);
  MockReceiver receiver(receiver_options, c.behavior,
                        Random(options.battery.seed).Fork(c.name));
  HttpReceiverOptions server_options;
  server_options.threads = 16;
  // The run timeline starts at `started`, so journal times are offsets.
  server_options.now = [started] { return TimePoint(Since(started)); };
  HttpReceiverServer server(receiver, server_options);
  if (Status s = server.Start(); !s.ok()) return fail_start(s.message());
  result.url = server.base_url() + kConformHookPath;

  ChildOptions child_options;
  child_options.command = options.sender_cmd;
  child_options.env = {{"HOOKSIM_URL", result.url},
                       {"HOOKSIM_EVENT_FILE", event_file},
                       {"HOOKSIM_CASE", c.name},
                       {"HOOKSIM_CONTRACT", c.contract.profile}};
  // Every case hands the sender the compressed schedule (a sender may take
  // it throughout; retry-timing judges it) and, under a signing profile,
  // the secret (the signed case verifies it).
  for (auto& var : SenderContractEnv(c.contract, CompressedSchedule(c.contract))) {
    child_options.env.push_back(std::move(var));
  }
  const Duration spawn_offset = Since(started);
  Result<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Start(child_options);
  if (!child.ok()) {
    server.Stop();
    return fail_start(child.error().message());
  }
  ChildProcess& sender = **child;

  uint64_t seen = 0;
  auto last_activity = SteadyClock::now();
  const auto deadline = started + options.case_budget;
  // Bounded by the budget: each turn waits up to kPollStep.
  while (true) {
    const bool was_ended = sender.ended();
    if (sender.Poll(kPollStep)) {
      if (!was_ended) last_activity = SteadyClock::now();
      std::this_thread::sleep_for(
          std::chrono::milliseconds(was_ended ? ToMillis(kPollStep) : 0));
    }
    uint64_t total = 0;
    receiver.WithJournal([&](const Journal& j) { total = j.total_requests(); });
    const auto now = SteadyClock::now();
    if (total != seen) {
      seen = total;
      last_activity = now;
    }
    if (stop.load()) {
      obs.interrupted = true;
      break;
    }
    if (sender.ended() && now - last_activity >= options.quiet) break;
    if (now >= deadline) {
      obs.budget_ended = !sender.ended();
      break;
    }
  }
  sender.Stop(kStopGrace);
  sender.KillGroup();
  server.Stop();  // Answers still held are marked abandoned.
  obs.sender = sender.outcome();
  receiver.WithJournal([&](const Journal& j) {
    for (const JournalEntry& e : j.Recent()) {
      obs.requests.push_back(ObserveEntry(e, spawn_offset));
    }
    obs.dropped_requests = j.dropped();
  });
  result.verdicts = JudgeCase(c, obs);
  result.elapsed = Since(started);
  return result;
}

void PrintConformCases(const std::vector<ConformCase>& cases,
                       std::ostream& out) {
  size_t name_w = 4, behaviour_w = 8;
  for (const ConformCase& c : cases) {
    name_w = std::max(name_w, c.name.size());
    behaviour_w = std::max(behaviour_w, c.behaviour.size());
  }
  out << std::left << std::setw(static_cast<int>(name_w) + 2) << "CASE"
      << std::setw(static_cast<int>(behaviour_w) + 2) << "RECEIVER"
      << std::setw(10) << "EVENTS" << std::setw(10) << "ATTEMPTS"
      << "WHY\n";
  for (const ConformCase& c : cases) {
    out << std::setw(static_cast<int>(name_w) + 2) << c.name
        << std::setw(static_cast<int>(behaviour_w) + 2) << c.behaviour
        << std::setw(10) << c.events.size() << std::setw(10)
        << c.expected_attempts << c.why << "\n";
  }
  out << std::right;
}

void PrintConformTable(const std::vector<CaseResult>& results,
                       std::ostream& out) {
  size_t case_w = 4, rule_w = 4;
  for (const CaseResult& r : results) {
    case_w = std::max(case_w, r.c.name.size());
    for (const RuleVerdict& v : r.verdicts) {
      rule_w = std::max(rule_w, v.rule.size() + v.contract.size() + 3);
    }
  }
  out << std::left << std::setw(static_cast<int>(case_w) + 2) << "CASE"
      << std::setw(static_cast<int>(rule_w) + 2) << "RULE" << std::setw(17)
      << "VERDICT"
      << "DETAIL\n";
  for (const CaseResult& r : results) {
    for (const RuleVerdict& v : r.verdicts) {
      out << std::left << std::setw(static_cast<int>(case_w) + 2) << r.c.name
          << std::setw(static_cast<int>(rule_w) + 2)
          << (v.rule + " (" + v.contract + ")") << std::setw(17)
          << VerdictName(v.verdict) << RowDetail(v) << "\n";
    }
  }
  out << std::right;
}

int RunConform(const ConformOptions& options, std::ostream& out,
               std::ostream& err) {
  if (options.cases.empty() || options.parallel < 1) {
    err << "hooksim conform: nothing to run\n";
    return ToInt(ExitCode::kUsage);
  }
  // Reports go to files that must be writable: check before the run.
  for (const auto& file :
       {options.junit, options.report_json, options.report_html}) {
    if (!file) continue;
    std::ofstream probe(*file, std::ios::app);
    if (!probe) {
      err << "hooksim conform: " << *file << ": cannot write the file\n";
      return ToInt(ExitCode::kUsage);
    }
  }
  BecomeSubreaper();
  std::atomic<bool> stop{false};
  std::optional<InterruptWatcher> watcher;
  if (options.handle_interrupt) watcher.emplace([&stop] { stop = true; });

  const auto started = SteadyClock::now();
  std::vector<CaseResult> results(options.cases.size());
  std::atomic<size_t> next{0};
  std::mutex progress_mu;
  const auto work = [&] {
    // Bounded: each turn takes one case off the list.
    for (size_t i = next++; i < options.cases.size(); i = next++) {
      results[i] = RunConformCase(options.cases[i], options, stop);
      size_t failing = 0;
      for (const RuleVerdict& v : results[i].verdicts) {
        failing += v.verdict != CaseVerdict::kPass;
      }
      std::lock_guard<std::mutex> lock(progress_mu);
      err << "conform: " << options.cases[i].name << " done in " << std::fixed
          << std::setprecision(1) << ToSeconds(results[i].elapsed) << " s, "
          << results[i].observation.requests.size()
          << (results[i].observation.requests.size() == 1 ? " request, "
                                                          : " requests, ")
          << (failing ? std::to_string(failing) +
                            (failing == 1 ? " rule not passed"
                                          : " rules not passed")
                      : std::string("all rules passed"))
          << std::defaultfloat << "\n";
    }
  };
  const size_t workers =
      std::min(options.cases.size(), static_cast<size_t>(options.parallel));
  std::vector<std::thread> threads;
  for (size_t i = 1; i < workers; ++i) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  const Duration total = Since(started);
  const bool interrupted = stop.load();
  watcher.reset();

  PrintConformTable(results, out);
  size_t passed = 0, failed = 0, unjudged = 0;
  for (const CaseResult& r : results) {
    for (const RuleVerdict& v : r.verdicts) {
      passed += v.verdict == CaseVerdict::kPass;
      failed += v.verdict == CaseVerdict::kFail;
      unjudged += v.verdict == CaseVerdict::kCouldNotJudge;
    }
  }
  out << "\nconform: " << results.size() << " cases, "
      << passed + failed + unjudged << " rules: " << passed << " passed, "
      << failed << " failed, " << unjudged << " could not be judged ("
      << std::fixed << std::setprecision(1) << ToSeconds(total) << " s)"
      << std::defaultfloat << "\n";
  out << "sender: " << options.sender_cmd << "\n"
      << "events seed: " << options.battery.seed << "\n"
      << "contract: " << options.battery.contract.profile << "\n";

  int code =
      ToInt((failed + unjudged) == 0 ? ExitCode::kOk : ExitCode::kFailed);
  if (options.junit) {
    std::ofstream f(*options.junit, std::ios::trunc);
    WriteJUnit(ConformJUnit(results, total), f);
    if (!f) {
      err << "hooksim conform: " << *options.junit << ": write failed\n";
      code = 2;
    }
  }
  if (options.report_json) {
    std::ofstream f(*options.report_json, std::ios::trunc);
    f << ToJson(options, results, total, interrupted)
             .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
      << "\n";
    if (!f) {
      err << "hooksim conform: " << *options.report_json << ": write failed\n";
      code = 2;
    }
  }
  if (options.report_html) {
    std::ofstream f(*options.report_html, std::ios::binary | std::ios::trunc);
    f << RenderConformHtml(
        ConformHtmlPicture(options, results, total, interrupted));
    if (!f) {
      err << "hooksim conform: " << *options.report_html << ": write failed\n";
      code = 2;
    }
  }
  if (interrupted) {
    err << "hooksim conform: interrupted; senders stopped\n";
    return ToInt(ExitCode::kInterrupted);
  }
  return code;
}

}  // namespace hooksim
