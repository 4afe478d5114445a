#include "mock-receivers/journal_query.h"

#include <fnmatch.h>

#include <string_view>
#include <utility>

#include "mock-receivers/behavior.h"
#include "sim/contract/http_types.h"

namespace hooksim {
namespace {

using nlohmann::json;

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "429" (3 digits) or "4xx".
bool IsStatusClass(std::string_view p) {
  return p.size() == 3 && p[0] >= '1' && p[0] <= '5' &&
         (p.substr(1) == "xx" || p.substr(1) == "XX");
}

Status Bad(const std::string& pointer, const std::string& what) {
  return Status::InvalidArgument(pointer + ": " + what, pointer);
}

std::string Plural(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// The bounds in words: "exactly 3", "at least 2", "2 to 4".
std::string BoundsWords(const Expectation& e) {
  if (e.at_least && e.at_most) {
    return *e.at_least == *e.at_most
               ? "exactly " + std::to_string(*e.at_least)
               : std::to_string(*e.at_least) + " to " +
                     std::to_string(*e.at_most);
  }
  if (e.at_least) return "at least " + std::to_string(*e.at_least);
  return "at most " + std::to_string(*e.at_most);
}

bool InBounds(const Expectation& e, uint64_t n) {
  return (!e.at_least || n >= *e.at_least) && (!e.at_most || n <= *e.at_most);
}

std::string PatternWords(const JournalFilter& f) {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : " ") + s; };
  add(f.method.value_or("any method"));
  add(f.path.value_or("any path"));
  for (const auto& [name, value] : f.headers) add(name + ": " + value);
  if (f.status) add("answered " + *f.status);
  if (f.route) add("route " + *f.route);
  if (f.delivery) add("delivery " + *f.delivery);
  return out;
}

Result<JournalFilter> ParsePattern(const json& p, const std::string& ptr) {
  JournalFilter f;
  if (!p.is_object()) return Bad(ptr, "expected an object");
  for (const auto& [key, value] : p.items()) {
    const std::string at = ptr + "/" + key;
    if (key == "headers") {
      if (!value.is_object()) return Bad(at, "expected an object");
      for (const auto& [name, v] : value.items()) {
        if (!v.is_string()) return Bad(at + "/" + name, "expected a string");
        f.headers[name] = v.get<std::string>();
      }
      continue;
    }
    if (key == "status" && value.is_number_integer()) {
      f.status = std::to_string(value.get<int>());
      continue;
    }
    if (!value.is_string()) return Bad(at, "expected a string");
    const std::string text = value.get<std::string>();
    if (key == "method") {
      f.method = text;
    } else if (key == "path") {
      f.path = text;
    } else if (key == "status") {
      if (!ValidStatusPattern(text)) {
        return Bad(at, "expected a status (429), a class (4xx) or a fault "
                       "name (reset), got \"" + text + "\"");
      }
      f.status = text;
    } else if (key == "route") {
      f.route = text;
    } else if (key == "delivery") {
      f.delivery = text;
    } else {
      return Bad(at, "unknown field (method, path, headers, status, route, "
                     "delivery)");
    }
  }
  return f;
}

// Reads "count" / "at_least" / "at_most" of `o` into `e`.
Status ParseBounds(const json& o, const std::string& ptr, Expectation& e,
                   bool count_allowed) {
  for (const char* key : {"count", "at_least", "at_most"}) {
    if (!o.contains(key)) continue;
    if (std::string_view(key) == "count" && !count_allowed) {
      return Bad(ptr + "/count", "unknown field");
    }
    const json& v = o.at(key);
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
      return Bad(ptr + "/" + key, "expected a non-negative integer");
    }
    const uint64_t n = v.get<uint64_t>();
    if (std::string_view(key) == "count") {
      e.at_least = n;
      e.at_most = n;
    } else if (std::string_view(key) == "at_least") {
      e.at_least = n;
    } else {
      e.at_most = n;
    }
  }
  if (!e.at_least && !e.at_most) {
    return Bad(ptr, "expected \"count\", \"at_least\" or \"at_most\"");
  }
  return Status::Ok();
}

Result<Expectation> ParseOne(const json& o, const std::string& ptr) {
  if (!o.is_object()) return Bad(ptr, "expected an expectation (an object)");
  Expectation e;
  e.given = o;
  if (o.contains("request")) {
    for (const auto& [key, value] : o.items()) {
      if (key != "request" && key != "count" && key != "at_least" &&
          key != "at_most") {
        return Bad(ptr + "/" + key, "unknown field");
      }
    }
    Result<JournalFilter> f = ParsePattern(o.at("request"), ptr + "/request");
    if (!f.ok()) return f.error();
    e.kind = ExpectationKind::kRequestCount;
    e.pattern = std::move(*f);
    if (Status s = ParseBounds(o, ptr, e, true); !s.ok()) return s;
    return e;
  }
  if (o.contains("attempts_per_delivery")) {
    if (o.size() != 1) return Bad(ptr, "attempts_per_delivery stands alone");
    const json& a = o.at("attempts_per_delivery");
    const std::string at = ptr + "/attempts_per_delivery";
    e.kind = ExpectationKind::kAttemptsPerDelivery;
    if (a.is_number_integer() && a.get<int64_t>() >= 0) {
      e.at_least = a.get<uint64_t>();
      e.at_most = e.at_least;
      return e;
    }
    if (!a.is_object()) {
      return Bad(at, "expected a number or {\"at_least\", \"at_most\"}");
    }
    for (const auto& [key, value] : a.items()) {
      if (key != "at_least" && key != "at_most") {
        return Bad(at + "/" + key, "unknown field");
      }
    }
    if (Status s = ParseBounds(a, at, e, false); !s.ok()) return s;
    return e;
  }
  if (o.contains("no_request_after_2xx")) {
    if (o.size() != 1 || o.at("no_request_after_2xx") != true) {
      return Bad(ptr + "/no_request_after_2xx", "expected true, alone");
    }
    e.kind = ExpectationKind::kNoRequestAfter2xx;
    return e;
  }
  return Bad(ptr, "expected \"request\", \"attempts_per_delivery\" or "
                  "\"no_request_after_2xx\"");
}

}  // namespace

bool ValidStatusPattern(const std::string& p) {
  if (IsDigits(p)) return p.size() == 3;
  if (IsStatusClass(p)) return true;
  return ParseFault(p).has_value() && p != "none";
}

bool StatusMatches(const JournalEntry& e, const std::string& p) {
  const Answer& a = e.reply.answer;
  const bool status_answer =
      e.refusal != Refusal::kNone || a.fault == Fault::kNone ||
      a.fault == Fault::kDribble;
  if (IsDigits(p)) return status_answer && std::to_string(a.status) == p;
  if (IsStatusClass(p)) return status_answer && a.status / 100 == p[0] - '0';
  return e.refusal == Refusal::kNone && a.fault != Fault::kNone &&
         FaultName(a.fault) == p;
}

bool JournalFilter::Matches(const JournalEntry& e) const {
  if (route && e.route != *route) return false;
  if (delivery && e.delivery_key != *delivery) return false;
  if (since && e.at.time_since_epoch() < *since) return false;
  if (status && !StatusMatches(e, *status)) return false;
  if (method && !EqualsIgnoreCase(e.method, *method)) return false;
  if (path) {
    const std::string p = e.target.substr(0, e.target.find('?'));
    if (fnmatch(path->c_str(), p.c_str(), 0) != 0) return false;
  }
  for (const auto& [name, value] : headers) {
    bool found = false;
    for (const JournalHeader& h : e.headers) {
      if (EqualsIgnoreCase(h.name, name) && (value == "*" || h.value == value)) {
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

Result<std::vector<Expectation>> ParseExpectations(const json& doc) {
  std::vector<Expectation> out;
  if (doc.is_object() && doc.contains("expect")) {
    if (doc.size() != 1) return Bad("/", "expected only \"expect\"");
    const json& list = doc.at("expect");
    if (!list.is_array() || list.empty()) {
      return Bad("/expect", "expected a non-empty list of expectations");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      Result<Expectation> e = ParseOne(list[i], "/expect/" + std::to_string(i));
      if (!e.ok()) return e.error();
      out.push_back(std::move(*e));
    }
    return out;
  }
  Result<Expectation> e = ParseOne(doc, "");
  if (!e.ok()) return e.error();
  out.push_back(std::move(*e));
  return out;
}

json VerifyToJson(const Journal& journal,
                  const std::vector<Expectation>& expectations) {
  json results = json::array();
  bool all = true;
  for (const Expectation& e : expectations) {
    bool passed = true;
    std::string reason;
    switch (e.kind) {
      case ExpectationKind::kRequestCount: {
        uint64_t n = 0;
        journal.ForEach(journal.first_index(), journal.kept(),
                        [&](const JournalEntry& entry) {
                          if (e.pattern.Matches(entry)) ++n;
                        });
        passed = InBounds(e, n);
        reason = "expected " + BoundsWords(e) + " requests matching " +
                 PatternWords(e.pattern) + ", saw " + std::to_string(n);
        if (journal.dropped() > 0) {
          reason += " (among the " + Plural(journal.kept(), "entry", "entries") +
                    " kept; " + std::to_string(journal.dropped()) +
                    " older ones were dropped)";
        }
        break;
      }
      case ExpectationKind::kAttemptsPerDelivery: {
        uint64_t bad = 0;
        std::string first;
        for (const auto& [key, c] : journal.deliveries()) {
          if (InBounds(e, static_cast<uint64_t>(c.attempts))) continue;
          if (bad++ == 0) {
            first = "delivery " + std::string(key) + " had " +
                    Plural(static_cast<uint64_t>(c.attempts), "attempt",
                           "attempts");
          }
        }
        passed = bad == 0 && journal.deliveries().size() > 0;
        reason = "expected " + BoundsWords(e) + " attempts per delivery";
        if (journal.deliveries().size() == 0) {
          reason += ", saw no delivery";
        } else if (bad == 0) {
          reason += " for each of the " +
                    Plural(journal.deliveries().size(), "delivery",
                           "deliveries");
        } else {
          reason += ": " + first + " (" + std::to_string(bad) + " of " +
                    std::to_string(journal.deliveries().size()) +
                    " deliveries off)";
        }
        break;
      }
      case ExpectationKind::kNoRequestAfter2xx: {
        uint64_t bad = 0;
        std::string first;
        for (const auto& [key, c] : journal.deliveries()) {
          const int after = c.attempts_after_success();
          if (after == 0) continue;
          if (bad++ == 0) {
            first = "delivery " + std::string(key) + " got " +
                    Plural(static_cast<uint64_t>(after), "request",
                           "requests") +
                    " after the 2xx of attempt " +
                    std::to_string(c.success_attempt());
          }
        }
        passed = bad == 0;
        reason = bad == 0 ? "no delivery was sent again after its 2xx (" +
                                Plural(journal.deliveries().size(), "delivery",
                                       "deliveries") +
                                ")"
                          : first + " (" + std::to_string(bad) +
                                " deliveries in all)";
        break;
      }
    }
    if (journal.untracked_requests() > 0 &&
        e.kind != ExpectationKind::kRequestCount) {
      reason += "; " + std::to_string(journal.untracked_requests()) +
                " requests of untracked deliveries not judged";
    }
    all = all && passed;
    results.push_back(
        json{{"expectation", e.given}, {"passed", passed}, {"reason", reason}});
  }
  return json{{"passed", all},
              {"results", std::move(results)},
              {"journal",
               {{"requests", journal.total_requests()},
                {"kept", journal.kept()},
                {"dropped", journal.dropped()}}}};
}

}  // namespace hooksim
