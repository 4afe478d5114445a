#include "sim/cli/cli.h"

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "sim/base/parse_number.h"
#include "sim/cli/bench_command.h"
#include "sim/cli/conform_command.h"
#include "sim/cli/deliver_command.h"
#include "sim/cli/contracts_command.h"
#include "sim/cli/hooks_command.h"
#include "sim/cli/receiver_command.h"
#include "sim/cli/run_command.h"
#include "sim/cli/validate_command.h"
#include "sim/cli/worker_command.h"
#include "sim/contract/http_types.h"
#include "sim/contract/release_events.h"
#include "sim/report/html_page.h"

namespace hooksim {
namespace {

namespace po = boost::program_options;

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
    "  contracts list | show NAME|FILE\n"
    "                    print the built-in contract profiles as JSON\n"
    "  help [COMMAND]    show help (also: COMMAND --help)\n"
    "\n"
    "exit codes: 0 all passed, 1 a rule or expectation failed,\n"
    "            2 bad input or usage\n";

std::string Help(const std::string& usage, const po::options_description& d) {
  std::ostringstream s;
  s << usage << "\n" << d;
  return s.str();
}

po::options_description RunOptionsDesc() {
  po::options_description d("options");
  d.add_options()("help,h", "show this help")(
      "seed", po::value<std::string>(),
      "override every scenario's seed with N (0..2^64-1)")(
      "report-json", po::value<std::string>(),
      "write the full results as JSON to FILE")(
      "junit", po::value<std::string>(), "write JUnit XML to FILE")(
      "report-html", po::value<std::string>(),
      "write one self-contained HTML page to FILE: verdicts, an attempt "
      "timeline per scenario, attempts per delivery, answers per receiver")(
      "trace", po::bool_switch(),
      "print every attempt: run time, hook, delivery id, attempt n/6, "
      "outcome, next retry")(
      "mode", po::value<std::string>()->default_value("sim"),
      "sim: virtual time, in-process receivers; http: real sockets on "
      "127.0.0.1, each receiver an HTTP server on a kernel-chosen port")(
      "time-scale", po::value<std::string>(),
      "--mode http: wall seconds per scenario second, in (0, 1] (default 1; "
      "0.001 runs an hour of retries in 3.6 s)")(
      "contract", po::value<std::string>(),
      "NAME|FILE: send and judge every scenario by this contract profile "
      "(hooksim contracts list; default: each scenario's \"contract\", "
      "else divshot)");
  return d;
}

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

po::options_description EventsOptionsDesc() {
  po::options_description d("options");
  d.add_options()("help,h", "show this help")(
      "count,n", po::value<int64_t>()->default_value(10),
      "how many events (1..10000000)")(
      "seed", po::value<std::string>()->default_value("1"),
      "random seed (0..2^64-1)")(
      "apps", po::value<int>()->default_value(3), "number of apps (1..1000)");
  return d;
}

constexpr const char* kEventsUsage =
    "usage: hooksim events [--count N] [--seed S] [--apps A]\n"
    "\n"
    "Prints generated release events (deploys, promotions, rollbacks across\n"
    "apps and environments), one JSON document per line. The same seed\n"
    "prints the same events.\n";

po::options_description ValidateOptionsDesc() {
  po::options_description d("options");
  d.add_options()("help,h", "show this help");
  return d;
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

po::options_description DeliverOptionsDesc() {
  po::options_description d("options");
  d.add_options()("help,h", "show this help")(
      "url", po::value<std::string>(),
      "http://host[:port]/path to POST the events to; without it, to "
      "every hook of the state database")(
      "count,n", po::value<std::string>(),
      "how many release events (1..100000, default 1)")(
      "seed", po::value<std::string>(),
      "random seed for events, ids and jitter (0..2^64-1, default 1)")(
      "retry-schedule-ms", po::value<std::string>(),
      "delays before re-attempts 1..5, comma-separated ms; the last repeats "
      "(default 100,200,400,800,1600)")(
      "timeout-ms", po::value<std::string>(),
      "per-attempt timeout: connect, send and the whole answer "
      "(1..3600000, default 10000)")(
      "jitter", po::value<std::string>(),
      "each delay is scaled by 1 +- this fraction (0..1, default 0.2)")(
      "concurrency", po::value<std::string>(),
      "attempts in flight at once (1..1024, default 16)")(
      "interval-ms", po::value<std::string>(),
      "time between two events (0..86400000, default 0: all at once)")(
      "event-file", po::value<std::string>(),
      "deliver the events in FILE (one JSON document per line, each sent "
      "byte for byte) instead of generated ones; excludes --count")(
      "secret", po::value<std::string>(),
      "--url only: sign every attempt (Standard Webhooks headers) with this "
      "whsec_... secret")(
      "contract", po::value<std::string>(),
      "NAME|FILE, send as this contract profile says (attempts, "
      "schedule, jitter, timeout, 410, Retry-After, signing; the retry "
      "flags override its timing; default divshot). Without --url: for "
      "hooks added without --contract of their own")(
      "generate", po::value<std::string>(),
      "the same as --count: how many release events")(
      "state", po::value<std::string>(),
      "without --url: the state database holding the hooks (default "
      "$HOOKSIM_STATE or ./.hooksim/state.db)")(
      "resume", po::bool_switch(),
      "without --url: deliver what is pending in the state (held deliveries "
      "of resumed hooks, and any a stopped run left)")(
      "trace", po::bool_switch(),
      "without --url: print every attempt as it ends")(
      "lease-ms", po::value<std::string>(),
      "without --url: lease on claimed deliveries, renewed every third of "
      "it; another runner takes them over this long after a crash "
      "(1000..3600000, default 30000)");
  return d;
}

constexpr const char* kDeliverUsage =
    "usage: hooksim deliver --url URL [--count N | --event-file F] [--seed S]\n"
    "         [--retry-schedule-ms D1,...,D5] [--timeout-ms T] [--jitter F]\n"
    "         [--concurrency C] [--interval-ms I] [--secret S] [--contract NAME|FILE]\n"
    "\n"
    "Delivers generated release events to URL over real HTTP/1.1, in real\n"
    "time, as the contract says: a POST of the raw JSON body; any answer but\n"
    "a 2xx (redirects are not followed), a timeout or a connection error is\n"
    "re-attempted after the scheduled delay, 6 attempts at most (another\n"
    "--contract profile: its attempts, 410 and Retry-After rules). Prints each\n"
    "attempt as it ends, one line per delivery, and a summary.\n"
    "Exit codes: 0 all delivered, 1 some gave up, 2 bad usage,\n"
    "130 interrupted (Ctrl-C), 143 SIGTERM (open deliveries are listed as\n"
    "pending).\n"
    "\n"
    "usage: hooksim deliver [--count N | --generate N | --event-file F]\n"
    "         [--state FILE] [--trace] [--lease-ms L] [retry flags as above]\n"
    "         [--contract NAME|FILE]\n"
    "       hooksim deliver --resume [--state FILE] [--trace] [--lease-ms L]\n"
    "         [retry flags] [--contract NAME|FILE]\n"
    "\n"
    "Without --url, delivers to every hook of the state database (see\n"
    "hooksim hooks): the events and their deliveries are stored first\n"
    "(held for paused hooks), every attempt is recorded as started just\n"
    "before its first byte is written and as ended with its result, and the\n"
    "command returns once every delivery to an active hook has ended, with\n"
    "one line per hook. SIGINT or SIGTERM drains: no new attempts, those in\n"
    "flight end and are recorded, the rest is released; a second signal\n"
    "stops at once. After a crash or a stop, --resume carries on where it\n"
    "stopped (attempts made before count toward the 6, or the contract's\n"
    "attempts: the hook's own from hooks add --contract, else --contract's).\n"
    "Exit codes: 0 all delivered, 1 some gave up or failed (or a state\n"
    "error), 2 bad usage, no hooks, or no state database at the path,\n"
    "130 SIGINT, 143 SIGTERM (deliveries stay stored).\n";

po::options_description WorkerOptionsDesc() {
  po::options_description d("options");
  d.add_options()("help,h", "show this help")(
      "state", po::value<std::string>(),
      "the state database (default $HOOKSIM_STATE or ./.hooksim/state.db)")(
      "poll-ms", po::value<std::string>(),
      "how often to look for deliverable rows (1..60000, default 200)")(
      "seed", po::value<std::string>(),
      "random seed for jitter (0..2^64-1, default 1)")(
      "retry-schedule-ms", po::value<std::string>(),
      "delays before re-attempts 1..5, comma-separated ms; the last repeats "
      "(default 100,200,400,800,1600)")(
      "timeout-ms", po::value<std::string>(),
      "per-attempt timeout (1..3600000, default 10000)")(
      "jitter", po::value<std::string>(),
      "each delay is scaled by 1 +- this fraction (0..1, default 0.2)")(
      "concurrency", po::value<std::string>(),
      "attempts in flight at once (1..1024, default 16)")(
      "lease-ms", po::value<std::string>(),
      "lease on claimed deliveries, renewed every third of it; another "
      "runner takes them over this long after a crash (1000..3600000, "
      "default 30000)")(
      "contract", po::value<std::string>(),
      "NAME|FILE: the contract profile of hooks added without one of their "
      "own (attempts, 410, Retry-After, signing; its schedule, jitter and "
      "timeout unless the flags above are given; default divshot)")(
      "trace", po::bool_switch(), "print every attempt as it ends");
  return d;
}

constexpr const char* kWorkerUsage =
    "usage: hooksim worker [--state FILE] [--poll-ms N] [--trace]\n"
    "         [--retry-schedule-ms D1,...,D5] [--timeout-ms T] [--jitter F]\n"
    "         [--concurrency C] [--seed S] [--lease-ms L] [--contract NAME|FILE]\n"
    "\n"
    "Delivers, until SIGINT or SIGTERM, whatever becomes deliverable in the\n"
    "state database: pending deliveries nobody holds a lease on (new ones,\n"
    "ones a stopped or crashed runner left), and held ones whose hook was\n"
    "resumed. Attempts are recorded as in hooksim deliver. The first SIGINT\n"
    "or SIGTERM drains (no new attempts; those in flight end and are\n"
    "recorded; the rest is released); a second one stops at once.\n"
    "Exit codes: 0 stopped by a signal after draining, 1 a state database\n"
    "error, 2 bad usage or no state database at the path, 130/143 stopped at\n"
    "once by a second SIGINT/SIGTERM (attempts in flight abandoned).\n";

po::options_description ReceiverOptionsDesc() {
  po::options_description d("options");
  d.add_options()("help,h", "show this help")(
      "listen", po::value<std::string>()->default_value("127.0.0.1:8080"),
      "HOST:PORT to listen on (PORT 0: kernel-chosen); with --scenario the "
      "first receiver gets this port, the others kernel-chosen ones")(
      "behavior", po::value<std::string>(),
      "the behaviour as JSON, e.g. '{\"sequence\":[503,503,200],"
      "\"per\":\"delivery\"}' (default: always 200)")(
      "behavior-file", po::value<std::string>(),
      "read the behaviour JSON from FILE")(
      "scenario", po::value<std::string>(),
      "serve every receiver of the scenario FILE, each on its own port")(
      "seed", po::value<std::string>(),
      "seed of the receivers' random answers (default: the scenario's, or 1)")(
      "time-scale", po::value<std::string>()->default_value("1"),
      "wall seconds per run second for latencies and outage windows, in "
      "(0, 1]; the receiver's clock runs at this scale too, so with "
      "verify_signature a real sender's webhook-timestamp is stale after "
      "F x 300 s of wall time (keep 1 for senders that sign)")("journal-capacity",
                po::value<std::string>()->default_value("1024"),
                "requests each receiver's journal keeps (1..1000000)")(
      "max-body-bytes", po::value<std::string>()->default_value("8388608"),
      "request bodies larger than this, chunked or not, get 413 Content Too "
      "Large (1..1073741824)")(
      "admin-token", po::value<std::string>(),
      "require \"Authorization: Bearer TOKEN\" on /__hooksim/ (else 401); "
      "also read from HOOKSIM_ADMIN_TOKEN. Without it, a non-loopback "
      "--listen prints a warning: the admin API is open to the network")(
      "contract", po::value<std::string>(),
      "NAME|FILE: judge the deliveries seen by this contract profile in "
      "/__hooksim/stats (\"contract\": over_max, after_success, "
      "after_gone, passed)");
  return d;
}

constexpr const char* kReceiverUsage =
    "usage: hooksim receiver [--listen HOST:PORT] [--behavior JSON | "
    "--behavior-file FILE | --scenario FILE]\n"
    "                        [--seed N] [--time-scale F] "
    "[--journal-capacity N]\n"
    "                        [--max-body-bytes N] [--contract NAME|FILE]\n"
    "\n"
    "Serves mock webhook receivers over HTTP/1.1 until SIGINT or SIGTERM.\n"
    "Every path outside /__hooksim/ is the webhook endpoint; answers follow\n"
    "the behaviour (statuses, latency, outages, and the faults hang, reset,\n"
    "empty, garbage, dribble). With \"verify_signature\": \"whsec_...\" it\n"
    "answers 401 to a request whose Standard Webhooks signature is missing,\n"
    "bad or more than 5 minutes off its clock. Prints one line per receiver\n"
    "with its URL and admin URL; on stop, one summary line per receiver.\n"
    "Admin API:\n"
    "  GET  /__hooksim/requests[?limit=N&from=I] journal page, oldest first\n"
    "       (default the newest 1000, at most 10000; from=I: index I on)\n"
    "  GET  /__hooksim/stats                counts per answer and delivery\n"
    "  POST /__hooksim/reset                clear the journal\n"
    "  GET|PUT /__hooksim/behavior          read or replace the behaviour\n"
    "Exit codes: 0 stopped cleanly, 2 bad flag, file, behaviour or address.\n";

po::options_description ConformOptionsDesc() {
  po::options_description d("options");
  d.add_options()("help,h", "show this help")(
      "sender-cmd", po::value<std::string>(),
      "required: the shell command (run by /bin/sh -c) that delivers the "
      "events of $HOOKSIM_EVENT_FILE to $HOOKSIM_URL")(
      "cases", po::value<std::string>(),
      "comma-separated case names to run (default: all; see --list-cases)")(
      "case-timeout-s", po::value<std::string>(),
      "budget of one case, from the sender's start (1..3600, default 120); "
      "a sender still running then is stopped")(
      "quiet-ms", po::value<std::string>(),
      "a case ends once the sender has exited and no request has come for "
      "this long (0..600000, default 3000)")(
      "slow-ms", po::value<std::string>(),
      "how long the slow-2xx case takes to answer 200: within any sane "
      "timeout (0..600000, default 1500)")(
      "hang-ms", po::value<std::string>(),
      "how long the reply-past-timeout case holds each answer: past the "
      "sender's timeout (1..3600000, default 30000; above --slow-ms)")(
      "parallel", po::value<std::string>(),
      "cases run at once, each with its own receiver (1..32, default 4)")(
      "seed", po::value<std::string>(),
      "seed of the generated release events (0..2^64-1, default 1)")(
      "junit", po::value<std::string>(),
      "write JUnit XML to FILE (one testcase per case and rule)")(
      "report-json", po::value<std::string>(),
      "write the full results as JSON to FILE (requests, sender output)")(
      "contract", po::value<std::string>(),
      "NAME|FILE: the contract profile the sender promises (expected "
      "attempts, 410 handling; default divshot); the sender gets its name "
      "in HOOKSIM_CONTRACT; adds the profile's own cases (429-retry-after, "
      "503-retry-after, signed, retry-timing) where it makes them "
      "meaningful")(
      "report-html", po::value<std::string>(),
      "write one self-contained HTML page to FILE: the case x rule matrix, "
      "each case's requests and the sender's stderr")(
      "list-cases", po::bool_switch(),
      "print the battery (case, receiver behaviour, expectation) and exit");
  return d;
}

constexpr const char* kConformUsage =
    "usage: hooksim conform --sender-cmd CMD [--cases LIST] "
    "[--case-timeout-s S] [--quiet-ms Q]\n"
    "         [--slow-ms MS] [--hang-ms MS] [--parallel N] [--seed S]\n"
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
    "seen) or could-not-judge. Every case also sets HOOKSIM_CONTRACT,\n"
    "HOOKSIM_RETRY_SCHEDULE_MS (a compressed schedule, when the profile\n"
    "re-attempts; retry-timing judges the gaps against it) and, under a\n"
    "signing profile, HOOKSIM_SECRET (the signed case verifies it).\n"
    "Exit codes: 0 all rules passed, 1 a rule failed or could not be judged,\n"
    "2 bad usage, 130 interrupted (Ctrl-C; senders are stopped).\n";

// Parses `args` against `options` plus any number of positional inputs,
// which it returns. Throws po::error on bad flags (caught in RunCli).
std::vector<std::string> ParseWithInputs(
    const std::vector<std::string>& args,
    const po::options_description& options, po::variables_map& vm) {
  po::options_description hidden;
  hidden.add_options()("input", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(options).add(hidden);
  po::positional_options_description pos;
  pos.add("input", -1);
  po::store(po::command_line_parser(args).options(all).positional(pos).run(),
            vm);
  po::notify(vm);
  if (!vm.count("input")) return {};
  return vm["input"].as<std::vector<std::string>>();
}

int CmdRun(const std::vector<std::string>& args, std::ostream& out,
           std::ostream& err) {
  const po::options_description d = RunOptionsDesc();
  po::variables_map vm;
  RunCommandOptions options;
  options.inputs = ParseWithInputs(args, d, vm);
  if (vm.count("help")) {
    out << Help(kRunUsage, d);
    return 0;
  }
  if (options.inputs.empty()) {
    err << "hooksim run: give at least one scenario FILE or DIR\n"
        << kRunUsage;
    return 2;
  }
  if (vm.count("seed")) {
    options.seed = ParseUint64(vm["seed"].as<std::string>());
    if (!options.seed) {
      err << "hooksim run: --seed: expected an integer 0..18446744073709551615,"
          << " got \"" << vm["seed"].as<std::string>() << "\"\n";
      return 2;
    }
  }
  if (vm.count("report-json")) {
    options.report_json = vm["report-json"].as<std::string>();
  }
  if (vm.count("junit")) options.junit = vm["junit"].as<std::string>();
  if (vm.count("report-html")) {
    options.report_html = vm["report-html"].as<std::string>();
    options.command = CommandLine("run", args);
    if (options.report_html.empty()) {
      err << "hooksim run: --report-html: expected a file name, got \"\"\n";
      return 2;
    }
  }
  options.trace = vm["trace"].as<bool>();
  const std::string mode = vm["mode"].as<std::string>();
  if (mode == "http") {
    options.world = World::kHttp;
  } else if (mode != "sim") {
    err << "hooksim run: --mode: expected sim or http, got \"" << mode
        << "\"\n";
    return 2;
  }
  if (vm.count("time-scale")) {
    const std::string text = vm["time-scale"].as<std::string>();
    std::optional<double> scale = ParseFiniteDouble(text);
    if (!scale || !(*scale > 0) || *scale > 1) {
      err << "hooksim run: --time-scale: expected a number in (0, 1], got \""
          << text << "\"\n";
      return 2;
    }
    if (options.world != World::kHttp) {
      err << "hooksim run: --time-scale applies to --mode http only (the "
             "virtual world needs no compression)\n";
      return 2;
    }
    options.time_scale = *scale;
  }
  if (vm.count("contract")) options.contract = vm["contract"].as<std::string>();
  return RunRunCommand(options, out, err);
}

// Prints "hooksim COMMAND: unexpected argument ..." and returns true when
// `parsed` holds a positional argument (the command takes none).
bool RejectPositional(const po::parsed_options& parsed,
                      const std::string& command, std::ostream& err) {
  for (const po::option& o : parsed.options) {
    if (o.position_key >= 0) {
      err << "hooksim " << command << ": unexpected argument \""
          << (o.value.empty() ? o.string_key : o.value[0]) << "\"\n"
          << "try: hooksim " << command << " --help\n";
      return true;
    }
  }
  return false;
}

int CmdEvents(const std::vector<std::string>& args, std::ostream& out,
              std::ostream& err) {
  po::options_description d = EventsOptionsDesc();
  po::variables_map vm;
  const po::parsed_options parsed =
      po::command_line_parser(args).options(d).run();
  if (RejectPositional(parsed, "events", err)) return 2;
  po::store(parsed, vm);
  po::notify(vm);
  if (vm.count("help")) {
    out << Help(kEventsUsage, d);
    return 0;
  }
  const int64_t count = vm["count"].as<int64_t>();
  if (count < 1 || count > 10'000'000) {
    err << "hooksim events: --count: expected 1..10000000, got " << count
        << "\n";
    return 2;
  }
  ReleaseEventOptions options;
  options.apps = vm["apps"].as<int>();
  if (Status s = ValidateReleaseEventOptions(options)) {
    err << "hooksim events: --apps: " << s->message << "\n";
    return 2;
  }
  const std::optional<uint64_t> seed = ParseUint64(vm["seed"].as<std::string>());
  if (!seed) {
    err << "hooksim events: --seed: expected an integer 0..18446744073709551615,"
        << " got \"" << vm["seed"].as<std::string>() << "\"\n";
    return 2;
  }
  return RunEvents(count, *seed, options, out);
}

int CmdValidate(const std::vector<std::string>& args, std::istream& in,
                std::ostream& out, std::ostream& err) {
  const po::options_description d = ValidateOptionsDesc();
  po::variables_map vm;
  const std::vector<std::string> inputs = ParseWithInputs(args, d, vm);
  if (vm.count("help")) {
    out << Help(kValidateUsage, d);
    return 0;
  }
  if (inputs.size() > 1) {
    err << "hooksim validate: give one FILE (or - for standard input)\n";
    return 2;
  }
  if (inputs.empty() || inputs[0] == "-") {
    return RunValidate(in, "<stdin>", out, err);
  }
  std::ifstream file(inputs[0], std::ios::binary);
  if (!file) {
    err << "hooksim validate: " << inputs[0] << ": cannot open the file\n";
    return 2;
  }
  return RunValidate(file, inputs[0], out, err);
}

int CmdDeliver(const std::vector<std::string>& args, std::ostream& out,
               std::ostream& err) {
  const po::options_description d = DeliverOptionsDesc();
  po::variables_map vm;
  const po::parsed_options parsed =
      po::command_line_parser(args).options(d).run();
  for (const po::option& o : parsed.options) {
    if (o.position_key >= 0) {
      err << "hooksim deliver: unexpected argument \""
          << (o.value.empty() ? o.string_key : o.value[0])
          << "\" (give the URL with --url)\n"
          << "try: hooksim deliver --help\n";
      return 2;
    }
  }
  po::store(parsed, vm);
  po::notify(vm);
  if (vm.count("help")) {
    out << Help(kDeliverUsage, d);
    return 0;
  }
  auto flag = [&vm](const char* name) -> std::optional<std::string> {
    if (!vm.count(name)) return std::nullopt;
    return vm[name].as<std::string>();
  };
  DeliverFlags flags;
  flags.url = flag("url");
  flags.count = flag("count");
  flags.event_file = flag("event-file");
  flags.seed = flag("seed");
  flags.retry_schedule_ms = flag("retry-schedule-ms");
  flags.timeout_ms = flag("timeout-ms");
  flags.jitter = flag("jitter");
  flags.concurrency = flag("concurrency");
  flags.interval_ms = flag("interval-ms");
  flags.secret = flag("secret");
  flags.contract = flag("contract");
  flags.generate = flag("generate");
  flags.state = flag("state");
  flags.resume = vm["resume"].as<bool>();
  flags.trace = vm["trace"].as<bool>();
  flags.lease_ms = flag("lease-ms");
  Result<DeliverOptions> options = ParseDeliverFlags(flags);
  if (!options.ok()) {
    err << "hooksim deliver: " << options.error().message << "\n"
        << "try: hooksim deliver --help\n";
    return 2;
  }
  return RunDeliver(*options, out, err);
}

int CmdWorker(const std::vector<std::string>& args, std::ostream& out,
              std::ostream& err) {
  const po::options_description d = WorkerOptionsDesc();
  po::variables_map vm;
  const po::parsed_options parsed =
      po::command_line_parser(args).options(d).run();
  for (const po::option& o : parsed.options) {
    if (o.position_key >= 0) {
      err << "hooksim worker: unexpected argument \""
          << (o.value.empty() ? o.string_key : o.value[0]) << "\"\n"
          << "try: hooksim worker --help\n";
      return 2;
    }
  }
  po::store(parsed, vm);
  po::notify(vm);
  if (vm.count("help")) {
    out << Help(kWorkerUsage, d);
    return 0;
  }
  auto flag = [&vm](const char* name) -> std::optional<std::string> {
    if (!vm.count(name)) return std::nullopt;
    return vm[name].as<std::string>();
  };
  WorkerFlags flags;
  flags.deliver.state = flag("state");
  flags.deliver.seed = flag("seed");
  flags.deliver.retry_schedule_ms = flag("retry-schedule-ms");
  flags.deliver.timeout_ms = flag("timeout-ms");
  flags.deliver.jitter = flag("jitter");
  flags.deliver.concurrency = flag("concurrency");
  flags.deliver.trace = vm["trace"].as<bool>();
  flags.deliver.lease_ms = flag("lease-ms");
  flags.deliver.contract = flag("contract");
  flags.poll_ms = flag("poll-ms");
  Result<WorkerOptions> options = ParseWorkerFlags(flags);
  if (!options.ok()) {
    err << "hooksim worker: " << options.error().message << "\n"
        << "try: hooksim worker --help\n";
    return 2;
  }
  return RunWorker(*options, out, err);
}

int CmdReceiver(const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err) {
  const po::options_description d = ReceiverOptionsDesc();
  po::variables_map vm;
  const po::parsed_options parsed =
      po::command_line_parser(args).options(d).run();
  if (RejectPositional(parsed, "receiver", err)) return 2;
  po::store(parsed, vm);
  po::notify(vm);
  if (vm.count("help")) {
    out << Help(kReceiverUsage, d);
    return 0;
  }
  ReceiverCommandOptions options;
  options.listen = vm["listen"].as<std::string>();
  if (vm.count("behavior")) options.behavior = vm["behavior"].as<std::string>();
  if (vm.count("behavior-file")) {
    options.behavior_file = vm["behavior-file"].as<std::string>();
  }
  if (vm.count("scenario")) options.scenario = vm["scenario"].as<std::string>();
  if (vm.count("seed")) {
    options.seed = ParseUint64(vm["seed"].as<std::string>());
    if (!options.seed) {
      err << "hooksim receiver: --seed: expected an integer "
          << "0..18446744073709551615, got \"" << vm["seed"].as<std::string>()
          << "\"\n";
      return 2;
    }
  }
  const std::string scale = vm["time-scale"].as<std::string>();
  {
    const std::optional<double> value = ParseFiniteDouble(scale);
    if (!value || !(*value > 0) || *value > 1) {
      err << "hooksim receiver: --time-scale: expected a number in (0, 1], "
          << "got \"" << scale << "\"\n";
      return 2;
    }
    options.time_scale = *value;
  }
  const std::string capacity = vm["journal-capacity"].as<std::string>();
  {
    const std::optional<uint64_t> value = ParseUint64(capacity);
    if (!value || *value < 1 || *value > kMaxJournalCapacity) {
      err << "hooksim receiver: --journal-capacity: expected an integer 1.."
          << kMaxJournalCapacity << ", got \"" << capacity << "\"\n";
      return 2;
    }
    options.journal_capacity = static_cast<size_t>(*value);
  }
  const std::string max_body = vm["max-body-bytes"].as<std::string>();
  {
    const std::optional<uint64_t> value = ParseUint64(max_body);
    if (!value || *value < 1 || *value > kMaxBodyBytesLimit) {
      err << "hooksim receiver: --max-body-bytes: expected an integer 1.."
          << kMaxBodyBytesLimit << ", got \"" << max_body << "\"\n";
      return 2;
    }
    options.max_body_bytes = static_cast<size_t>(*value);
  }
  if (vm.count("admin-token")) {
    options.admin_token = vm["admin-token"].as<std::string>();
  } else if (const char* env = std::getenv("HOOKSIM_ADMIN_TOKEN")) {
    options.admin_token = std::string(env);
  }
  if (vm.count("contract")) options.contract = vm["contract"].as<std::string>();
  return RunReceiverCommand(options, out, err);
}

int CmdConform(const std::vector<std::string>& args, std::ostream& out,
               std::ostream& err) {
  const po::options_description d = ConformOptionsDesc();
  po::variables_map vm;
  const po::parsed_options parsed =
      po::command_line_parser(args).options(d).run();
  for (const po::option& o : parsed.options) {
    if (o.position_key >= 0) {
      err << "hooksim conform: unexpected argument \""
          << (o.value.empty() ? o.string_key : o.value[0])
          << "\" (give the sender with --sender-cmd 'CMD')\n"
          << "try: hooksim conform --help\n";
      return 2;
    }
  }
  po::store(parsed, vm);
  po::notify(vm);
  if (vm.count("help")) {
    out << Help(kConformUsage, d);
    return 0;
  }
  auto flag = [&vm](const char* name) -> std::optional<std::string> {
    if (!vm.count(name)) return std::nullopt;
    return vm[name].as<std::string>();
  };
  ConformFlags flags;
  flags.sender_cmd = flag("sender-cmd");
  flags.cases = flag("cases");
  flags.case_timeout_s = flag("case-timeout-s");
  flags.quiet_ms = flag("quiet-ms");
  flags.slow_ms = flag("slow-ms");
  flags.hang_ms = flag("hang-ms");
  flags.parallel = flag("parallel");
  flags.seed = flag("seed");
  flags.junit = flag("junit");
  flags.report_json = flag("report-json");
  flags.report_html = flag("report-html");
  flags.contract = flag("contract");
  if (vm["list-cases"].as<bool>()) {
    // The battery needs no sender to be listed.
    if (!flags.sender_cmd) flags.sender_cmd = "true";
    Result<ConformOptions> options = ParseConformFlags(flags);
    if (!options.ok()) {
      err << "hooksim conform: " << options.error().message << "\n";
      return 2;
    }
    PrintConformCases(options->cases, out);
    return 0;
  }
  Result<ConformOptions> options = ParseConformFlags(flags);
  if (!options.ok()) {
    err << "hooksim conform: " << options.error().message << "\n"
        << "try: hooksim conform --help\n";
    return 2;
  }
  options->command = CommandLine("conform", args);
  return RunConform(*options, out, err);
}

}  // namespace

int RunCli(int argc, const char* const* argv, std::istream& in,
           std::ostream& out, std::ostream& err) {
  if (argc < 2) {
    err << kUsage;
    return 2;
  }
  const std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (command == "--help" || command == "-h") {
      out << kUsage;
      return 0;
    }
    if (command == "help") {
      const std::string topic = args.empty() ? "" : args[0];
      if (topic == "run") {
        out << Help(kRunUsage, RunOptionsDesc());
      } else if (topic == "events") {
        out << Help(kEventsUsage, EventsOptionsDesc());
      } else if (topic == "validate") {
        out << Help(kValidateUsage, ValidateOptionsDesc());
      } else if (topic == "deliver") {
        out << Help(kDeliverUsage, DeliverOptionsDesc());
      } else if (topic == "receiver") {
        out << Help(kReceiverUsage, ReceiverOptionsDesc());
      } else if (topic == "bench") {
        out << BenchHelp();
      } else if (topic == "conform") {
        out << Help(kConformUsage, ConformOptionsDesc());
      } else if (topic == "hooks") {
        out << HooksHelp();
      } else if (topic == "contracts") {
        out << ContractsHelp();
      } else if (topic == "worker") {
        out << Help(kWorkerUsage, WorkerOptionsDesc());
      } else if (topic.empty()) {
        out << kUsage;
      } else {
        err << "hooksim help: unknown command \"" << topic << "\"\n\n"
            << kUsage;
        return 2;
      }
      if (args.size() > 1) {
        err << "hooksim help: unexpected argument \"" << args[1] << "\"\n";
        return 2;
      }
      return 0;
    }
    if (command == "--version" || command == "version") {
      out << "hooksim " << kHooksimVersion << "\n";
      return 0;
    }
    if (command == "run") return CmdRun(args, out, err);
    if (command == "events") return CmdEvents(args, out, err);
    if (command == "validate") return CmdValidate(args, in, out, err);
    if (command == "deliver") return CmdDeliver(args, out, err);
    if (command == "receiver") return CmdReceiver(args, out, err);
    if (command == "bench") return RunBenchCli(args, out, err);
    if (command == "conform") return CmdConform(args, out, err);
    if (command == "hooks") return RunHooksCommand(args, out, err);
    if (command == "worker") return CmdWorker(args, out, err);
    if (command == "contracts") return RunContractsCommand(args, out, err);
    err << "hooksim: unknown command \"" << command << "\"\n\n" << kUsage;
    return 2;
  } catch (const po::error& e) {
    err << "hooksim " << command << ": " << e.what() << "\n"
        << "try: hooksim " << command << " --help\n";
    return 2;
  } catch (const std::exception& e) {
    err << "hooksim " << command << ": " << e.what() << "\n";
    return 2;
  }
}

}  // namespace hooksim
