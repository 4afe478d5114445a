#include "sim/cli/hooks_command.h"

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "sim/cli/flags.h"
#include "sim/contract/contract_file.h"
#include "sim/contract/webhook_signature.h"
#include "sim/durable/durable_delivery.h"
#include "sim/durable/open_state.h"
#include "sim/durable/state_store.h"
#include "sim/http/http_url.h"
#include "sim/os/wall_time.h"

namespace hooksim {
namespace {


constexpr const char* kHooksUsage =
    "usage: hooksim hooks add URL [--secret whsec_...] [--contract NAME|FILE]\n"
    "         [--state FILE|URL]\n"
    "       hooksim hooks list [--json] [--all] [--state FILE|URL]\n"
    "       hooksim hooks pause ID | resume ID | remove ID [--state FILE|URL]\n"
    "\n"
    "Manages the hooks `hooksim deliver` (without --url) and `hooksim worker`\n"
    "deliver to. State lives in an SQLite file (--state FILE) or a\n"
    "PostgreSQL database many workers share (--state\n"
    "postgres://USER@HOST:PORT/DB), else $HOOKSIM_STATE, else\n"
    "./.hooksim/state.db; only `add` creates it (a file and its directory,\n"
    "or hooksim's tables in an existing database): the others say there is\n"
    "no state there (exit 2).\n"
    "  add      registers an active hook and prints its id (hk_...); with\n"
    "           --secret every attempt is signed (Standard Webhooks headers;\n"
    "           X-Hub-Signature-256 under --contract github); with --contract\n"
    "           every runner sends to it by that profile (attempts, schedule,\n"
    "           jitter, timeout, 410, Retry-After, signing)\n"
    "  list     id, state, created time, deliveries (delivered, gave_up,\n"
    "           pending, held, cancelled) and URL; --json prints an array of\n"
    "           objects; --all includes removed hooks\n"
    "  pause    holds the hook's deliveries: once it returns, no new attempt\n"
    "           starts (one already being written may finish)\n"
    "  resume   makes its held deliveries deliverable again, in order\n"
    "           (`hooksim deliver --resume` or a running worker sends them)\n"
    "  remove   removes the hook; its pending and held deliveries end\n"
    "           cancelled (reason: hook removed); once it returns, no new\n"
    "           attempt starts (one already being written may finish)\n"
    "Exit codes: 0 done, 1 already paused/active or a state database error,\n"
    "2 bad usage (bad URL or secret, unknown id, no state database at the\n"
    "path, or a file that is not one: empty, foreign or newer).\n";

struct HooksOptions {
  std::vector<std::string> words;  // SUBCOMMAND [URL|ID].
  std::optional<std::string> state;
  std::optional<std::string> secret;
  std::optional<std::string> contract;  // add: NAME|FILE.
  bool json = false;
  bool all = false;
};

FlagSet HooksFlagSet(HooksOptions* o) {
  FlagSet flags("hooks", kHooksUsage);
  AddStateFlag(flags,
               "the state: an SQLite file or postgres://USER@HOST:PORT/DB "
               "(default $HOOKSIM_STATE or ./.hooksim/state.db)",
               &o->state);
  flags.Text("secret", "add: sign attempts with this whsec_... secret",
             &o->secret)
      .Value("whsec_...");
  AddContractNameFlag(flags,
                      "add: NAME|FILE, the contract profile every runner "
                      "sends to this hook by (stored with it; default: the "
                      "runner's --contract)",
                      &o->contract);
  flags.Switch("json", "list: print a JSON array", &o->json);
  flags.Switch("all", "list: include removed hooks", &o->all);
  flags.Positionals(&o->words);
  return flags;
}

std::string FormatCreated(int64_t ms) { return UtcIsoTime(ms / 1000); }

nlohmann::json HookJson(const StoredHook& h) {
  return {{"id", h.id},
          {"url", h.url},
          {"state", std::string(HookStateName(h.state))},
          {"created_ms", h.created_ms},
          {"created", FormatCreated(h.created_ms)},
          {"signed", !h.secret.empty()},
          {"contract", h.contract.empty()
                           ? nlohmann::json(nullptr)
                           : nlohmann::json(
                                 nlohmann::json::parse(h.contract, nullptr,
                                                       false)
                                     .value("name", std::string()))},
          {"disabled_ms", h.gone_ms ? nlohmann::json(*h.gone_ms)
                                    : nlohmann::json(nullptr)},
          {"deliveries",
           {{"delivered", h.counts.delivered},
            {"gave_up", h.counts.gave_up},
            {"pending", h.counts.pending},
            {"held", h.counts.held},
            {"cancelled", h.counts.cancelled},
            {"failed", h.counts.failed}}}};
}

void PrintHookTable(const std::vector<StoredHook>& hooks, std::ostream& out) {
  char line[256];
  std::snprintf(line, sizeof(line),
                "%-15s  %-7s  %-20s  %9s %7s %7s %6s %9s  %s", "ID", "STATE",
                "CREATED", "DELIVERED", "GAVE_UP", "PENDING", "HELD",
                "CANCELLED", "URL");
  out << line << "\n";
  for (const StoredHook& h : hooks) {
    std::snprintf(line, sizeof(line),
                  "%-15s  %-7s  %-20s  %9lld %7lld %7lld %6lld %9lld  ",
                  h.id.c_str(), std::string(HookStateName(h.state)).c_str(),
                  FormatCreated(h.created_ms).c_str(),
                  static_cast<long long>(h.counts.delivered),
                  static_cast<long long>(h.counts.gave_up),
                  static_cast<long long>(h.counts.pending),
                  static_cast<long long>(h.counts.held),
                  static_cast<long long>(h.counts.cancelled));
    out << line << h.url << (h.secret.empty() ? "" : "  (signed)");
    if (!h.contract.empty()) {
      out << "  (contract "
          << nlohmann::json::parse(h.contract, nullptr, false)
                 .value("name", std::string("?"))
          << ")";
    }
    if (h.gone_ms) out << "  (disabled by a 410 Gone)";
    out << "\n";
  }
}

const CommandFlags<HooksOptions> kHooksFlags{HooksFlagSet};

// One subcommand on the state (see the usage above); the exit code.
int RunHooks(const HooksOptions& options, std::ostream& out,
             std::ostream& err);

}  // namespace

std::string HooksHelp() { return HelpOf(kHooksFlags); }

int RunHooksCommand(const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err) {
  return ParseAndRun(
      kHooksFlags, args, out, err,
      [&](const HooksOptions& options) { return RunHooks(options, out, err); });
}

namespace {

std::string Prefix(const HooksOptions& options) {
  return "hooksim hooks " + options.words[0] + ": ";
}

// A bad subcommand, word count, URL, secret or flag for the subcommand:
// prints why and returns 2; nullopt: the usage is right.
std::optional<int> CheckHooksUsage(const HooksOptions& options,
                                   std::ostream& err) {
  const std::vector<std::string>& words = options.words;
  if (words.empty()) {
    err << "hooksim hooks: give a subcommand: add, list, pause, resume, "
           "remove\ntry: hooksim hooks --help\n";
    return ToInt(ExitCode::kUsage);
  }
  const std::string& sub = words[0];
  const std::string prefix = Prefix(options);
  const bool takes_one =
      sub == "add" || sub == "pause" || sub == "resume" || sub == "remove";
  if (!takes_one && sub != "list") {
    err << "hooksim hooks: unknown subcommand \"" << sub
        << "\" (add, list, pause, resume, remove)\ntry: hooksim hooks --help\n";
    return ToInt(ExitCode::kUsage);
  }
  const size_t want = takes_one ? 2 : 1;
  if (words.size() != want) {
    err << prefix
        << (words.size() < want
                ? std::string(sub == "add" ? "give the hook's URL"
                                           : "give the hook's id (see "
                                             "hooksim hooks list)")
                : "unexpected argument \"" + words[want] + "\"")
        << "\ntry: hooksim hooks --help\n";
    return ToInt(ExitCode::kUsage);
  }
  if ((options.secret || options.contract) && sub != "add") {
    err << prefix << (options.secret ? "--secret" : "--contract")
        << ": only for hooks add\n";
    return ToInt(ExitCode::kUsage);
  }
  if ((options.json || options.all) && sub != "list") {
    err << prefix << "--json and --all: only for hooks list\n";
    return ToInt(ExitCode::kUsage);
  }
  if (sub != "add") return std::nullopt;
  if (Result<HttpUrl> url = ParseHttpUrl(words[1]); !url.ok()) {
    err << prefix << "URL \"" << words[1] << "\": " << url.error().message()
        << "\n";
    return ToInt(ExitCodeFor(url.error()));
  }
  bool github_signing = false;
  if (options.contract) {
    Result<Contract> contract = LoadContract(*options.contract);
    if (!contract.ok()) {
      err << prefix << "--contract: " << contract.error().ToString() << "\n";
      return ToInt(ExitCodeFor(contract.error()));
    }
    github_signing = contract->signing == SigningScheme::kGithubSha256;
  }
  if (options.secret) {
    // GitHub's key is the secret text itself; others are whsec_ + base64.
    if (github_signing && options.secret->empty()) {
      err << prefix << "--secret: expected a non-empty secret\n";
      return ToInt(ExitCode::kUsage);
    }
    if (Result<std::string> key = DecodeWebhookSecret(*options.secret);
        !github_signing && !key.ok()) {
      err << prefix << "--secret: " << key.error().message() << "\n";
      return ToInt(ExitCodeFor(key.error()));
    }
  }
  return std::nullopt;
}

int AddHook(StateBackend& s, const HooksOptions& options, std::ostream& out,
            std::ostream& err) {
  std::string contract_json;
  int contract_attempts = 0;
  if (options.contract) {
    // Checked by CheckHooksUsage: it loads.
    Result<Contract> contract = LoadContract(*options.contract);
    if (!contract.ok()) {
      err << Prefix(options) << "--contract: " << contract.error().ToString()
          << "\n";
      return ToInt(ExitCodeFor(contract.error()));
    }
    contract_json = ContractToJson(*contract).dump();
    contract_attempts = contract->max_attempts();
  }
  Result<StoredHook> hook =
      s.AddHook(options.words[1], options.secret.value_or(""), WallNowMs(),
                contract_json, contract_attempts);
  if (!hook.ok()) {
    err << Prefix(options) << hook.error().ToString() << "\n";
    return ToInt(ExitCode::kFailed);
  }
  out << hook->id << "\n";
  return ToInt(ExitCode::kOk);
}

int ListHooks(StateBackend& s, const HooksOptions& options,
              const std::string& path, std::ostream& out, std::ostream& err) {
  Result<std::vector<StoredHook>> hooks = s.ListHooks(options.all);
  if (!hooks.ok()) {
    err << Prefix(options) << hooks.error().ToString() << "\n";
    return ToInt(ExitCode::kFailed);
  }
  if (options.json) {
    nlohmann::json array = nlohmann::json::array();
    for (const StoredHook& h : *hooks) array.push_back(HookJson(h));
    out << array.dump(2) << "\n";
  } else if (hooks->empty()) {
    out << "no hooks in " << path
        << " (add one with: hooksim hooks add URL)\n";
  } else {
    PrintHookTable(*hooks, out);
  }
  return ToInt(ExitCode::kOk);
}

// pause, resume or remove.
int ChangeHook(StateBackend& s, const HooksOptions& options,
               const std::string& path, std::ostream& out, std::ostream& err) {
  const std::string& sub = options.words[0];
  const std::string& id = options.words[1];
  const std::string prefix = Prefix(options);
  const int64_t now = WallNowMs();
  Result<HookChangeResult> change = sub == "pause"    ? s.PauseHook(id, now)
                                    : sub == "resume" ? s.ResumeHook(id, now)
                                                      : s.RemoveHook(id, now);
  if (!change.ok()) {
    err << prefix << change.error().ToString() << "\n";
    return ToInt(ExitCode::kFailed);
  }
  switch (change->change) {
    case HookChange::kNotFound:
      err << prefix << "no hook \"" << id << "\" in " << path
          << " (see hooksim hooks list)\n";
      return ToInt(ExitCode::kUsage);
    case HookChange::kAlreadyInState:
      err << prefix << "hook " << id << " is already "
          << (sub == "pause" ? "paused" : "active") << "\n";
      return ToInt(ExitCode::kFailed);
    case HookChange::kChanged:
      break;
  }
  const int64_t n = change->deliveries;
  const std::string deliveries =
      std::to_string(n) + (n == 1 ? " delivery" : " deliveries");
  if (sub == "pause") {
    out << "paused " << id << "; " << deliveries
        << " held (more as their next attempt comes due; no new attempt "
           "starts from now on)\n";
  } else if (sub == "resume") {
    out << "resumed " << id << "; " << deliveries
        << " deliverable again (a running worker or hooksim deliver --resume "
           "sends them)\n";
  } else {
    out << "removed " << id << "; " << deliveries
        << " cancelled (reason: hook removed)\n";
  }
  return ToInt(ExitCode::kOk);
}

int RunHooks(const HooksOptions& options, std::ostream& out,
             std::ostream& err) {
  if (std::optional<int> code = CheckHooksUsage(options, err)) return *code;
  const std::string& sub = options.words[0];
  const std::string path = ResolveStatePath(options.state);
  // Only `add` creates a state; the others need one.
  StoreOptions store_options;
  store_options.create = sub == "add";
  Result<std::unique_ptr<StateBackend>> store =
      OpenState(path, store_options);
  if (!store.ok()) {
    err << Prefix(options) << store.error().ToString() << "\n";
    return ToInt(ExitCodeFor(store.error()));
  }
  if (sub == "add") return AddHook(**store, options, out, err);
  // Named without a password (a PostgreSQL URL may carry one).
  const std::string& where = (*store)->location();
  if (sub == "list") return ListHooks(**store, options, where, out, err);
  return ChangeHook(**store, options, where, out, err);
}

}  // namespace

}  // namespace hooksim
