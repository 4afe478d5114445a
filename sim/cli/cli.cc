#include "sim/cli/cli.h"

#include <boost/program_options.hpp>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "sim/cli/bench_command.h"
#include "sim/cli/conform_command.h"
#include "sim/cli/contracts_command.h"
#include "sim/cli/deliver_command.h"
#include "sim/cli/flags.h"
#include "sim/cli/hooks_command.h"
#include "sim/cli/judge_command.h"
#include "sim/cli/receiver_command.h"
#include "sim/cli/run_command.h"
#include "sim/cli/validate_command.h"
#include "sim/cli/worker_command.h"
#include "sim/contract/http_types.h"
#include "sim/contract/release_events.h"
#include "sim/report/html_page.h"

namespace hooksim {
namespace {

constexpr const char* kUsage =
    "hooksim: a harness that proves webhook delivery works\n"
    "\n"
    "usage: hooksim COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  run FILE|DIR...   run scenarios in virtual time and verify them\n"
    "  events            print generated release events, one JSON per line\n"
    "  validate [FILE|-] check webhook payloads against the JSON Schemas\n"
    "  deliver --url URL deliver generated release events to a URL over HTTP\n"
    "  receiver          serve mock receivers over HTTP until SIGINT/SIGTERM\n"
    "  bench             measure delivery throughput over HTTP on loopback\n"
    "  conform --sender-cmd CMD\n"
    "                    check any webhook sender against the contract\n"
    "  hooks SUBCOMMAND  add, list, pause, resume, remove registered hooks\n"
    "  deliver           deliver events to every registered hook (durable)\n"
    "  worker            deliver pending deliveries until SIGINT/SIGTERM\n"
    "  judge FILE        judge a receiver's --journal-file by a contract\n"
    "  contracts list | show NAME|FILE\n"
    "                    print the built-in contract profiles as JSON\n"
    "  help [COMMAND]    show help (also: COMMAND --help)\n"
    "\n"
    "exit codes: 0 all passed, 1 a rule or expectation failed,\n"
    "            2 bad input or usage\n";

constexpr const char* kRunUsage =
    "usage: hooksim run FILE|DIR... [--seed N] [--report-json FILE] "
    "[--junit FILE]\n"
    "                   [--report-html FILE] [--trace] [--mode sim|http] "
    "[--time-scale F]\n"
    "                   [--contract NAME|FILE]\n"
    "\n"
    "Runs each scenario (a DIR runs its *.json files, *.schema.json aside)\n"
    "in virtual time (or, with --mode http, over real sockets on loopback,\n"
    "compressed by --time-scale), checks the contract rules C1-C8 from the\n"
    "sender's and the receivers' side and the scenario's expectations, and\n"
    "prints one line per scenario. A failing scenario prints what each\n"
    "broken rule expected, what happened, and the command that reproduces\n"
    "it. Exit codes: 0 all passed, 1 some failed, 2 bad input or usage.\n";

FlagSet RunFlagSet(RunCommandOptions* o) {
  FlagSet flags("run", kRunUsage);
  AddSeedFlag(flags, "override every scenario's seed with N (0..2^64-1)",
              &o->seed);
  AddReportFlags(
      flags, {&o->report_json, &o->junit, &o->report_html},
      {.report_json = "write the full results as JSON to FILE",
       .junit = "write JUnit XML to FILE",
       .report_html = "write one self-contained HTML page to FILE: verdicts, "
                      "an attempt timeline per scenario, attempts per "
                      "delivery, answers per receiver"});
  flags.Switch("trace",
               "print every attempt: run time, hook, delivery id, attempt "
               "n/6, outcome, next retry",
               &o->trace);
  flags
      .Custom("mode",
              "sim: virtual time, in-process receivers; http: real sockets on "
              "127.0.0.1, each receiver an HTTP server on a kernel-chosen port",
              [o](const std::string& text) -> Status {
                if (text == "http") {
                  o->world = World::kHttp;
                } else if (text == "sim") {
                  o->world = World::kVirtual;
                } else {
                  return Status::InvalidArgument("expected sim or http, got \"" + text +
                                   "\"");
                }
                return Status::Ok();
              })
      .Value("sim|http")
      .Default("sim");
  flags.Number("time-scale",
               "--mode http: wall seconds per scenario second, in (0, 1] "
               "(default 1; 0.001 runs an hour of retries in 3.6 s)",
               0, true, 1, "a number in (0, 1]", &o->time_scale);
  AddContractNameFlag(flags,
                      "NAME|FILE: send and judge every scenario by this "
                      "contract profile (hooksim contracts list; default: "
                      "each scenario's \"contract\", else divshot)",
                      &o->contract);
  flags.Positionals(&o->inputs);
  return flags;
}

Status CheckRunFlags(const FlagSet& flags, RunCommandOptions& options) {
  if (flags.Given("time-scale") && options.world != World::kHttp) {
    return Status::InvalidArgument(
        "--time-scale applies to --mode http only (the virtual world needs "
        "no compression)");
  }
  return Status::Ok();
}

const CommandFlags<RunCommandOptions> kRunFlags{RunFlagSet, CheckRunFlags};

int CmdRun(const std::vector<std::string>& args, std::ostream& out,
           std::ostream& err) {
  return ParseAndRun(kRunFlags, args, out, err, [&](RunCommandOptions& o) {
    if (o.inputs.empty()) {
      err << "hooksim run: give at least one scenario FILE or DIR\n"
          << kRunUsage;
      return ToInt(ExitCode::kUsage);
    }
    if (o.report_html) o.command = CommandLine("run", args);
    return RunRunCommand(o, out, err);
  });
}

constexpr const char* kEventsUsage =
    "usage: hooksim events [--count N] [--seed S] [--apps A]\n"
    "\n"
    "Prints generated release events (deploys, promotions, rollbacks across\n"
    "apps and environments), one JSON document per line. The same seed\n"
    "prints the same events.\n";

struct EventsOptions {
  int64_t count = 10;
  uint64_t seed = 1;
  ReleaseEventOptions events;
};

FlagSet EventsFlagSet(EventsOptions* o) {
  FlagSet flags("events", kEventsUsage);
  flags.Integer("count,n", "how many events (1..10000000)", 1, 10'000'000,
                &o->count)
      .Default("10");
  AddSeedFlag(flags, "random seed (0..2^64-1)", &o->seed).Default("1");
  flags.Integer("apps", "number of apps (1.." + std::to_string(kMaxReleaseApps) +
                            ")",
                1, kMaxReleaseApps, &o->events.apps)
      .Default("3");
  return flags;
}

const CommandFlags<EventsOptions> kEventsFlags{EventsFlagSet};

int CmdEvents(const std::vector<std::string>& args, std::ostream& out,
              std::ostream& err) {
  return ParseAndRun(kEventsFlags, args, out, err, [&](const EventsOptions& o) {
    return RunEvents(o.count, o.seed, o.events, out);
  });
}

constexpr const char* kValidateUsage =
    "usage: hooksim validate [FILE|-]\n"
    "\n"
    "Validates webhook payloads (one JSON document, or JSON lines) against\n"
    "the bundled JSON Schemas (envelope and release event) and the release\n"
    "consistency checks. For each invalid payload prints the line, the rule\n"
    "(C3 envelope, C4 release), the JSON pointer of the offending field and\n"
    "why. Reads standard input when FILE is - or missing.\n"
    "Exit codes: 0 all valid, 1 some invalid, 2 no payload or unreadable.\n";

struct ValidateOptions {
  std::vector<std::string> inputs;
};

FlagSet ValidateFlagSet(ValidateOptions* o) {
  FlagSet flags("validate", kValidateUsage);
  flags.Positionals(&o->inputs);
  return flags;
}

const CommandFlags<ValidateOptions> kValidateFlags{ValidateFlagSet};

// Validates the one input (a file, or standard input for "-" or none).
int ValidateInputs(const std::vector<std::string>& inputs, std::istream& in,
                   std::ostream& out, std::ostream& err) {
  if (inputs.size() > 1) {
    err << "hooksim validate: give one FILE (or - for standard input)\n";
    return ToInt(ExitCode::kUsage);
  }
  if (inputs.empty() || inputs[0] == "-") {
    return RunValidate(in, "<stdin>", out, err);
  }
  std::ifstream file(inputs[0], std::ios::binary);
  if (!file) {
    err << "hooksim validate: " << inputs[0] << ": cannot open the file\n";
    return ToInt(ExitCode::kUsage);
  }
  return RunValidate(file, inputs[0], out, err);
}

int CmdValidate(const std::vector<std::string>& args, std::istream& in,
                std::ostream& out, std::ostream& err) {
  return ParseAndRun(kValidateFlags, args, out, err,
                     [&](const ValidateOptions& o) {
                       return ValidateInputs(o.inputs, in, out, err);
                     });
}

constexpr const char* kReceiverUsage =
    "usage: hooksim receiver [--listen HOST:PORT] [--behavior JSON | "
    "--behavior-file FILE\n"
    "                        | --behavior-dir DIR | --scenario FILE]\n"
    "                        [--seed N] [--time-scale F] "
    "[--journal-capacity N]\n"
    "                        [--max-body-bytes N] [--contract NAME|FILE]\n"
    "                        [--log] [--log-format text|json]\n"
    "                        [--journal-file FILE] [--journal-body-cap N]\n"
    "                        [--journal-max-bytes N] [--admin-listen "
    "HOST:PORT]\n"
    "\n"
    "Serves mock webhook receivers over HTTP/1.1 until SIGINT or SIGTERM.\n"
    "Every path outside /__hooksim/ (and GET /metrics) is the webhook\n"
    "endpoint; answers follow the behaviour (statuses with their own headers\n"
    "and body, latency, outages, and the faults hang, reset, empty, garbage,\n"
    "dribble). A behaviour may be routes, first match wins:\n"
    "  {\"routes\": [{\"name\": \"orders\", \"method\": \"POST\", \"path\": "
    "\"/orders/*\",\n"
    "    \"match\": {\"headers\": {\"X-Event\": \"order.*\"}, \"body\": "
    "{\"/data/app\": \"shop\"}},\n"
    "    \"behavior\": {\"status\": 429, \"headers\": {\"Retry-After\": "
    "\"2\"}}}],\n"
    "   \"default\": {\"status\": 200}}\n"
    "A request no route matches gets 404 and is journalled with the closest\n"
    "route and why it did not match; overlapping or unreachable routes are\n"
    "warned about at start.\n"
    "With \"verify_signature\" it answers 401 to a request whose\n"
    "signature (standard-webhooks, stripe, github or shopify) is missing, bad\n"
    "or, for timestamped schemes, too far off the wall clock. Prints one line\n"
    "per receiver with its URL, admin URL and metrics URL; with --log, one\n"
    "line per request as it ends; on stop, one summary line per receiver.\n"
    "The journal keeps, per request: method, target, every header, the body\n"
    "(up to --journal-body-cap, with a truncated flag, full size and hash),\n"
    "arrival time, connection, answer, latency, signature and schema\n"
    "verdicts; requests refused before the behaviour (400, 408, 413, 431)\n"
    "too. --journal-file appends each entry as a JSON line with one write()\n"
    "as it is recorded: a receiver killed (even by SIGKILL) keeps every\n"
    "finished line (no fsync: a machine crash may lose the last ones).\n"
    "Judge the file later with `hooksim judge FILE`.\n"
    "Admin API (on --admin-listen's port instead, when given):\n"
    "  GET  /__hooksim/requests[?route=R&status=S&delivery=KEY&since=MS&\n"
    "       limit=N&from=I] journal page, oldest first (default the newest\n"
    "       1000, at most 10000; from=I: index I on; status 429, 4xx, reset)\n"
    "  GET  /__hooksim/requests.jsonl       every kept entry, JSON lines\n"
    "  GET  /__hooksim/stats                counts per answer and delivery\n"
    "  POST /__hooksim/verify               expectations: 200 pass, 417 fail\n"
    "  POST /__hooksim/reset                clear the journal (body: none,\n"
    "       {} or {\"behavior\": B} to replace the behaviour too)\n"
    "  GET|PUT /__hooksim/behavior          read or replace the behaviour\n"
    "A wrong method gets 405 with Allow.\n"
    "Prometheus metrics (text format): GET /metrics on the receiver's port.\n"
    "Exit codes: 0 stopped cleanly, 2 bad flag, file, behaviour or address.\n";

FlagSet ReceiverFlagSet(ReceiverCommandOptions* o) {
  FlagSet flags("receiver", kReceiverUsage);
  flags.Text("listen",
             "HOST:PORT to listen on (PORT 0: kernel-chosen); with --scenario "
             "the first receiver gets this port, the others kernel-chosen ones",
             &o->listen)
      .Value("HOST:PORT")
      .Default("127.0.0.1:8080");
  flags.Text("behavior",
             "the behaviour as JSON, e.g. '{\"sequence\":[503,503,200],"
             "\"per\":\"delivery\"}' (default: always 200)",
             &o->behavior)
      .Value("JSON");
  flags.Text("behavior-file", "read the behaviour JSON from FILE",
             &o->behavior_file)
      .Value("FILE");
  flags.Text("behavior-dir",
             "one route per *.json file of DIR, in file-name order (a "
             "route: {name, method, path, match, behavior}; named after its "
             "file unless it has a name)",
             &o->behavior_dir)
      .Value("DIR");
  flags.Text("scenario",
             "serve every receiver of the scenario FILE, each on its own port",
             &o->scenario)
      .Value("FILE");
  AddSeedFlag(flags,
              "seed of the receivers' random answers (default: the "
              "scenario's, or 1)",
              &o->seed);
  flags
      .Number("time-scale",
              "wall seconds per run second for latencies and outage windows, "
              "in (0, 1]; signature timestamps are still judged by the wall "
              "clock",
              0, true, 1, "a number in (0, 1]", &o->time_scale)
      .Default("1");
  flags.Switch("log",
               "print one line per webhook request as it ends (stdout): "
               "time, method, path, delivery, attempt seen, answer, "
               "latency, signature verdict and reason",
               &o->log);
  flags
      .Custom("log-format",
              "text (default) or json: one JSON object per line; implies "
              "--log",
              [o](const std::string& text) {
                std::optional<RequestLogFormat> f = ParseRequestLogFormat(text);
                if (!f) {
                  return Status::InvalidArgument(
                      "expected text or json, got \"" + text + "\"");
                }
                o->log = true;
                o->log_format = *f;
                return Status::Ok();
              })
      .Value("FORMAT")
      .Default("text");
  flags
      .Integer("journal-capacity",
               "requests each receiver's journal keeps (1..1000000)", 1,
               kMaxJournalCapacity, &o->journal_capacity)
      .Default("1024");
  flags
      .Integer("journal-body-cap",
               "bytes of each request body the journal keeps; the rest is "
               "not copied, the entry says truncated (0..1073741824)",
               0, kMaxBodyBytesLimit, &o->journal_body_cap)
      .Default("65536");
  flags
      .Integer("journal-max-bytes",
               "recorded bytes each receiver's journal holds at most; older "
               "entries are dropped (and counted) to make room "
               "(4096..17179869184)",
               kMinJournalMaxBytes, kMaxJournalMaxBytes,
               &o->journal_max_bytes)
      .Default("67108864");
  flags.Text("journal-file",
             "append every journal entry to FILE as one JSON line, written "
             "with one write() as it is recorded (kept across a kill -9); "
             "a FILE that cannot be opened is an error at start",
             &o->journal_file)
      .Value("FILE");
  flags.Text("admin-listen",
             "serve the admin API (/__hooksim/) on HOST:PORT instead of the "
             "receiver's port, which then answers it 404; with --scenario the "
             "first receiver gets this port, the others kernel-chosen ones",
             &o->admin_listen)
      .Value("HOST:PORT");
  flags
      .Integer("max-body-bytes",
               "request bodies larger than this, chunked or not, get 413 "
               "Content Too Large (1..1073741824)",
               1, kMaxBodyBytesLimit, &o->max_body_bytes)
      .Default("8388608");
  flags
      .Custom("server-core",
              "event (epoll loops, one per core, Boost.Beast's parser; the "
              "default) or threads (cpp-httplib, a serving thread per "
              "request being served); every behaviour, fault, route and "
              "journal feature is the same; also read from "
              "HOOKSIM_RECEIVER_CORE",
              [o](const std::string& text) {
                Result<ServerCore> core = ParseServerCore(text);
                if (!core.ok()) return core.error();
                o->server_core = *core;
                return Status::Ok();
              })
      .Value("CORE");
  flags.Text("admin-token",
             "require \"Authorization: Bearer TOKEN\" on /__hooksim/ and "
             "/metrics (else "
             "401); also read from HOOKSIM_ADMIN_TOKEN. Without it, a "
             "non-loopback --listen prints a warning: the admin API is open "
             "to the network",
             &o->admin_token)
      .Value("TOKEN");
  AddContractNameFlag(flags,
                      "NAME|FILE: judge the deliveries seen by this contract "
                      "profile in /__hooksim/stats (\"contract\": over_max, "
                      "after_success, after_gone, passed)",
                      &o->contract);
  return flags;
}

const CommandFlags<ReceiverCommandOptions> kReceiverFlags{ReceiverFlagSet};

int CmdReceiver(const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err) {
  return ParseAndRun(kReceiverFlags, args, out, err,
                     [&](ReceiverCommandOptions& o) {
                       if (!o.admin_token) {
                         if (const char* env =
                                 std::getenv("HOOKSIM_ADMIN_TOKEN")) {
                           o.admin_token = std::string(env);
                         }
                       }
                       return RunReceiverCommand(o, out, err);
                     });
}

// Help texts of the commands whose flags live in this file.
std::string RunHelp() { return HelpOf(kRunFlags); }
std::string EventsHelp() { return HelpOf(kEventsFlags); }
std::string ValidateHelp() { return HelpOf(kValidateFlags); }
std::string ReceiverHelp() { return HelpOf(kReceiverFlags); }

// The command table: name, what runs it, its help.
struct Command {
  const char* name;
  int (*run)(const std::vector<std::string>& args, std::istream& in,
             std::ostream& out, std::ostream& err);
  std::string (*help)();
};

template <int (*F)(const std::vector<std::string>&, std::ostream&,
                   std::ostream&)>
int NoInput(const std::vector<std::string>& args, std::istream&,
            std::ostream& out, std::ostream& err) {
  return F(args, out, err);
}

const Command kCommands[] = {
    {"run", NoInput<CmdRun>, RunHelp},
    {"events", NoInput<CmdEvents>, EventsHelp},
    {"validate", CmdValidate, ValidateHelp},
    {"deliver", NoInput<RunDeliverCli>, DeliverHelp},
    {"receiver", NoInput<CmdReceiver>, ReceiverHelp},
    {"bench", NoInput<RunBenchCli>, BenchHelp},
    {"conform", NoInput<RunConformCli>, ConformHelp},
    {"hooks", NoInput<RunHooksCommand>, HooksHelp},
    {"worker", NoInput<RunWorkerCli>, WorkerHelp},
    {"contracts", NoInput<RunContractsCommand>, ContractsHelp},
    {"judge", NoInput<RunJudgeCli>, JudgeHelp},
};

const Command* FindCommand(const std::string& name) {
  for (const Command& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

}  // namespace

int RunCli(int argc, const char* const* argv, std::istream& in,
           std::ostream& out, std::ostream& err) {
  if (argc < 2) {
    err << kUsage;
    return ToInt(ExitCode::kUsage);
  }
  const std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (command == "--help" || command == "-h") {
      out << kUsage;
      return ToInt(ExitCode::kOk);
    }
    if (command == "help") {
      const std::string topic = args.empty() ? "" : args[0];
      if (topic.empty()) {
        out << kUsage;
      } else if (const Command* c = FindCommand(topic)) {
        out << c->help();
      } else {
        err << "hooksim help: unknown command \"" << topic << "\"\n\n"
            << kUsage;
        return ToInt(ExitCode::kUsage);
      }
      if (args.size() > 1) {
        err << "hooksim help: unexpected argument \"" << args[1] << "\"\n";
        return ToInt(ExitCode::kUsage);
      }
      return ToInt(ExitCode::kOk);
    }
    if (command == "--version" || command == "version") {
      out << "hooksim " << kHooksimVersion << "\n";
      return ToInt(ExitCode::kOk);
    }
    if (const Command* c = FindCommand(command)) {
      return c->run(args, in, out, err);
    }
    err << "hooksim: unknown command \"" << command << "\"\n\n" << kUsage;
    return ToInt(ExitCode::kUsage);
  } catch (const std::exception& e) {
    err << "hooksim " << command << ": " << e.what() << "\n";
    return ToInt(ExitCode::kUsage);
  }
}

}  // namespace hooksim
