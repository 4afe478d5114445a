#include "sim/scenario/scenario.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "mock-receivers/behavior_parser.h"
#include "mock-receivers/routes.h"
#include "sim/base/json_reader.h"
#include "sim/contract/contract_file.h"
#include "sim/contract/http_types.h"
#include "sim/contract/webhook_signature.h"

namespace hooksim {
namespace {

constexpr int64_t kMaxMs = 30LL * 24 * 3600 * 1000;

std::string FormatNumber(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<int64_t>(v));
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", v);
  return buf;
}

// Reads `value` as an exact number or {"min": a, "max": b}.
std::optional<Range> ReadRange(const nlohmann::json& value,
                               const std::string& path, double lo, double hi,
                               bool integer, Status& error) {
  auto check = [&](const nlohmann::json& v,
                   const std::string& at) -> std::optional<double> {
    const bool ok_type = integer ? (v.is_number_integer() ||
                                    (v.is_number_float() &&
                                     std::floor(v.get<double>()) ==
                                         v.get<double>()))
                                 : v.is_number();
    const double d = ok_type ? v.get<double>() : 0;
    if (!ok_type || d < lo || d > hi) {
      error = Status::InvalidArgument(
          std::string("expected ") + (integer ? "an integer " : "a number ") +
              FormatNumber(lo) + ".." + FormatNumber(hi) +
              " or {\"min\": ..., \"max\": ...}, got " + DescribeJson(v),
          at);
      return std::nullopt;
    }
    return d;
  };
  if (value.is_object()) {
    ObjectReader r(value, path);
    const nlohmann::json* mn = r.Get("min");
    const nlohmann::json* mx = r.Get("max");
    if (Status s = r.Finish(); !s.ok()) {
      error = s;
      return std::nullopt;
    }
    if (!mn || !mx) {
      error = Status::InvalidArgument("a range needs both \"min\" and \"max\"",
                                      path);
      return std::nullopt;
    }
    auto a = check(*mn, JoinPointer(path, "min"));
    if (!a) return std::nullopt;
    auto b = check(*mx, JoinPointer(path, "max"));
    if (!b) return std::nullopt;
    if (*a > *b) {
      error = Status::InvalidArgument("min " + FormatNumber(*a) +
                                          " is greater than max " +
                                          FormatNumber(*b),
                                      path);
      return std::nullopt;
    }
    return Range{*a, *b};
  }
  auto v = check(value, path);
  if (!v) return std::nullopt;
  return Range{*v, *v};
}

Status ParseEvents(const nlohmann::json& j, EventsSpec& out) {
  ObjectReader r(j, "/events");
  if (auto v = r.GetInt("count", 0, kMaxScenarioEvents)) out.count = *v;
  if (auto v = r.GetInt("apps", 1, 1000)) out.generator.apps = *v;
  if (auto v = r.GetInt("interval_ms", 0, kMaxMs)) {
    out.interval = Millis(*v);
  }
  if (auto v = r.GetInt("start_timestamp", 0, 4'000'000'000LL)) {
    out.generator.start_timestamp = *v;
  }
  if (auto v = r.GetInt("min_gap_s", 0, 365LL * 24 * 3600)) {
    out.generator.min_gap_s = *v;
  }
  if (auto v = r.GetInt("max_gap_s", 0, 365LL * 24 * 3600)) {
    out.generator.max_gap_s = *v;
  }
  if (const nlohmann::json* mix = r.Get("mix")) {
    ObjectReader m(*mix, "/events/mix");
    ReleaseMix parsed{0, 0, 0};
    if (auto v = m.GetNumber("deploy", 0, 1)) parsed.deploy = *v;
    if (auto v = m.GetNumber("promotion", 0, 1)) parsed.promotion = *v;
    if (auto v = m.GetNumber("rollback", 0, 1)) parsed.rollback = *v;
    if (Status s = m.Finish(); !s.ok()) return s;
    const double sum = parsed.deploy + parsed.promotion + parsed.rollback;
    if (std::fabs(sum - 1.0) > 1e-6) {
      return Status::InvalidArgument(
          "probabilities sum to " + FormatNumber(sum) + ", expected 1",
          "/events/mix");
    }
    out.generator.mix = parsed;
  }
  if (const nlohmann::json* payloads = r.Get("payloads")) {
    if (!payloads->is_array()) {
      r.Fail("payloads", "expected an array of payloads, got " +
                             DescribeJson(*payloads));
    } else if (payloads->size() > static_cast<size_t>(kMaxScenarioEvents)) {
      r.Fail("payloads", "at most " + std::to_string(kMaxScenarioEvents) +
                             " payloads");
    } else {
      for (const nlohmann::json& p : *payloads) {
        // A string is sent as raw bytes (to test broken bodies); anything
        // else is sent as its compact JSON text.
        out.payloads.push_back(p.is_string() ? p.get<std::string>()
                                             : p.dump());
      }
    }
  }
  if (Status s = r.Finish(); !s.ok()) return s;
  if (!out.payloads.empty() && j.contains("count")) {
    return Status::InvalidArgument(
        "give either \"count\" (generated events) or "
        "\"payloads\", not both",
        "/events/count");
  }
  if (out.payloads.empty()) {
    if (Status s = ValidateReleaseEventOptions(out.generator); !s.ok()) {
      s.set_path("/events" + s.path());
      return s;
    }
  }
  return Status::Ok();
}

Status ParseRetry(const nlohmann::json& j, RetryPolicy& policy) {
  ObjectReader r(j, "/retry");
  if (auto v = r.GetInt("max_reattempts", 0, 100)) policy.max_reattempts = *v;
  if (const nlohmann::json* sched = r.Get("schedule_ms")) {
    if (!sched->is_array() || sched->empty() || sched->size() > 100) {
      r.Fail("schedule_ms", "expected an array of 1..100 delays in ms, got " +
                                DescribeJson(*sched));
    } else {
      policy.schedule.clear();
      for (size_t i = 0; i < sched->size(); ++i) {
        const nlohmann::json& d = (*sched)[i];
        if (!d.is_number_integer() || d.get<int64_t>() < 0 ||
            d.get<int64_t>() > kMaxMs) {
          return Status::InvalidArgument(
              "expected a delay of 0.." + std::to_string(kMaxMs) + " ms, got " +
                  DescribeJson(d),
              "/retry/schedule_ms/" + std::to_string(i));
        }
        policy.schedule.push_back(Millis(d.get<int64_t>()));
      }
    }
  }
  if (auto v = r.GetNumber("jitter", 0, 1)) policy.jitter = *v;
  if (auto v = r.GetInt("timeout_ms", 1, 3'600'000)) {
    policy.timeout = Millis(*v);
  }
  if (Status s = r.Finish(); !s.ok()) return s;
  if (Status s = policy.Validate(); !s.ok()) {
    Status e = s;
    e.set_path("/retry" + e.path());
    return e;
  }
  return Status::Ok();
}

// A "contract" value at `path`: a built-in name, a contract file path, or
// an inline contract object; errors carry `path` (and the inner pointer).
Result<Contract> ParseContractValue(const nlohmann::json& contract,
                                    const std::string& path) {
  if (!contract.is_string() && !contract.is_object()) {
    return Status::InvalidArgument(
        "expected a profile name, a contract file path or a contract "
        "object, got " + DescribeJson(contract),
        path);
  }
  Result<Contract> c = contract.is_string()
                           ? LoadContract(contract.get<std::string>())
                           : ContractFromJson(contract);
  if (!c.ok()) {
    Status e = c.error();
    e.set_message(
        (e.file().empty() ? "" : e.file() + ": ") +
        (e.path().empty() || !contract.is_string() ? "" : e.path() + ": ") +
        e.message());
    e.set_file("");
    e.set_path(contract.is_string() ? path : path + e.path());
    return e;
  }
  return c;
}

Status ParseReceivers(const nlohmann::json& j, Scenario& out) {
  if (!j.is_object()) {
    return Status::InvalidArgument(
        "expected an object of receivers by name, got " + DescribeJson(j),
        "/receivers");
  }
  if (j.empty())
    return Status::InvalidArgument("at least one receiver", "/receivers");
  if (j.size() > kMaxScenarioReceivers) {
    return Status::InvalidArgument(
        "at most " + std::to_string(kMaxScenarioReceivers) + " receivers",
        "/receivers");
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string path = JoinPointer("/receivers", it.key());
    if (it.key().empty())
      return Status::InvalidArgument("empty receiver name", path);
    ObjectReader r(it.value(), path);
    ReceiverSpec spec;
    spec.name = it.key();
    if (const nlohmann::json* b = r.Get("behavior")) {
      Result<BehaviorSpec> behavior =
          ParseBehavior(*b, JoinPointer(path, "behavior"));
      if (!behavior.ok()) return behavior.error();
      spec.behavior = std::move(behavior).value();
    }
    if (const nlohmann::json* c = r.Get("contract")) {
      Result<Contract> contract =
          ParseContractValue(*c, JoinPointer(path, "contract"));
      if (!contract.ok()) return contract.error();
      spec.contract = std::move(contract).value();
    }
    if (Status s = r.Finish(); !s.ok()) return s;
    out.receivers.push_back(std::move(spec));
  }
  return Status::Ok();
}

Status ParseHooks(const nlohmann::json* j, Scenario& out) {
  std::set<std::string> receiver_names;
  for (const ReceiverSpec& r : out.receivers) receiver_names.insert(r.name);
  if (!j) {  // Default: one hook per receiver, named after it.
    for (const ReceiverSpec& r : out.receivers) {
      out.hooks.push_back(HookSpec{r.name, r.name, "", false, "", r.contract, {}});
    }
    return Status::Ok();
  }
  if (!j->is_array() || j->empty()) {
    return Status::InvalidArgument(
        "expected a non-empty array of hooks, got " + DescribeJson(*j),
        "/hooks");
  }
  if (j->size() > kMaxScenarioHooks) {
    return Status::InvalidArgument(
        "at most " + std::to_string(kMaxScenarioHooks) + " hooks", "/hooks");
  }
  std::set<std::string> ids;
  for (size_t i = 0; i < j->size(); ++i) {
    const std::string path = JoinPointer("/hooks", i);
    ObjectReader r((*j)[i], path);
    HookSpec hook;
    hook.id = r.GetString("id").value_or("");
    hook.receiver = r.GetString("receiver").value_or("");
    hook.url = r.GetString("url").value_or("");
    hook.paused = r.GetBool("paused").value_or(false);
    hook.secret = r.GetString("secret").value_or("");
    if (const nlohmann::json* c = r.Get("contract")) {
      Result<Contract> contract =
          ParseContractValue(*c, JoinPointer(path, "contract"));
      if (!contract.ok()) return contract.error();
      hook.contract = std::move(contract).value();
    }
    if (Status s = r.Finish(); !s.ok()) return s;
    if ((*j)[i].contains("secret")) {
      if (Result<std::string> key = DecodeWebhookSecret(hook.secret);
          !key.ok()) {
        return Status::InvalidArgument(key.error().message(), path + "/secret");
      }
    }
    if (hook.receiver.empty() == hook.url.empty()) {
      return Status::InvalidArgument(
          "give exactly one of \"receiver\" (a receiver's "
          "name) or \"url\"",
          path);
    }
    if (!hook.receiver.empty() && !receiver_names.count(hook.receiver)) {
      return Status::InvalidArgument(
          "no receiver named \"" + hook.receiver + "\" in /receivers",
          path + "/receiver");
    }
    // The same check as `deliver --url` and `hooks add`: plain http only
    // (hooksim speaks no TLS; an https hook would only ever be refused).
    if (!hook.url.empty() && !EqualsIgnoreCase(std::string_view(hook.url).substr(0, 7), "http://")) {
      const size_t colon = hook.url.find("://");
      return Status::InvalidArgument(
          colon != std::string::npos && colon > 0
              ? "unsupported scheme \"" + hook.url.substr(0, colon) +
                    "\": only http:// URLs are supported"
              : "expected an http://host[:port]/path URL, got \"" + hook.url +
                    "\"",
          path + "/url");
    }
    if (hook.id.empty()) hook.id = "hook-" + std::to_string(i + 1);
    if (!ids.insert(hook.id).second) {
      return Status::InvalidArgument("duplicate hook id \"" + hook.id + "\"",
                                     path + "/id");
    }
    out.hooks.push_back(std::move(hook));
  }
  return Status::Ok();
}

Status ParseTimeline(const nlohmann::json& j, Scenario& out) {
  if (!j.is_array()) {
    return Status::InvalidArgument(
        "expected an array of {\"at_ms\": ..., \"pause\" or "
        "\"resume\": hook id}, got " +
            DescribeJson(j),
        "/timeline");
  }
  if (j.size() > kMaxTimelineSteps) {
    return Status::InvalidArgument(
        "at most " + std::to_string(kMaxTimelineSteps) + " steps", "/timeline");
  }
  // Each hook's state as the timeline goes: a step must change it.
  std::vector<bool> paused;
  for (const HookSpec& h : out.hooks) paused.push_back(h.paused);
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string path = JoinPointer("/timeline", i);
    ObjectReader r(j[i], path);
    TimelineStep step;
    const std::optional<int64_t> at = r.GetInt("at_ms", 0, kMaxMs, true);
    const std::optional<std::string> pause = r.GetString("pause");
    const std::optional<std::string> resume = r.GetString("resume");
    if (Status s = r.Finish(); !s.ok()) return s;
    step.at = Millis(*at);
    if (pause.has_value() == resume.has_value()) {
      return Status::InvalidArgument(
          "give exactly one of \"pause\" or \"resume\" (a "
          "hook id)",
          path);
    }
    step.pause = pause.has_value();
    step.hook = pause ? *pause : *resume;
    const std::string key_path = path + (step.pause ? "/pause" : "/resume");
    bool found = false;
    for (size_t h = 0; h < out.hooks.size(); ++h) {
      if (out.hooks[h].id == step.hook) {
        step.hook_index = h;
        found = true;
      }
    }
    if (!found) {
      return Status::InvalidArgument(
          "no hook with id \"" + step.hook + "\" in /hooks", key_path);
    }
    if (!out.timeline.empty() && step.at < out.timeline.back().at) {
      return Status::InvalidArgument(
          "steps must be in time order: " + std::to_string(*at) +
              " ms comes after " +
              std::to_string(ToMillis(out.timeline.back().at)) + " ms",
          path + "/at_ms");
    }
    if (paused[step.hook_index] == step.pause) {
      return Status::InvalidArgument("hook \"" + step.hook + "\" is already " +
                                         (step.pause ? "paused" : "active") +
                                         " at " + std::to_string(*at) + " ms",
                                     key_path);
    }
    paused[step.hook_index] = step.pause;
    out.timeline.push_back(std::move(step));
  }
  return Status::Ok();
}

Status ParseExpect(const nlohmann::json& j, Scenario& out) {
  ObjectReader r(j, "/expect");
  if (auto v = r.GetBool("all_payloads_schema_valid")) {
    out.expect.all_payloads_schema_valid = *v;
  }
  const nlohmann::json* receivers = r.Get("receivers");
  if (Status s = r.Finish(); !s.ok()) return s;
  if (!receivers) return Status::Ok();
  if (!receivers->is_object()) {
    return Status::InvalidArgument(
        "expected an object of expectations by receiver name, "
        "got " +
            DescribeJson(*receivers),
        "/expect/receivers");
  }
  std::set<std::string> names;
  for (const ReceiverSpec& rs : out.receivers) names.insert(rs.name);
  const double max_attempts = out.retry.max_attempts();
  for (auto it = receivers->begin(); it != receivers->end(); ++it) {
    const std::string path = JoinPointer("/expect/receivers", it.key());
    if (!names.count(it.key())) {
      return Status::InvalidArgument(
          "no receiver named \"" + it.key() + "\" in /receivers", path);
    }
    ObjectReader e(it.value(), path);
    ReceiverExpectation exp;
    exp.receiver = it.key();
    Status error;
    if (const nlohmann::json* a = e.Get("attempts")) {
      exp.attempts = ReadRange(*a, JoinPointer(path, "attempts"), 1,
                               max_attempts, true, error);
      if (!error.ok()) return error;
    }
    if (const nlohmann::json* d = e.Get("delivered_ratio")) {
      exp.delivered_ratio =
          ReadRange(*d, JoinPointer(path, "delivered_ratio"), 0, 1, false,
                    error);
      if (!error.ok()) return error;
    }
    if (auto o = e.GetString("outcome")) {
      if (*o == "delivered") {
        exp.outcome = OutcomeExpectation::kDelivered;
      } else if (*o == "gave_up") {
        exp.outcome = OutcomeExpectation::kGaveUp;
      } else if (*o == "any") {
        exp.outcome = OutcomeExpectation::kAny;
      } else {
        return Status::InvalidArgument(
            "expected \"delivered\", \"gave_up\" or \"any\", "
            "got \"" +
                *o + "\"",
            JoinPointer(path, "outcome"));
      }
    }
    if (Status s = e.Finish(); !s.ok()) return s;
    out.expect.receivers.push_back(std::move(exp));
  }
  return Status::Ok();
}

}  // namespace

std::string Range::ToString() const {
  if (min == max) return FormatNumber(min);
  return FormatNumber(min) + ".." + FormatNumber(max);
}

size_t Scenario::EventCount() const {
  return events.payloads.empty() ? static_cast<size_t>(events.count)
                                 : events.payloads.size();
}

size_t Scenario::DeliveryCount() const { return EventCount() * hooks.size(); }

bool Scenario::EverPaused(size_t index) const {
  if (index < hooks.size() && hooks[index].paused) return true;
  for (const TimelineStep& step : timeline) {
    if (step.hook_index == index && step.pause) return true;
  }
  return false;
}

const Contract& Scenario::ContractOf(size_t index) const {
  return hooks[index].contract ? *hooks[index].contract : contract;
}

const RetryPolicy& Scenario::RetryOf(size_t index) const {
  return hooks[index].contract ? hooks[index].retry : retry;
}

bool Scenario::MixedContracts() const {
  for (const HookSpec& h : hooks) {
    if (h.contract) return true;
  }
  return false;
}

std::string SimReceiverUrl(const std::string& receiver_name) {
  return "sim://" + receiver_name + "/hook";
}

Result<Scenario> ParseScenario(const nlohmann::json& doc) {
  Scenario out;
  ObjectReader r(doc, "");
  out.name = r.GetString("name", /*required=*/true).value_or("");
  out.description = r.GetString("description").value_or("");
  if (auto seed = r.GetUint64("seed")) out.seed = *seed;
  const nlohmann::json* events = r.Get("events");
  const nlohmann::json* receivers = r.Get("receivers");
  const nlohmann::json* hooks = r.Get("hooks");
  const nlohmann::json* retry = r.Get("retry");
  const nlohmann::json* expect = r.Get("expect");
  const nlohmann::json* timeline = r.Get("timeline");
  const nlohmann::json* contract = r.Get("contract");
  if (auto v = r.GetInt("start_unix_s", 0, 4'000'000'000LL)) {
    out.start_unix_s = *v;
  }
  if (!receivers && r.ok()) r.Fail("receivers", "required object is missing");
  if (Status s = r.Finish(); !s.ok()) return s;
  if (out.name.empty())
    return Status::InvalidArgument("must not be empty", "/name");
  if (events) {
    if (Status s = ParseEvents(*events, out.events); !s.ok()) return s;
  }
  if (contract) {
    Result<Contract> c = ParseContractValue(*contract, "/contract");
    if (!c.ok()) return c.error();
    out.contract = std::move(c).value();
    out.retry = RetryPolicy::FromContract(out.contract);
  }
  if (retry) {
    out.retry_given = true;
    if (Status s = ParseRetry(*retry, out.retry); !s.ok()) return s;
  }
  if (Status s = ParseReceivers(*receivers, out); !s.ok()) return s;
  if (Status s = ParseHooks(hooks, out); !s.ok()) return s;
  // Each hook's own profile (or its receiver's), and its retry policy.
  for (HookSpec& hook : out.hooks) {
    if (!hook.contract && !hook.receiver.empty()) {
      for (const ReceiverSpec& r : out.receivers) {
        if (r.name == hook.receiver && r.contract) hook.contract = r.contract;
      }
    }
    if (!hook.contract) continue;
    hook.retry = RetryPolicy::FromContract(*hook.contract);
    if (retry) {
      if (Status s = ParseRetry(*retry, hook.retry); !s.ok()) return s;
      hook.retry.max_reattempts = hook.contract->max_reattempts;
      if (Status s = hook.retry.Validate(); !s.ok()) return s;
    }
  }
  if (timeline) {
    if (Status s = ParseTimeline(*timeline, out); !s.ok()) return s;
  }
  if (expect) {
    if (Status s = ParseExpect(*expect, out); !s.ok()) return s;
  }
  if (out.DeliveryCount() > kMaxScenarioDeliveries) {
    return Status::InvalidArgument("events x hooks is " +
                                       std::to_string(out.DeliveryCount()) +
                                       " deliveries, more than the limit of " +
                                       std::to_string(kMaxScenarioDeliveries),
                                   "/events");
  }
  return out;
}

Result<Scenario> ParseScenarioText(std::string_view text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr,
                                             /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    // Parse again with exceptions to get the position of the error.
    try {
      nlohmann::json unused = nlohmann::json::parse(text);
      (void)unused;
    } catch (const nlohmann::json::exception& e) {
      std::string what = e.what();
      const size_t colon = what.find("] ");
      if (colon != std::string::npos) what = what.substr(colon + 2);
      return Status::InvalidArgument("not valid JSON: " + what);
    }
    return Status::InvalidArgument("not valid JSON");
  }
  return ParseScenario(doc);
}

Result<Scenario> LoadScenarioFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  auto with_file = [&](Status e) {
    e.set_file(path);
    return e;
  };
  if (!in) return with_file(Status::IoError("cannot open the file"));
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxScenarioFileBytes) {
      return with_file(Status::InvalidArgument(
          "file is larger than " + std::to_string(kMaxScenarioFileBytes) +
          " bytes"));
    }
  }
  if (in.bad()) return with_file(Status::IoError("cannot read the file"));
  Result<Scenario> scenario = ParseScenarioText(text);
  if (!scenario.ok()) return with_file(scenario.error());
  scenario->file = path;
  return scenario;
}

std::vector<std::string> ScenarioRouteWarnings(const Scenario& scenario) {
  std::vector<std::string> out;
  for (const ReceiverSpec& r : scenario.receivers) {
    for (std::string& w : RouteWarnings(
             r.behavior,
             JoinPointer(JoinPointer("/receivers", r.name), "behavior"))) {
      out.push_back(std::move(w));
    }
  }
  return out;
}

}  // namespace hooksim
