#include "sim/contract/contract_file.h"

#include <fstream>
#include <memory>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "sim/base/json_reader.h"
#include "sim/contract/embedded_schemas.h"

namespace hooksim {
namespace {

using Json = nlohmann::json;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// The compiled contract schema (built once; valijson schemas are read-only
// once populated).
const valijson::Schema& ContractSchema() {
  static const valijson::Schema* const schema = [] {
    auto* s = new valijson::Schema();
    const Json doc = Json::parse(EmbeddedContractSchema());
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(doc);
    parser.populateSchema(adapter, *s);
    return s;
  }();
  return *schema;
}

// valijson's context {"<root>", "[retry_after]", "[mode]"} as a pointer.
std::string PointerOf(const std::vector<std::string>& context) {
  std::string out;
  for (const std::string& entry : context) {
    if (entry == "<root>") continue;
    if (entry.size() >= 2 && entry.front() == '[' && entry.back() == ']') {
      out = JoinPointer(out, entry.substr(1, entry.size() - 2));
    } else {
      out = JoinPointer(out, entry);
    }
  }
  return out;
}

// The deepest schema error: the one naming the offending field itself.
Status SchemaCheck(const Json& doc) {
  valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter adapter(doc);
  if (validator.validate(ContractSchema(), adapter, &results)) {
    return std::nullopt;
  }
  valijson::ValidationResults::Error error;
  valijson::ValidationResults::Error deepest;
  bool any = false;
  // Bounded: valijson's result list is finite; a hostile file of at most
  // kMaxContractFileBytes gives a bounded number of errors.
  while (results.popError(error)) {
    if (!any || error.context.size() > deepest.context.size()) {
      deepest = error;
      any = true;
    }
  }
  if (!any) return MakeError("does not match the contract schema");
  const std::string pointer = PointerOf(deepest.context);
  return MakeError(deepest.description, pointer.empty() ? "/" : pointer);
}

Duration Ms(int64_t ms) { return milliseconds(ms); }

Status Consistency(const Contract& c) {
  const size_t delays = c.retry_schedule.size();
  if (delays > static_cast<size_t>(c.max_reattempts)) {
    return MakeError("more delays (" + std::to_string(delays) +
                         ") than re-attempts (" +
                         std::to_string(c.max_reattempts) + " with " +
                         std::to_string(c.max_attempts()) + " attempts)",
                     "/schedule_ms/" + std::to_string(c.max_reattempts));
  }
  if (delays == 0 && c.max_reattempts > 0) {
    return MakeError("expected at least one delay when attempts > 1",
                     "/schedule_ms");
  }
  for (size_t i = 0; i < delays; ++i) {
    if (c.retry_schedule[i] < Duration::zero()) {
      return MakeError("negative delay", "/schedule_ms/" + std::to_string(i));
    }
  }
  if (!(c.jitter >= 0.0 && c.jitter < 1.0)) {
    return MakeError(
        "expected jitter in [0, 1), got " + std::to_string(c.jitter),
        "/jitter");
  }
  if (c.success_min > c.success_max) {
    return MakeError("expected [first, last] with first <= last", "/success");
  }
  if (c.retry_after_clamp_min > c.retry_after_clamp_max) {
    return MakeError("expected [min, max] with min <= max",
                     "/retry_after/clamp");
  }
  return std::nullopt;
}

template <typename Enum, size_t N>
Enum EnumOf(const std::string& text, const Enum (&values)[N],
            std::string_view (*name)(Enum)) {
  for (Enum v : values) {
    if (name(v) == text) return v;
  }
  return values[0];  // The schema already refused anything else.
}

}  // namespace

Result<Contract> ContractFromJson(const Json& doc) {
  if (Status s = SchemaCheck(doc)) return *s;
  // The schema fixed every type and range; read the values.
  Contract c;
  c.profile = doc.at("name").get<std::string>();
  c.source = doc.value("source", std::string());
  c.max_reattempts = doc.at("attempts").get<int>() - 1;
  c.retry_schedule.clear();
  for (const Json& d : doc.at("schedule_ms")) {
    c.retry_schedule.push_back(Ms(d.get<int64_t>()));
  }
  c.jitter = doc.value("jitter", 0.0);
  c.timeout = Ms(doc.at("timeout_ms").get<int64_t>());
  if (const auto it = doc.find("success"); it != doc.end()) {
    c.success_min = (*it)[0].get<int>();
    c.success_max = (*it)[1].get<int>();
  }
  c.redirects_are_failures = true;  // "failure" is the only value.
  static constexpr GoneHandling kGone[] = {GoneHandling::kRetry,
                                           GoneHandling::kDisableEndpoint};
  c.gone = EnumOf(doc.value("gone_410", std::string("retry")), kGone,
                  &GoneHandlingName);
  if (const auto it = doc.find("retry_after"); it != doc.end()) {
    static constexpr RetryAfterMode kModes[] = {RetryAfterMode::kIgnore,
                                                RetryAfterMode::kHonour,
                                                RetryAfterMode::kClamp};
    c.retry_after =
        EnumOf(it->at("mode").get<std::string>(), kModes, &RetryAfterModeName);
    if (const auto s = it->find("statuses"); s != it->end()) {
      for (const Json& status : *s) {
        c.retry_after_statuses.push_back(status.get<int>());
      }
    }
    if (const auto clamp = it->find("clamp"); clamp != it->end()) {
      c.retry_after_clamp_min = (*clamp)[0].get<double>();
      c.retry_after_clamp_max = (*clamp)[1].get<double>();
    }
    if (const auto max = it->find("max_ms"); max != it->end()) {
      c.retry_after_max = Ms(max->get<int64_t>());
    }
  }
  c.throttle_floor = Ms(doc.value("throttle_floor_ms", int64_t{0}));
  static constexpr SigningScheme kSigning[] = {SigningScheme::kNone,
                                               SigningScheme::kStandardWebhooks,
                                               SigningScheme::kGithubSha256};
  c.signing = EnumOf(doc.value("signing", std::string("none")), kSigning,
                     &SigningSchemeName);
  if (Status s = Consistency(c)) return *s;
  return c;
}

Result<Contract> ParseContractText(std::string_view text,
                                   std::string_view name) {
  auto with_file = [name](Error e) {
    e.file = std::string(name);
    return e;
  };
  if (text.size() > kMaxContractFileBytes) {
    return with_file(MakeError(
        "larger than " + std::to_string(kMaxContractFileBytes) + " bytes"));
  }
  const Json doc = Json::parse(text, nullptr, false);
  if (doc.is_discarded()) return with_file(MakeError("not a JSON document"));
  Result<Contract> contract = ContractFromJson(doc);
  if (!contract.ok()) return with_file(contract.error());
  return contract;
}

Json ContractToJson(const Contract& c) {
  Json out = Json::object();
  out["name"] = c.profile;
  out["source"] = c.source;
  out["attempts"] = c.max_attempts();
  Json schedule = Json::array();
  for (Duration d : c.retry_schedule) schedule.push_back(ToMillis(d));
  out["schedule_ms"] = schedule;
  out["jitter"] = c.jitter;
  out["timeout_ms"] = ToMillis(c.timeout);
  out["success"] = Json::array({c.success_min, c.success_max});
  out["redirects"] = "failure";
  out["gone_410"] = GoneHandlingName(c.gone);
  Json retry_after = Json::object();
  retry_after["mode"] = RetryAfterModeName(c.retry_after);
  retry_after["statuses"] = c.retry_after_statuses;
  retry_after["clamp"] =
      Json::array({c.retry_after_clamp_min, c.retry_after_clamp_max});
  retry_after["max_ms"] = ToMillis(c.retry_after_max);
  out["retry_after"] = retry_after;
  out["throttle_floor_ms"] = ToMillis(c.throttle_floor);
  out["signing"] = SigningSchemeName(c.signing);
  return out;
}

const std::vector<Contract>& BuiltinContracts() {
  static const std::vector<Contract>* const profiles = [] {
    auto* list = new std::vector<Contract>();
    // divshot: the seed (shared/spec/divshot-webhooks.md): 6 attempts, any
    // non-2xx, timeout or error re-attempted, 3xx a failure, 5 s .. 5 h
    // +-20 %, 10 s timeout, no signature required.
    list->push_back(Contract{});

    // standard-webhooks: the Standard Webhooks specification,
    // https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
    // ("Retry schedule": immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
    // 14 h, 20 h, 24 h; "410 Gone" disables the endpoint; Retry-After
    // honoured on 429 and 503; timeouts of 15-30 s; every request signed
    // with webhook-id, webhook-timestamp, webhook-signature v1 HMAC-SHA256).
    // The spec names no jitter: 0. Timeout: the lower end, 15 s.
    Contract sw;
    sw.profile = "standard-webhooks";
    sw.source =
        "https://github.com/standard-webhooks/standard-webhooks/blob/main/"
        "spec/standard-webhooks.md";
    sw.retry_schedule = {seconds(5), minutes(5), minutes(30),
                         hours(2),   hours(5),   hours(10),
                         hours(14),  hours(20),  hours(24)};
    sw.max_reattempts = 9;
    sw.jitter = 0.0;
    sw.timeout = seconds(15);
    sw.gone = GoneHandling::kDisableEndpoint;
    sw.retry_after = RetryAfterMode::kHonour;
    sw.retry_after_statuses = {429, 503};
    sw.signing = SigningScheme::kStandardWebhooks;
    list->push_back(sw);

    // svix: https://docs.svix.com/retries ("Immediately, 5 seconds, 5
    // minutes, 30 minutes, 2 hours, 5 hours, 10 hours, 10 hours": 8
    // attempts; 2xx (200-299) is success, "any other status code, including
    // 3xx redirects are treated as failures"; a 15 s time frame). The +-20 %
    // jitter, the Retry-After clamp to 1x-2x the scheduled delay and the
    // 60 s floor after a timeout or 429 follow issue 16's reading of Svix's
    // open-source server (github.com/svix/svix-webhooks); not in the docs
    // page. Svix signs with svix-* headers (the Standard Webhooks scheme
    // under another prefix), which hooksim does not check: signing "none".
    Contract svix;
    svix.profile = "svix";
    svix.source = "https://docs.svix.com/retries";
    svix.retry_schedule = {seconds(5), minutes(5), minutes(30), hours(2),
                           hours(5),   hours(10),  hours(10)};
    svix.max_reattempts = 7;
    svix.jitter = 0.2;
    svix.timeout = seconds(15);
    svix.retry_after = RetryAfterMode::kClamp;
    svix.retry_after_statuses = {429, 503};
    svix.retry_after_clamp_min = 1.0;
    svix.retry_after_clamp_max = 2.0;
    svix.throttle_floor = seconds(60);
    list->push_back(svix);

    // github:
    // https://docs.github.com/en/webhooks/using-webhooks/handling-failed-webhook-deliveries
    // ("GitHub does not automatically redeliver failed deliveries"; a
    // response slower than 10 s is a failure) and
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
    // (X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>, sent
    // when the hook has a secret).
    Contract gh;
    gh.profile = "github";
    gh.source =
        "https://docs.github.com/en/webhooks/using-webhooks/"
        "handling-failed-webhook-deliveries";
    gh.max_reattempts = 0;
    gh.retry_schedule = {};
    gh.jitter = 0.0;
    gh.timeout = seconds(10);
    gh.signing = SigningScheme::kGithubSha256;
    list->push_back(gh);

    // No hook0 or convoy profile: their published defaults disagree, so no
    // figure can be cited as theirs. hook0: its repository's
    // documentation/explanation/webhook-retry-logic.md gives 3 s, 10 s,
    // 3 min, 30 min, 1 h, 3 h, 5 h, then 10 h each, MAX_RETRIES 25;
    // documentation.hook0.com a two-phase schedule (30 fast retries from 5 s
    // to 5 min, 30 slow); one version of output-worker/src/main.rs
    // min(5 s x retry count, 5 min) then 1 h. convoy:
    // getconvoy.io/docs/glossary/retry-schedule listed 10 s, 30 s, 1 min,
    // 3 min, 5 min, 10 min, 15 min, and now says there is no fixed sequence
    // (interval x 2^n + jitter, per-project interval and count). README
    // "Contracts".
    return list;
  }();
  return *profiles;
}

const Contract* FindBuiltinContract(std::string_view name) {
  for (const Contract& c : BuiltinContracts()) {
    if (c.profile == name) return &c;
  }
  return nullptr;
}

std::string BuiltinContractNames() {
  std::string out;
  for (const Contract& c : BuiltinContracts()) {
    if (!out.empty()) out += ", ";
    out += c.profile;
  }
  return out;
}

Result<Contract> LoadContract(std::string_view name_or_file) {
  if (const Contract* c = FindBuiltinContract(name_or_file)) return *c;
  const bool is_path =
      name_or_file.find('/') != std::string_view::npos ||
      (name_or_file.size() > 5 &&
       name_or_file.substr(name_or_file.size() - 5) == ".json");
  if (!is_path) {
    return MakeError("unknown contract \"" + std::string(name_or_file) +
                     "\" (known: " + BuiltinContractNames() +
                     "; or a contract file path)");
  }
  const std::string path(name_or_file);
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    Error e = MakeError("cannot open the contract file");
    e.file = path;
    return e;
  }
  std::string text;
  char buffer[8192];
  // Bounded: stops once the file is read or exceeds the size limit.
  while (file.read(buffer, sizeof(buffer)) || file.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(file.gcount()));
    if (text.size() > kMaxContractFileBytes) break;
  }
  return ParseContractText(text, path);
}

}  // namespace hooksim
