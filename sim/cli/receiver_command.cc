#include "sim/cli/receiver_command.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>

#include <charconv>
#include <iterator>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>
#include <vector>

#include "mock-receivers/behavior_parser.h"
#include "mock-receivers/http/http_receiver_server.h"
#include "mock-receivers/receiver.h"
#include "mock-receivers/routes.h"
#include "sim/base/random.h"
#include "sim/cli/behavior_input.h"
#include "sim/cli/exit_code.h"
#include "sim/contract/contract_file.h"
#include "sim/contract/payload_validator.h"
#include "sim/scenario/scenario.h"

namespace hooksim {
namespace {

constexpr char kPrefix[] = "hooksim receiver: ";

// Live log lines from serving threads onto one stream, whole and flushed.
class LogSink {
 public:
  explicit LogSink(std::ostream& out) : out_(out) {}
  void Write(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    out_ << line << '\n';
    out_.flush();
  }

 private:
  std::mutex mu_;
  std::ostream& out_;
};

struct Served {
  std::unique_ptr<MockReceiver> receiver;
  std::unique_ptr<HttpReceiverServer> server;
  // With --admin-listen: the receiver's admin API on its own port.
  std::unique_ptr<HttpReceiverServer> admin;
};

// Blocks SIGINT and SIGTERM in this thread for its lifetime, so they wait
// for sigwait instead of killing the process; restores the old mask.
class TerminationSignals {
 public:
  TerminationSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    // A shell without job control starts `hooksim receiver &` with SIGINT
    // ignored, and an ignored signal never reaches sigwait: `kill -INT`
    // would not stop it. Asked to stop on SIGINT, it does.
    for (int sig : {SIGINT, SIGTERM}) {
      struct sigaction current {};
      if (sigaction(sig, nullptr, &current) == 0 &&
          current.sa_handler == SIG_IGN) {
        signal(sig, SIG_DFL);
      }
    }
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~TerminationSignals() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  void Wait() {
    int signal = 0;
    // Bounded: sigwait only returns early on an error, which is retried
    // at most a few times.
    for (int i = 0; i < 100; ++i) {
      if (sigwait(&set_, &signal) == 0) return;
    }
  }

 private:
  sigset_t set_;
  sigset_t old_;
};

std::string Summary(const MockReceiver& receiver) {
  std::string line = "receiver " + receiver.name();
  receiver.WithJournal([&](const Journal& j) {
    uint64_t delivered = 0;
    for (const auto& entry : j.deliveries()) {
      delivered += entry.second.success_attempt() != 0 ? 1 : 0;
    }
    line += "  requests=" + std::to_string(j.total_requests()) +
            " deliveries=" + std::to_string(j.deliveries().size()) +
            " delivered=" + std::to_string(delivered) +
            " abandoned=" + std::to_string(j.abandoned()) +
            " schema_failures=" + std::to_string(j.schema_failures());
    if (j.refused() > 0) line += " refused=" + std::to_string(j.refused());
    if (j.dropped() > 0) {
      line += " journal_dropped=" + std::to_string(j.dropped());
    }
    if (j.signatures_checked() > 0) {
      line += " signature_failures=" + std::to_string(j.signature_failures());
    }
    if (!j.answers().empty()) {
      line += "  answers:";
      for (const auto& [answer, count] : j.answers()) {
        line += " " + answer + "=" + std::to_string(count);
      }
    }
  });
  return line;
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  const auto bad = [&] {
    return Status::InvalidArgument(
        "expected HOST:PORT with PORT 0..65535, got \"" + std::string(text) +
        "\"");
  };
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return bad();
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return bad();
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad();  // An IPv6 literal needs brackets.
  }
  int port = -1;
  const char* end = port_text.data() + port_text.size();
  auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
  if (port_text.empty() || ec != std::errc() || ptr != end || port < 0 ||
      port > 65535) {
    return bad();
  }
  return ListenAddress{std::string(host), port};
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  const std::string text(host);
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
}

namespace {

// The flags' values and how they go together; prints the warning for an
// admin API open to the network.
Status CheckReceiverOptions(const ReceiverCommandOptions& options,
                            const ListenAddress& listen, std::ostream& err) {
  if (options.admin_token) {
    const std::string& t = *options.admin_token;
    bool printable = !t.empty() && t.size() <= 1024;
    for (char c : t) printable = printable && c > ' ' && c < 0x7f;
    if (!printable) {
      return Status::InvalidArgument(
          "--admin-token: expected 1..1024 printable characters without "
          "spaces");
    }
  } else if (!IsLoopbackHost(listen.host)) {
    err << kPrefix << "warning: --listen " << options.listen
        << " is not a loopback address: the admin API (/__hooksim/: reset "
           "the journal, replace the behaviour) is open to every host that "
           "can reach it; give --admin-token TOKEN (or HOOKSIM_ADMIN_TOKEN) "
           "to require it\n";
  }
  const int sources = options.behavior.has_value() +
                      options.behavior_file.has_value() +
                      options.behavior_dir.has_value() +
                      options.scenario.has_value();
  if (sources > 1) {
    return Status::InvalidArgument(
        "give at most one of --behavior, --behavior-file, --behavior-dir, "
        "--scenario");
  }
  std::ostringstream bad;
  if (!(options.time_scale > 0 && options.time_scale <= 1)) {
    bad << "--time-scale: expected a number in (0, 1], got "
        << options.time_scale;
  } else if (options.journal_capacity < 1 ||
             options.journal_capacity > kMaxJournalCapacity) {
    bad << "--journal-capacity: expected 1.." << kMaxJournalCapacity
        << ", got " << options.journal_capacity;
  } else if (options.max_body_bytes < 1 ||
             options.max_body_bytes > kMaxBodyBytesLimit) {
    bad << "--max-body-bytes: expected 1.." << kMaxBodyBytesLimit << ", got "
        << options.max_body_bytes;
  } else if (options.journal_body_cap > kMaxBodyBytesLimit) {
    bad << "--journal-body-cap: expected 0.." << kMaxBodyBytesLimit
        << ", got " << options.journal_body_cap;
  } else if (options.journal_max_bytes < kMinJournalMaxBytes ||
             options.journal_max_bytes > kMaxJournalMaxBytes) {
    bad << "--journal-max-bytes: expected " << kMinJournalMaxBytes << ".."
        << kMaxJournalMaxBytes << ", got " << options.journal_max_bytes;
  }
  if (!bad.str().empty()) return Status::InvalidArgument(bad.str());
  return Status::Ok();
}

// What to serve: (name, behaviour) pairs and the seed of their answers.
struct ServedSpecs {
  std::vector<std::pair<std::string, BehaviorSpec>> specs;
  uint64_t seed = 1;
  // Overlapping or unreachable routes, "receiver NAME: ..." each.
  std::vector<std::string> warnings;
};

// A behaviour from the command line, and for --behavior-dir the file of
// each route (for warnings).
struct LoadedBehavior {
  BehaviorSpec spec;
  std::vector<std::string> route_files;
};

// The behaviour of --behavior, --behavior-file or --behavior-dir (none:
// always 200).
Result<LoadedBehavior> LoadBehavior(const ReceiverCommandOptions& options) {
  if (options.behavior) {
    Result<BehaviorSpec> parsed = ParseBehaviorText(*options.behavior);
    if (!parsed.ok()) {
      return Status::InvalidArgument("--behavior '" + *options.behavior +
                                     "': " + parsed.error().message());
    }
    return LoadedBehavior{std::move(parsed).value(), {}};
  }
  if (options.behavior_dir) {
    Result<BehaviorDir> dir = LoadBehaviorDir(*options.behavior_dir);
    if (!dir.ok()) {
      return Status(dir.error().code(),
                    "--behavior-dir: " + dir.error().message());
    }
    return LoadedBehavior{std::move(dir->spec), std::move(dir->files)};
  }
  if (options.behavior_file) {
    Result<std::string> text = ReadBehaviorFile(*options.behavior_file);
    if (!text.ok()) {
      return Status(text.error().code(),
                    "--behavior-file: " + text.error().message());
    }
    Result<BehaviorSpec> parsed = ParseBehaviorText(*text);
    if (!parsed.ok()) {
      return Status::InvalidArgument("--behavior-file: " +
                                     *options.behavior_file + ": " +
                                     parsed.error().message());
    }
    return LoadedBehavior{std::move(parsed).value(), {}};
  }
  return LoadedBehavior{};
}

// The scenario's receivers, or one "default" receiver.
Result<ServedSpecs> LoadServedSpecs(const ReceiverCommandOptions& options) {
  ServedSpecs served;
  served.seed = options.seed.value_or(1);
  if (!options.scenario) {
    Result<LoadedBehavior> spec = LoadBehavior(options);
    if (!spec.ok()) return spec.error();
    for (const std::string& w :
         RouteWarnings(spec->spec, "", spec->route_files)) {
      served.warnings.push_back("receiver default: " + w);
    }
    served.specs.emplace_back("default", std::move(spec->spec));
    return served;
  }
  Result<Scenario> scenario = LoadScenarioFile(*options.scenario);
  if (!scenario.ok()) {
    return Status(scenario.error().code(),
                  "--scenario: " + scenario.error().ToString());
  }
  served.seed = options.seed.value_or(scenario->seed);
  for (const ReceiverSpec& r : scenario->receivers) {
    served.specs.emplace_back(r.name, r.behavior);
  }
  for (const std::string& w : ScenarioRouteWarnings(*scenario)) {
    served.warnings.push_back(*options.scenario + ": " + w);
  }
  if (served.specs.empty()) {
    return Status::InvalidArgument("--scenario: " + *options.scenario +
                                   ": no receivers");
  }
  return served;
}

// --contract, loaded (nullopt when not given).
Result<std::optional<Contract>> LoadReceiverContract(
    const ReceiverCommandOptions& options) {
  if (!options.contract) return std::optional<Contract>();
  Result<Contract> loaded = LoadContract(*options.contract);
  if (!loaded.ok()) {
    return Status(loaded.error().code(),
                  "--contract: " + loaded.error().ToString());
  }
  return std::optional<Contract>(std::move(loaded).value());
}

// Starts one server per spec (the first on --listen's port, the others on
// kernel-chosen ones); on failure stops those started.
Status StartServers(const ReceiverCommandOptions& options,
                    const ListenAddress& listen,
                    const std::optional<ListenAddress>& admin_listen,
                    const ServedSpecs& specs,
                    const std::optional<Contract>& contract,
                    const std::shared_ptr<JournalFile>& journal_file,
                    const std::shared_ptr<LogSink>& log,
                    std::vector<Served>& served) {
  Result<std::shared_ptr<CachedPayloadValidator>> cache =
      CachedPayloadValidator::Bundled();
  if (!cache.ok()) return cache.error();
  const Random master(specs.seed);
  for (size_t i = 0; i < specs.specs.size(); ++i) {
    const auto& [name, behavior] = specs.specs[i];
    ReceiverOptions ropts;
    ropts.name = name;
    ropts.contract = contract;
    ropts.validator = *cache;
    ropts.journal.capacity = options.journal_capacity;
    ropts.journal.body_cap = options.journal_body_cap;
    ropts.journal.max_bytes = options.journal_max_bytes;
    ropts.journal_file = journal_file;
    // The server's time starts about now (outage windows and journal times
    // run on it, scaled by --time-scale).
    ropts.unix_origin = UnixTimeNow();
    // Real senders sign with their wall clock: signatures are judged by it
    // even when --time-scale compresses the run timeline.
    ropts.signature_clock = [] { return UnixTimeNow(); };
    Served s;
    s.receiver = std::make_unique<MockReceiver>(
        ropts, behavior, master.Fork("receiver:" + name));
    HttpReceiverOptions hopts;
    hopts.host = listen.host;
    hopts.port = i == 0 ? listen.port : 0;
    hopts.time_scale = options.time_scale;
    hopts.max_body_bytes = options.max_body_bytes;
    hopts.admin_token = options.admin_token.value_or("");
    hopts.core = options.server_core;
    if (admin_listen) hopts.admin = AdminMode::kElsewhere;
    if (log) {
      const bool several = specs.specs.size() > 1;
      hopts.on_request_end = [log, name = name, several,
                              format = options.log_format](
                                 const RequestLogRecord& record) {
        std::string line = FormatRequestLog(record, format);
        if (several && format == RequestLogFormat::kText) {
          line = "[" + name + "] " + line;
        } else if (several) {
          // {"receiver":"NAME",...}: the name first, for readers by eye.
          line = "{\"receiver\":" + nlohmann::json(name).dump() + "," +
                 line.substr(1);
        }
        log->Write(line);
      };
    }
    s.server = std::make_unique<HttpReceiverServer>(*s.receiver, hopts);
    auto stop_all = [&] {
      for (Served& running : served) {
        if (running.admin) running.admin->Stop();
        running.server->Stop();
      }
    };
    if (Status status = s.server->Start(); !status.ok()) {
      stop_all();
      return Status(status.code(), "--listen " + options.listen +
                       ": cannot serve receiver " + name + " at " +
                       status.message());
    }
    if (admin_listen) {
      HttpReceiverOptions aopts;
      aopts.host = admin_listen->host;
      aopts.port = i == 0 ? admin_listen->port : 0;
      aopts.admin_token = hopts.admin_token;
      aopts.admin = AdminMode::kOnly;
      aopts.threads = 4;
      aopts.core = ServerCore::kThreads;  // Admin only: nothing to gain.
      s.admin = std::make_unique<HttpReceiverServer>(*s.receiver, aopts);
      if (Status status = s.admin->Start(); !status.ok()) {
        s.server->Stop();
        stop_all();
        return Status(status.code(), "--admin-listen " +
                                          *options.admin_listen +
                                          ": cannot serve the admin API of " +
                                          name + " at " + status.message());
      }
    }
    served.push_back(std::move(s));
  }
  return Status::Ok();
}

}  // namespace

int RunReceiverCommand(const ReceiverCommandOptions& options, std::ostream& out,
                       std::ostream& err,
                       const std::function<void()>& wait_for_stop) {
  auto usage = [&err](const Status& e) {
    err << kPrefix << e.message() << "\n";
    return ToInt(ExitCodeFor(e));
  };
  Result<ListenAddress> listen = ParseListenAddress(options.listen);
  if (!listen.ok()) {
    return usage(Status(listen.error().code(),
                        "--listen: " + listen.error().message()));
  }
  if (Status s = CheckReceiverOptions(options, *listen, err); !s.ok()) {
    return usage(s);
  }
  Result<ServedSpecs> specs = LoadServedSpecs(options);
  if (!specs.ok()) return usage(specs.error());
  for (const std::string& w : specs->warnings) {
    err << kPrefix << "warning: " << w << "\n";
  }
  Result<std::optional<Contract>> contract = LoadReceiverContract(options);
  if (!contract.ok()) return usage(contract.error());
  std::optional<ListenAddress> admin_listen;
  if (options.admin_listen) {
    Result<ListenAddress> parsed = ParseListenAddress(*options.admin_listen);
    if (!parsed.ok()) {
      return usage(Status(parsed.error().code(),
                          "--admin-listen: " + parsed.error().message()));
    }
    admin_listen = *parsed;
  }
  // Opened before any server starts: a file that cannot be written is an
  // error now, not after the run.
  std::shared_ptr<JournalFile> journal_file;
  if (options.journal_file) {
    Result<std::shared_ptr<JournalFile>> opened =
        JournalFile::Open(*options.journal_file);
    if (!opened.ok()) {
      return usage(Status(opened.error().code(),
                          "--journal-file: " + opened.error().message()));
    }
    journal_file = *opened;
  }

  // Signals are blocked before any server thread exists and before any
  // URL is printed, so a SIGINT from a caller that read the URL is never
  // lost or fatal.
  std::optional<TerminationSignals> signals;
  if (!wait_for_stop) signals.emplace();
  std::shared_ptr<LogSink> log;
  if (options.log) log = std::make_shared<LogSink>(out);
  std::vector<Served> served;
  if (Status s = StartServers(options, *listen, admin_listen, *specs,
                              *contract, journal_file, log, served);
      !s.ok()) {
    return usage(s);
  }

  for (const Served& s : served) {
    const std::string base = s.server->base_url();
    out << "receiver " << s.receiver->name() << "  " << base << "/hook  admin "
        << (s.admin ? s.admin->base_url() : base) << "/__hooksim/  metrics "
        << base << "/metrics\n";
  }
  out << "seed " << specs->seed << "; serving until SIGINT or SIGTERM"
      << std::endl;

  if (wait_for_stop) {
    wait_for_stop();
  } else {
    signals->Wait();
  }

  for (Served& s : served) {
    s.server->Stop();
    if (s.admin) s.admin->Stop();
  }
  for (const Served& s : served) out << Summary(*s.receiver) << "\n";
  out.flush();
  return ToInt(ExitCode::kOk);
}

}  // namespace hooksim
