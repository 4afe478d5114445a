#include "mock-receivers/admin_api.h"

#include <charconv>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "mock-receivers/behavior_parser.h"

namespace hooksim {
namespace {

using nlohmann::json;

constexpr std::string_view kAdminRoot = "/__hooksim";

struct Route {
  std::string_view path;  // After the prefix: "", "requests", ...
  std::string_view allow;
};

constexpr Route kRoutes[] = {
    {"", "GET"},       {"requests", "GET"},      {"stats", "GET"},
    {"reset", "POST"}, {"behavior", "GET, PUT"},
};

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

AdminResponse JsonAnswer(int status, const json& body, std::string allow = {}) {
  return AdminResponse{status, Dump(body), std::move(allow)};
}

AdminResponse ErrorAnswer(int status, const std::string& message,
                          std::string allow = {}) {
  return JsonAnswer(status, json{{"error", message}}, std::move(allow));
}

std::string Hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx",
                static_cast<unsigned long long>(v));
  return buf;
}

json MillisJson(int64_t us) {
  if (us % 1000 == 0) return us / 1000;
  return static_cast<double>(us) / 1000.0;
}

// "/__hooksim/stats/" -> "stats"; nullopt when not an admin path.
std::optional<std::string_view> RouteName(std::string_view path) {
  if (path == kAdminRoot) return std::string_view();
  if (path.substr(0, kAdminPrefix.size()) != kAdminPrefix) return std::nullopt;
  std::string_view rest = path.substr(kAdminPrefix.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  return rest;
}

bool Allowed(std::string_view allow, std::string_view method) {
  // allow is "GET" or "GET, PUT"; HEAD goes with GET.
  if (method == "HEAD") method = "GET";
  size_t start = 0;
  while (start < allow.size()) {
    size_t end = allow.find(", ", start);
    if (end == std::string_view::npos) end = allow.size();
    if (allow.substr(start, end - start) == method) return true;
    start = end + 2;
  }
  return false;
}

std::string RouteList() {
  return "GET /__hooksim/requests[?limit=N&from=INDEX], GET /__hooksim/stats, "
         "POST /__hooksim/reset, GET|PUT /__hooksim/behavior";
}

// Rejects query parameters other than `known` (a typo must not be
// silently ignored).
std::optional<AdminResponse> UnknownQuery(
    const AdminRequest& request,
    std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : request.query) {
    bool ok = false;
    for (std::string_view k : known) ok = ok || key == k;
    if (!ok) {
      return ErrorAnswer(400, "unknown query parameter \"" + key + "\"");
    }
  }
  return std::nullopt;
}

// A non-negative integer query parameter; nullopt (and *error set) when
// it is not one.
std::optional<uint64_t> QueryNumber(const AdminRequest& request,
                                    const std::string& key,
                                    std::optional<AdminResponse>* error) {
  auto it = request.query.find(key);
  if (it == request.query.end()) return std::nullopt;
  const std::string& text = it->second;
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    *error = ErrorAnswer(400, key + ": expected a non-negative integer, got \"" +
                                  text + "\"");
    return std::nullopt;
  }
  return value;
}

// Renders entries [next, end) of the journal as JSON array text, a page of
// kJournalChunk entries per call (each under the receiver's lock, without
// copying entries); entries that left the ring meanwhile are skipped.
class JournalStream {
 public:
  JournalStream(MockReceiver& receiver, uint64_t first, uint64_t end)
      : receiver_(receiver), next_(first), end_(end) {}
  // Appends the next part to `out`; false once the array is closed.
  bool Next(std::string& out) {
    if (done_) return false;
    if (next_ == first_sent_) out += '[';
    const uint64_t to = std::min(end_, next_ + kJournalChunk);
    receiver_.WithJournal([&](const Journal& j) {
      j.ForEach(next_, static_cast<size_t>(to - next_),
                [&](const JournalEntry& e) {
                  if (!first_) out += ',';
                  first_ = false;
                  out += Dump(JournalEntryToJson(e));
                });
    });
    next_ = to;
    if (next_ >= end_) {
      out += ']';
      done_ = true;
    }
    return true;
  }

 private:
  static constexpr uint64_t kJournalChunk = 256;
  MockReceiver& receiver_;
  uint64_t next_;
  const uint64_t first_sent_ = next_;
  const uint64_t end_;
  bool first_ = true;
  bool done_ = false;
};

AdminResponse Requests(MockReceiver& receiver, const AdminRequest& request) {
  if (auto bad = UnknownQuery(request, {"limit", "from"})) return *bad;
  std::optional<AdminResponse> error;
  const std::optional<uint64_t> limit_arg = QueryNumber(request, "limit", &error);
  if (error) return *error;
  const std::optional<uint64_t> from = QueryNumber(request, "from", &error);
  if (error) return *error;
  const uint64_t limit = limit_arg.value_or(kJournalPageDefault);
  if (limit > kJournalPageMax) {
    return ErrorAnswer(400, "limit: at most " + std::to_string(kJournalPageMax) +
                                ", got " + std::to_string(limit) +
                                " (page on with from=INDEX)");
  }
  uint64_t first = 0;
  uint64_t total = 0;
  receiver.WithJournal([&](const Journal& j) {
    first = j.first_index();
    total = j.total_requests();
  });
  uint64_t begin = from ? std::max(first, *from)
                         : std::max(first, total - std::min(total, limit));
  begin = std::min(begin, total);
  const uint64_t end = begin + std::min(limit, total - begin);
  auto stream = std::make_shared<JournalStream>(receiver, begin, end);
  if (end - begin <= kJournalStreamAbove) {
    AdminResponse answer{200, "", ""};
    while (stream->Next(answer.body)) {
    }
    return answer;
  }
  AdminResponse answer{200, "", ""};
  answer.stream = [stream](std::string& out) { return stream->Next(out); };
  return answer;
}

// "route": the route that answered (null: none matched), and "unmatched":
// null, or {"closest": NAME or null, "why": "..."} for a request no route
// matched.
void AddRouteFields(const JournalEntry& e, json& out) {
  out["route"] = e.route.empty() ? json(nullptr) : json(e.route);
  if (e.unmatched_why.empty()) {
    out["unmatched"] = nullptr;
  } else {
    out["unmatched"] = {
        {"closest", e.closest_route.empty() ? json(nullptr)
                                            : json(e.closest_route)},
        {"why", e.unmatched_why}};
  }
}

AdminResponse PutBehavior(MockReceiver& receiver, const AdminRequest& request) {
  json doc;
  try {
    doc = json::parse(request.body);
  } catch (const json::exception& e) {
    // "[json.exception.parse_error.101] parse error at ..." -> "parse error
    // at ...".
    std::string what = e.what();
    if (const size_t close = what.find("] "); close != std::string::npos) {
      what = what.substr(close + 2);
    }
    return ErrorAnswer(400, "/: invalid JSON: " + what);
  }
  Result<BehaviorSpec> spec = ParseBehavior(doc, "");
  if (!spec.ok()) {
    const Status& e = spec.error();
    return ErrorAnswer(
        400, (e.path().empty() ? "/" : e.path()) + ": " + e.message());
  }
  const std::vector<std::string> warnings = RouteWarnings(*spec, "");
  receiver.SetBehavior(*spec);
  return JsonAnswer(200, json{{"ok", true},
                              {"behavior", BehaviorToJson(*spec)},
                              {"warnings", warnings}});
}

}  // namespace

bool IsAdminPath(std::string_view path) { return RouteName(path).has_value(); }

std::string AdminAllow(std::string_view target) {
  const std::optional<std::string_view> name =
      RouteName(target.substr(0, target.find('?')));
  if (!name) return "";
  for (const Route& r : kRoutes) {
    if (r.path == *name) return std::string(r.allow);
  }
  return "";
}

AdminResponse HandleAdminRequest(MockReceiver& receiver,
                                 const AdminRequest& request) {
  const std::optional<std::string_view> name = RouteName(request.path);
  const Route* route = nullptr;
  if (name) {
    for (const Route& r : kRoutes) {
      if (r.path == *name) route = &r;
    }
  }
  if (route == nullptr) {
    return ErrorAnswer(
        404, "no admin route " + request.path + "; routes: " + RouteList());
  }
  if (!Allowed(route->allow, request.method)) {
    return ErrorAnswer(405,
                       "method " + request.method + " not allowed on " +
                           request.path +
                           "; allowed: " + std::string(route->allow),
                       std::string(route->allow));
  }
  const std::string_view n = route->path;
  if (n == "requests") return Requests(receiver, request);
  if (auto bad = UnknownQuery(request, {})) return *bad;
  if (n == "") {
    return JsonAnswer(
        200, json{{"receiver", receiver.name()},
                  {"routes",
                   {"GET /__hooksim/requests?limit=N&from=INDEX", "GET /__hooksim/stats",
                    "POST /__hooksim/reset", "GET /__hooksim/behavior",
                    "PUT /__hooksim/behavior"}}});
  }
  if (n == "stats") {
    json out;
    receiver.WithJournal([&](const Journal& j) {
      out = JournalStatsToJson(
          j, receiver.contract() ? &*receiver.contract() : nullptr);
    });
    out["receiver"] = receiver.name();
    return JsonAnswer(200, out);
  }
  if (n == "reset") {
    receiver.Reset();
    return JsonAnswer(200, json{{"ok", true}});
  }
  // behavior
  if (request.method == "PUT") return PutBehavior(receiver, request);
  return JsonAnswer(200, BehaviorToJson(receiver.behavior_spec()));
}

json JournalEntryToJson(const JournalEntry& e) {
  json reply = {
      {"answer", DescribeAnswer(e.reply.answer)},
      {"latency_ms", MillisJson(e.reply.latency.count())},
  };
  if (e.reply.answer.fault == Fault::kNone ||
      e.reply.answer.fault == Fault::kDribble) {
    reply["status"] = e.reply.answer.status;
  } else {
    reply["status"] = nullptr;
  }
  reply["fault"] = e.reply.answer.fault == Fault::kNone
                       ? json(nullptr)
                       : json(std::string(FaultName(e.reply.answer.fault)));
  // What was sent, and whether a sender can read it (else: as absent).
  reply["retry_after"] =
      e.retry_after.empty() ? json(nullptr) : json(e.retry_after);
  reply["retry_after_readable"] =
      e.retry_after.empty() ? json(nullptr) : json(e.retry_after_readable);
  // The headers the answer carried beyond the server's own (none: {}).
  json answer_headers = json::object();
  if (e.reply.answer.extras && e.reply.answer.fault == Fault::kNone) {
    for (const AnswerHeader& h : e.reply.answer.extras->headers) {
      answer_headers[h.name] = h.value;
    }
  }
  reply["headers"] = std::move(answer_headers);
  json issues = json::array();
  if (!e.schema_valid) issues.push_back(e.schema_issue);
  json out = json{
      {"index", e.index},
      {"time_ms", MillisJson(e.at.time_since_epoch().count())},
      {"method", e.method},
      {"target", e.target},
      {"delivery",
       {{"key", e.delivery_key},
        {"from_id_header", e.has_delivery_id},
        {"attempt", e.delivery_attempt},
        {"sender_attempt",
         e.sender_attempt == 0 ? json(nullptr) : json(e.sender_attempt)}}},
      {"headers", {{"content_type", e.content_type}, {"event", e.event_type}}},
      {"body", {{"size", e.body_size}, {"hash", Hex16(e.body_hash)}}},
      {"reply", std::move(reply)},
      {"schema", {{"valid", e.schema_valid}, {"issues", std::move(issues)}}},
      {"abandoned", e.abandoned},
      {"signature", std::string(SignatureVerdictName(e.signature))},
  };
  AddRouteFields(e, out);
  return out;
}

json JournalRequestsToJson(const Journal& journal, size_t limit) {
  json out = json::array();
  for (const JournalEntry& e : journal.Recent(limit)) {
    out.push_back(JournalEntryToJson(e));
  }
  return out;
}

json JournalStatsToJson(const Journal& journal, const Contract* contract) {
  json answers = json::object();
  for (const auto& [answer, count] : journal.answers()) answers[answer] = count;
  // attempts -> deliveries with that many attempts, in attempt order.
  std::map<int, uint64_t> histogram;
  uint64_t delivered = 0;
  for (const auto& entry : journal.deliveries()) {
    ++histogram[entry.second.attempts];
    if (entry.second.success_attempt() != 0) ++delivered;
  }
  json attempts = json::object();
  for (const auto& [n, count] : histogram) {
    attempts[std::to_string(n)] = count;
  }
  json out{
      {"requests", journal.total_requests()},
      {"answers", std::move(answers)},
      {"deliveries", journal.deliveries().size()},
      {"delivered", delivered},
      {"attempts_per_delivery", std::move(attempts)},
      {"schema_failures", journal.schema_failures()},
      {"abandoned", journal.abandoned()},
      {"signatures_checked", journal.signatures_checked()},
      {"signature_failures", journal.signature_failures()},
      {"journal_dropped", journal.dropped()},
      {"untracked_requests", journal.untracked_requests()},
  };
  if (contract != nullptr) {
    uint64_t over_max = 0;
    uint64_t after_success = 0;
    uint64_t after_gone = 0;
    for (const auto& [key, c] : journal.deliveries()) {
      if (c.attempts > contract->max_attempts()) ++over_max;
      after_success += static_cast<uint64_t>(c.attempts_after_success());
      for (size_t k = 0; k < c.answers.size(); ++k) {
        const Answer& a = c.answers[k];
        if (a.fault == Fault::kNone && contract->StopsOn(a.status)) {
          after_gone += static_cast<uint64_t>(c.attempts) - (k + 1);
          break;
        }
      }
    }
    out["contract"] = json{
        {"profile", contract->profile},
        {"max_attempts", contract->max_attempts()},
        {"over_max", over_max},
        {"after_success", after_success},
        {"after_gone", after_gone},
        {"passed", over_max == 0 && after_success == 0 && after_gone == 0}};
  }
  return out;
}

}  // namespace hooksim
