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
    {"", "GET"},           {"requests", "GET"}, {"requests.jsonl", "GET"},
    {"stats", "GET"},      {"reset", "POST"},   {"verify", "POST"},
    {"behavior", "GET, PUT"},
};

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

AdminResponse JsonAnswer(int status, const json& body, std::string allow = {}) {
  return AdminResponse{status, Dump(body), std::move(allow),
                       "application/json", nullptr};
}

AdminResponse ErrorAnswer(int status, const std::string& message,
                          std::string allow = {}) {
  return JsonAnswer(status, json{{"error", message}}, std::move(allow));
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
  return "GET /__hooksim/requests[?route=&status=&delivery=&since=&limit=N&"
         "from=INDEX], GET /__hooksim/requests.jsonl, GET /__hooksim/stats, "
         "POST /__hooksim/verify, POST /__hooksim/reset, GET|PUT "
         "/__hooksim/behavior";
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

// Renders the entries in [next, end) that match `filter`, at most `max`
// of them, as a JSON array or as JSON lines, scanning kJournalChunk entries
// per call (each under the receiver's lock, without copying entries);
// entries that left the ring meanwhile are skipped.
class JournalStream {
 public:
  JournalStream(MockReceiver& receiver, JournalFilter filter, uint64_t first,
                uint64_t end, uint64_t max, bool lines)
      : receiver_(receiver),
        filter_(std::move(filter)),
        next_(first),
        end_(end),
        max_(max),
        lines_(lines) {}
  // Appends the next part to `out`; false once the output is complete.
  bool Next(std::string& out) {
    if (done_) return false;
    if (!opened_ && !lines_) out += '[';
    opened_ = true;
    const uint64_t to = std::min(end_, next_ + kJournalChunk);
    receiver_.WithJournal([&](const Journal& j) {
      j.ForEach(next_, static_cast<size_t>(to - next_),
                [&](const JournalEntry& e) {
                  if (sent_ >= max_ || !filter_.Matches(e)) return;
                  ++sent_;
                  if (lines_) {
                    out += JournalEntryLine(e);
                    out += '\n';
                    return;
                  }
                  if (sent_ > 1) out += ',';
                  out += Dump(JournalEntryToJson(e));
                });
    });
    next_ = to;
    if (next_ >= end_ || sent_ >= max_) {
      if (!lines_) out += ']';
      done_ = true;
    }
    return true;
  }

 private:
  static constexpr uint64_t kJournalChunk = 256;
  MockReceiver& receiver_;
  const JournalFilter filter_;
  uint64_t next_;
  const uint64_t end_;
  const uint64_t max_;
  const bool lines_;
  uint64_t sent_ = 0;
  bool opened_ = false;
  bool done_ = false;
};

// The query's filters; an error answer when one is malformed.
std::optional<AdminResponse> ReadFilter(const AdminRequest& request,
                                        JournalFilter& filter) {
  auto it = request.query.find("route");
  if (it != request.query.end()) filter.route = it->second;
  it = request.query.find("delivery");
  if (it != request.query.end()) filter.delivery = it->second;
  it = request.query.find("status");
  if (it != request.query.end()) {
    if (!ValidStatusPattern(it->second)) {
      return ErrorAnswer(400, "status: expected a status (429), a class "
                              "(4xx) or a fault name (reset), got \"" +
                                  it->second + "\"");
    }
    filter.status = it->second;
  }
  std::optional<AdminResponse> error;
  const std::optional<uint64_t> since = QueryNumber(request, "since", &error);
  if (error) return error;
  if (since) filter.since = Millis(static_cast<int64_t>(*since));
  return std::nullopt;
}

AdminResponse Requests(MockReceiver& receiver, const AdminRequest& request,
                       bool lines) {
  if (auto bad = UnknownQuery(request, {"limit", "from", "route", "status",
                                        "delivery", "since"})) {
    return *bad;
  }
  JournalFilter filter;
  if (auto bad = ReadFilter(request, filter)) return *bad;
  std::optional<AdminResponse> error;
  const std::optional<uint64_t> limit_arg = QueryNumber(request, "limit", &error);
  if (error) return *error;
  const std::optional<uint64_t> from = QueryNumber(request, "from", &error);
  if (error) return *error;
  // requests.jsonl: every (matching) entry unless limited.
  const uint64_t limit =
      limit_arg.value_or(lines ? UINT64_MAX : kJournalPageDefault);
  if (!lines && limit > kJournalPageMax) {
    return ErrorAnswer(400, "limit: at most " + std::to_string(kJournalPageMax) +
                                ", got " + std::to_string(limit) +
                                " (page on with from=INDEX)");
  }
  uint64_t begin = 0;
  uint64_t total = 0;
  receiver.WithJournal([&](const Journal& j) {
    total = j.total_requests();
    if (from) {
      begin = std::max(j.first_index(), *from);
      return;
    }
    if (lines && !limit_arg) {
      begin = j.first_index();
      return;
    }
    // The newest `limit` matching entries: found newest first, bounded by
    // the entries kept.
    begin = total;
    uint64_t found = 0;
    for (uint64_t k = total; k > j.first_index() && found < limit; --k) {
      const JournalEntry* e = j.Find(k - 1);
      if (e != nullptr && filter.Matches(*e)) {
        ++found;
        begin = k - 1;
      }
    }
  });
  begin = std::min(begin, total);
  auto stream = std::make_shared<JournalStream>(receiver, std::move(filter),
                                                begin, total, limit, lines);
  AdminResponse answer{200, "", "", "application/json", nullptr};
  if (lines) answer.content_type = "application/x-ndjson";
  if (!lines && total - begin <= kJournalStreamAbove) {
    while (stream->Next(answer.body)) {
    }
    return answer;
  }
  answer.stream = [stream](std::string& out) { return stream->Next(out); };
  return answer;
}

// Parses the request's body into `doc`; the 400 answer when it is not
// JSON ("[json.exception.parse_error.101] parse error at ..." -> "/:
// invalid JSON: parse error at ...").
std::optional<AdminResponse> ParseBody(const AdminRequest& request,
                                       json& doc) {
  try {
    doc = json::parse(request.body);
  } catch (const json::exception& e) {
    std::string what = e.what();
    if (const size_t close = what.find("] "); close != std::string::npos) {
      what = what.substr(close + 2);
    }
    return ErrorAnswer(400, "/: invalid JSON: " + what);
  }
  return std::nullopt;
}

AdminResponse Verify(MockReceiver& receiver, const AdminRequest& request) {
  json doc;
  if (std::optional<AdminResponse> bad = ParseBody(request, doc)) return *bad;
  Result<std::vector<Expectation>> expectations = ParseExpectations(doc);
  if (!expectations.ok()) {
    const Status& e = expectations.error();
    return ErrorAnswer(400, e.message());
  }
  json out;
  receiver.WithJournal(
      [&](const Journal& j) { out = VerifyToJson(j, *expectations); });
  return JsonAnswer(out["passed"].get<bool>() ? 200 : 417, out);
}

AdminResponse Reset(MockReceiver& receiver, const AdminRequest& request) {
  // Without a body (or with an empty object): clears the journal. With
  // {"behavior": ...}: also replaces the behaviour, at the same moment.
  bool blank = true;
  for (char c : request.body) {
    blank = blank && (c == ' ' || c == '\t' || c == '\r' || c == '\n');
  }
  std::optional<BehaviorSpec> spec;
  if (!blank) {
    json doc;
    if (std::optional<AdminResponse> bad = ParseBody(request, doc)) {
      return *bad;
    }
    if (!doc.is_object()) {
      return ErrorAnswer(400, "/: expected an object ({} or {\"behavior\": "
                              "...}) or no body");
    }
    for (const auto& [key, value] : doc.items()) {
      if (key != "behavior") {
        return ErrorAnswer(400, "/" + key +
                                    ": unknown field (a reset body may "
                                    "carry only \"behavior\")");
      }
    }
    if (doc.contains("behavior")) {
      Result<BehaviorSpec> parsed = ParseBehavior(doc["behavior"], "/behavior");
      if (!parsed.ok()) {
        const Status& e = parsed.error();
        return ErrorAnswer(
            400, (e.path().empty() ? "/behavior" : e.path()) + ": " +
                     e.message());
      }
      spec = std::move(*parsed);
    }
  }
  if (spec) receiver.SetBehavior(*spec);
  receiver.Reset();
  return JsonAnswer(200, json{{"ok", true}, {"behavior_replaced", spec.has_value()}});
}

AdminResponse PutBehavior(MockReceiver& receiver, const AdminRequest& request) {
  json doc;
  if (std::optional<AdminResponse> bad = ParseBody(request, doc)) return *bad;
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
  if (n == "requests") return Requests(receiver, request, /*lines=*/false);
  if (n == "requests.jsonl") return Requests(receiver, request, /*lines=*/true);
  if (auto bad = UnknownQuery(request, {})) return *bad;
  if (n == "") {
    return JsonAnswer(
        200, json{{"receiver", receiver.name()},
                  {"routes",
                   {"GET /__hooksim/requests?route=&status=&delivery=&since="
                    "&limit=N&from=INDEX",
                    "GET /__hooksim/requests.jsonl", "GET /__hooksim/stats",
                    "POST /__hooksim/verify", "POST /__hooksim/reset",
                    "GET /__hooksim/behavior", "PUT /__hooksim/behavior"}}});
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
  if (n == "reset") return Reset(receiver, request);
  if (n == "verify") return Verify(receiver, request);
  // behavior
  if (request.method == "PUT") return PutBehavior(receiver, request);
  return JsonAnswer(200, BehaviorToJson(receiver.behavior_spec()));
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
      {"journal_kept", journal.kept()},
      {"journal_bytes", journal.kept_bytes()},
      {"refused", journal.refused()},
      {"untracked_requests", journal.untracked_requests()},
  };
  if (contract != nullptr) {
    uint64_t over_max = 0;
    uint64_t after_success = 0;
    uint64_t after_gone = 0;
    for (const auto& [key, c] : journal.deliveries()) {
      if (c.attempts > contract->max_attempts()) ++over_max;
      after_success += static_cast<uint64_t>(c.attempts_after_success());
      if (const int gone = c.first_gone_attempt();
          gone > 0 && contract->StopsOn(410)) {
        after_gone += static_cast<uint64_t>(c.attempts - gone);
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
