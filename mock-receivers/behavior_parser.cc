#include "mock-receivers/behavior_parser.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "mock-receivers/routes.h"
#include "sim/base/json_reader.h"
#include "sim/contract/webhook_signature.h"

namespace hooksim {
namespace {

using nlohmann::json;

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

constexpr std::string_view kAnswerExpectation =
    "a status code 100..599 or one of hang, reset, empty, garbage, dribble";

constexpr std::string_view kFaultExpectation =
    "one of hang, reset, empty, garbage, dribble";
constexpr double kWeightTolerance = 1e-6;
constexpr double kMaxSigma = 10.0;
constexpr size_t kMaxShownChars = 64;
constexpr std::string_view kHeaderValueExpectation =
    "a header value: a string of at most 8192 characters without CR, LF or "
    "NUL";

// `path` + "/" + key (escaped as JSON pointer requires) or index.
std::string Child(const std::string& path, std::string_view key) {
  return JoinPointer(path, key);
}

std::string Child(const std::string& path, size_t index) {
  return JoinPointer(path, index);
}

std::string FormatDouble(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.10g", v);
  return buf;
}

// How a found value is shown in messages: scalars as JSON (long strings cut),
// containers by their shape.
std::string Show(const json& j) {
  switch (j.type()) {
    case json::value_t::array:
      if (j.empty()) return "an empty array";
      return "an array of " + std::to_string(j.size()) +
             (j.size() == 1 ? " item" : " items");
    case json::value_t::object:
      if (j.empty()) return "an empty object";
      return "an object";
    case json::value_t::binary:
      return "binary data";
    case json::value_t::discarded:
      return "nothing";
    default:
      break;
  }
  std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxShownChars) {
    text.resize(kMaxShownChars);
    text += "...";
  }
  return text;
}

std::string Quote(std::string_view s) {
  return Show(json(std::string(s)));
}

std::optional<Fault> ParseRealFault(std::string_view name) {
  std::optional<Fault> fault = ParseFault(name);
  if (fault == Fault::kNone) return std::nullopt;  // "none" is no answer.
  return fault;
}

// "200" -> 200 for exactly three digits in 100..599.
std::optional<int> ParseStatusKey(std::string_view key) {
  if (key.size() != 3) return std::nullopt;
  int value = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < 100 || value > 599) return std::nullopt;
  return value;
}

std::optional<int> StatusValue(const json& j) {
  if (j.is_number_unsigned()) {
    const auto v = j.get<uint64_t>();
    if (v >= 100 && v <= 599) return static_cast<int>(v);
  } else if (j.is_number_integer()) {
    const auto v = j.get<int64_t>();
    if (v >= 100 && v <= 599) return static_cast<int>(v);
  }
  return std::nullopt;
}

std::string MillisExpectation() {
  return "a number of milliseconds in [0, " +
         std::to_string(kMaxBehaviorMillis) + "] (30 days)";
}

json MillisToJson(Duration d) {
  const int64_t us = d.count();
  if (us % 1000 == 0) return us / 1000;
  return static_cast<double>(us) / 1000.0;
}

// Writes an answer's headers and body into `out` (nothing without extras).
void ExtrasToJson(const Answer& answer, json& out) {
  if (!answer.extras) return;
  if (!answer.extras->headers.empty()) {
    json headers = json::object();
    for (const AnswerHeader& h : answer.extras->headers) {
      headers[h.name] = h.value;
    }
    out["headers"] = std::move(headers);
  }
  switch (answer.extras->body_kind) {
    case AnswerBodyKind::kDefault:
      break;
    case AnswerBodyKind::kJson:
      out["body"] = json::parse(answer.extras->body, nullptr, false);
      break;
    case AnswerBodyKind::kText:
      out["body"] = answer.extras->body;
      break;
  }
}

// The answer as an object: {"status": N} or {"fault": F}, and its extras.
json AnswerObjectToJson(const Answer& answer) {
  json out = json::object();
  if (answer.fault != Fault::kNone) {
    out["fault"] = std::string(FaultName(answer.fault));
  } else {
    out["status"] = answer.status;
  }
  ExtrasToJson(answer, out);
  return out;
}

json AnswerToJson(const Answer& answer) {
  if (answer.extras) return AnswerObjectToJson(answer);
  if (answer.fault != Fault::kNone) return std::string(FaultName(answer.fault));
  return answer.status;
}

// Headers in name order (byte-wise), as a JSON object lists them, so a
// spec written out and read back is equal to itself.
void SortHeaders(AnswerExtras& extras) {
  std::stable_sort(extras.headers.begin(), extras.headers.end(),
                   [](const AnswerHeader& a, const AnswerHeader& b) {
                     return a.name < b.name;
                   });
}

// `answer` with the behaviour's own headers and body (`defaults`) where it
// has none of the same name (a status answer only).
void ApplyDefaults(const AnswerExtras& defaults, Answer& answer) {
  if (answer.fault != Fault::kNone) return;
  AnswerExtras merged = answer.extras ? *answer.extras : AnswerExtras{};
  for (const AnswerHeader& h : defaults.headers) {
    bool present = false;
    for (const AnswerHeader& own : merged.headers) {
      present |= EqualsIgnoreCase(own.name, h.name);
    }
    if (!present) merged.headers.push_back(h);
  }
  if (merged.body_kind == AnswerBodyKind::kDefault) {
    merged.body_kind = defaults.body_kind;
    merged.body = defaults.body;
  }
  SortHeaders(merged);
  answer.extras = std::make_shared<const AnswerExtras>(std::move(merged));
}

// RFC 9110 token characters.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsHeaderName(std::string_view name) {
  if (name.empty() || name.size() > kMaxAnswerHeaderNameBytes) return false;
  return std::all_of(name.begin(), name.end(), IsTokenChar);
}

// Parses one behaviour; keeps the first error and stops there.
class BehaviorParser {
 public:
  Result<BehaviorSpec> Parse(const json& j, const std::string& path) {
    BehaviorSpec spec;
    if (!ParseInto(j, path, spec, /*allow_routes=*/true)) {
      return std::move(error_);
    }
    return spec;
  }

  Result<ReceiverRoute> ParseOneRoute(const json& j, const std::string& path,
                                      const std::string& default_name) {
    ReceiverRoute route;
    if (!ParseRoute(j, path, default_name, &route)) return std::move(error_);
    return route;
  }

 private:
  bool Fail(std::string path, std::string message) {
    error_ = Status::InvalidArgument(std::move(message), std::move(path));
    return false;
  }

  bool Expected(const std::string& path, std::string_view expected,
                const json& found) {
    return Fail(path, "expected " + std::string(expected) + "; got " +
                          Show(found));
  }

  // Fails on the first key (in the object's order) not in `allowed`.
  bool OnlyKeys(const json& object, const std::string& path,
                std::initializer_list<std::string_view> allowed) {
    for (const auto& [key, value] : object.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) {
        continue;
      }
      std::string list;
      for (std::string_view name : allowed) {
        if (!list.empty()) list += ", ";
        list += name;
      }
      return Fail(Child(path, key),
                  "unknown key " + Quote(key) + "; expected one of " + list);
    }
    return true;
  }

  // Finds which of `names` are present; fails when more than one is.
  bool AtMostOne(const json& object, const std::string& path,
                 std::initializer_list<std::string_view> names,
                 std::string_view what, std::optional<std::string>* found) {
    for (std::string_view name : names) {
      if (!object.contains(name)) continue;
      if (found->has_value()) {
        return Fail(Child(path, name), Quote(**found) + " and " +
                                           Quote(name) +
                                           " are both given; expected " +
                                           std::string(what));
      }
      *found = std::string(name);
    }
    return true;
  }

  bool ParseMillis(const json& j, const std::string& path, Duration* out) {
    if (j.is_number_unsigned()) {
      const auto v = j.get<uint64_t>();
      if (v <= static_cast<uint64_t>(kMaxBehaviorMillis)) {
        *out = Millis(static_cast<int64_t>(v));
        return true;
      }
    } else if (j.is_number_integer()) {
      const auto v = j.get<int64_t>();
      if (v >= 0 && v <= kMaxBehaviorMillis) {
        *out = Millis(v);
        return true;
      }
    } else if (j.is_number_float()) {
      const double v = j.get<double>();
      if (v >= 0 && v <= static_cast<double>(kMaxBehaviorMillis)) {
        *out = Duration(static_cast<Duration::rep>(std::llround(v * 1000.0)));
        return true;
      }
    }
    return Expected(path, MillisExpectation(), j);
  }

  bool ParseRequiredMillis(const json& object, const std::string& path,
                           std::string_view key, Duration* out) {
    const std::string child = Child(path, key);
    auto it = object.find(key);
    if (it == object.end()) {
      return Fail(child, "missing required field " + Quote(key) +
                             "; expected " + MillisExpectation());
    }
    return ParseMillis(*it, child, out);
  }

  // An answer object's own "headers" and "body", when present, attached to
  // `answer` (sorted, shared); `for_fault` refuses them.
  bool ParseAnswerExtras(const json& object, const std::string& path,
                         bool for_fault, Answer* answer) {
    AnswerExtras extras;
    if (!ParseExtras(object, path, for_fault, &extras)) return false;
    if (!extras.headers.empty() ||
        extras.body_kind != AnswerBodyKind::kDefault) {
      SortHeaders(extras);
      answer->extras = std::make_shared<const AnswerExtras>(std::move(extras));
    }
    return true;
  }

  // "headers" and "body" of `object` (an answer or a behaviour), when
  // present, into `extras`; `for_fault` refuses them.
  bool ParseExtras(const json& object, const std::string& path,
                   bool for_fault, AnswerExtras* extras) {
    for (std::string_view key : {"headers", "body"}) {
      if (for_fault && object.contains(key)) {
        return Fail(Child(path, key),
                    Quote(key) +
                        " goes with a status answer; a fault sends no HTTP "
                        "answer");
      }
    }
    if (auto it = object.find("headers"); it != object.end()) {
      const std::string hpath = Child(path, "headers");
      if (!it->is_object()) {
        return Expected(hpath, "an object of header name: value", *it);
      }
      if (it->size() > kMaxAnswerHeaders) {
        return Fail(hpath, "expected at most " +
                               std::to_string(kMaxAnswerHeaders) +
                               " headers; got " + std::to_string(it->size()));
      }
      for (const auto& [name, value] : it->items()) {
        const std::string npath = Child(hpath, name);
        if (!IsHeaderName(name)) {
          return Fail(npath, "expected a header name of 1.." +
                                 std::to_string(kMaxAnswerHeaderNameBytes) +
                                 " letters, digits or !#$%&'*+-.^_`|~; got " +
                                 Quote(name));
        }
        if (EqualsIgnoreCase(name, "Content-Length") ||
            EqualsIgnoreCase(name, "Transfer-Encoding")) {
          return Fail(npath, Quote(name) +
                                 " cannot be set: the receiver frames its "
                                 "answers itself");
        }
        for (const AnswerHeader& h : extras->headers) {
          if (EqualsIgnoreCase(h.name, name)) {
            return Fail(npath, "header " + Quote(name) + " is given twice (as " +
                                   Quote(h.name) +
                                   "; header names ignore case)");
          }
        }
        if (!value.is_string()) {
          return Expected(npath, kHeaderValueExpectation, value);
        }
        const std::string& text = value.get_ref<const std::string&>();
        if (text.size() > kMaxAnswerHeaderValueBytes ||
            text.find_first_of(std::string_view("\r\n\0", 3)) !=
                std::string::npos) {
          return Expected(npath, kHeaderValueExpectation, value);
        }
        extras->headers.push_back(AnswerHeader{name, text});
      }
    }
    if (auto it = object.find("body"); it != object.end()) {
      const std::string bpath = Child(path, "body");
      if (it->is_string()) {
        extras->body_kind = AnswerBodyKind::kText;
        extras->body = it->get<std::string>();
      } else {
        extras->body_kind = AnswerBodyKind::kJson;
        extras->body =
            it->dump(-1, ' ', false, json::error_handler_t::replace);
      }
      if (extras->body.size() > kMaxAnswerBodyBytes) {
        return Fail(bpath, "expected a body of at most " +
                               std::to_string(kMaxAnswerBodyBytes) +
                               " bytes; got " +
                               std::to_string(extras->body.size()));
      }
    }
    return true;
  }

  // {"status": N | "fault": F, "headers": {...}, "body": ...} plus the
  // keys in `more` (read by the caller).
  bool ParseAnswerObject(const json& j, const std::string& path,
                         std::initializer_list<std::string_view> keys,
                         Answer* out) {
    if (!OnlyKeys(j, path, keys)) return false;
    std::optional<std::string> source;
    if (!AtMostOne(j, path, {"status", "fault"}, "exactly one of them",
                   &source)) {
      return false;
    }
    if (!source) {
      return Fail(path, "expected an answer object with \"status\" or "
                        "\"fault\"");
    }
    if (source == "status") {
      if (!ParseStatus(j.at("status"), Child(path, "status"), out)) {
        return false;
      }
    } else if (!ParseFaultField(j.at("fault"), Child(path, "fault"), out)) {
      return false;
    }
    return ParseAnswerExtras(j, path, source == "fault", out);
  }

  // A sequence item or weighted key: a status integer, a fault name or
  // (items only) an answer object.
  bool ParseAnswerValue(const json& j, const std::string& path, Answer* out) {
    if (j.is_object()) {
      return ParseAnswerObject(j, path, {"status", "fault", "headers", "body"},
                               out);
    }
    if (std::optional<int> status = StatusValue(j)) {
      *out = Answer{*status, Fault::kNone};
      return true;
    }
    if (j.is_string()) {
      if (std::optional<Fault> fault =
              ParseRealFault(j.get_ref<const std::string&>())) {
        *out = Answer{200, *fault};
        return true;
      }
    }
    return Expected(path, kAnswerExpectation, j);
  }

  bool ParseStatus(const json& j, const std::string& path, Answer* out) {
    if (std::optional<int> status = StatusValue(j)) {
      *out = Answer{*status, Fault::kNone};
      return true;
    }
    return Expected(path, "a status code 100..599", j);
  }

  bool ParseFaultField(const json& j, const std::string& path, Answer* out) {
    if (j.is_string()) {
      if (std::optional<Fault> fault =
              ParseRealFault(j.get_ref<const std::string&>())) {
        *out = Answer{200, *fault};
        return true;
      }
    }
    return Expected(path, kFaultExpectation, j);
  }

  bool ParseSequence(const json& object, const std::string& path,
                     SequenceAnswer* out) {
    const std::string seq_path = Child(path, "sequence");
    const json& items = object.at("sequence");
    constexpr std::string_view kExpect =
        "a non-empty array of status codes 100..599 or fault names";
    if (!items.is_array() || items.empty()) {
      return Expected(seq_path, kExpect, items);
    }
    if (items.size() > kMaxSequenceAnswers) {
      return Fail(seq_path, "expected at most " +
                                std::to_string(kMaxSequenceAnswers) +
                                " items; got " + std::to_string(items.size()));
    }
    out->answers.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      Answer answer;
      if (!ParseAnswerValue(items[i], Child(seq_path, i), &answer)) {
        return false;
      }
      out->answers.push_back(answer);
    }
    if (auto it = object.find("per"); it != object.end()) {
      const std::string per_path = Child(path, "per");
      if (*it == "delivery") {
        out->per = SequenceScope::kDelivery;
      } else if (*it == "receiver") {
        out->per = SequenceScope::kReceiver;
      } else {
        return Expected(per_path, "\"delivery\" or \"receiver\"", *it);
      }
    }
    if (auto it = object.find("then"); it != object.end()) {
      const std::string then_path = Child(path, "then");
      if (*it == "repeat_last") {
        out->then = SequenceEnd::kRepeatLast;
      } else if (*it == "cycle") {
        out->then = SequenceEnd::kCycle;
      } else {
        return Expected(then_path, "\"repeat_last\" or \"cycle\"", *it);
      }
    }
    return true;
  }

  // [{"weight": 0.3, "status": 429, "headers": {...}}, ...], in order.
  bool ParseWeightedList(const json& j, const std::string& path,
                         WeightedAnswer* out) {
    if (j.empty()) {
      return Expected(path, "at least one weighted answer", j);
    }
    if (j.size() > kMaxSequenceAnswers) {
      return Fail(path, "expected at most " +
                            std::to_string(kMaxSequenceAnswers) +
                            " items; got " + std::to_string(j.size()));
    }
    double sum = 0;
    out->listed = true;
    for (size_t i = 0; i < j.size(); ++i) {
      const std::string item_path = Child(path, i);
      const json& item = j[i];
      if (!item.is_object()) {
        return Expected(item_path,
                        "an answer object with \"weight\" and \"status\" "
                        "or \"fault\"",
                        item);
      }
      Answer answer;
      if (!ParseAnswerObject(item, item_path,
                             {"weight", "status", "fault", "headers", "body"},
                             &answer)) {
        return false;
      }
      const std::string wpath = Child(item_path, "weight");
      auto w = item.find("weight");
      if (w == item.end()) {
        return Fail(wpath, "missing required field \"weight\"; expected a "
                           "probability in [0, 1]");
      }
      double weight = -1;
      if (w->is_number()) weight = w->get<double>();
      if (!w->is_number() || !(weight >= 0.0 && weight <= 1.0)) {
        return Expected(wpath, "a probability in [0, 1]", *w);
      }
      sum += weight;
      out->choices.push_back({std::move(answer), weight});
    }
    if (std::fabs(sum - 1.0) > kWeightTolerance) {
      return Fail(path, "expected weights summing to 1; got " +
                            FormatDouble(sum));
    }
    return true;
  }

  bool ParseWeighted(const json& j, const std::string& path,
                     WeightedAnswer* out) {
    if (j.is_array()) return ParseWeightedList(j, path, out);
    if (!j.is_object()) {
      return Expected(path,
                      "an object of answer: probability, or a list of answer "
                      "objects with \"weight\"",
                      j);
    }
    if (j.empty()) {
      return Expected(path, "at least one answer: probability", j);
    }
    // nlohmann::json objects iterate in key order already; sort anyway so
    // the order does not hang on the JSON library's map.
    std::vector<std::pair<std::string, std::pair<Answer, double>>> keyed;
    keyed.reserve(j.size());
    double sum = 0;
    for (const auto& [key, value] : j.items()) {
      const std::string item_path = Child(path, key);
      Answer answer;
      if (std::optional<int> status = ParseStatusKey(key)) {
        answer = Answer{*status, Fault::kNone};
      } else if (std::optional<Fault> fault = ParseRealFault(key)) {
        answer = Answer{200, *fault};
      } else {
        return Fail(item_path, "expected a key that is " +
                                   std::string(kAnswerExpectation) +
                                   "; got " + Quote(key));
      }
      double weight = -1;
      if (value.is_number()) weight = value.get<double>();
      if (!value.is_number() || !(weight >= 0.0 && weight <= 1.0)) {
        return Expected(item_path, "a probability in [0, 1]", value);
      }
      sum += weight;
      keyed.push_back({key, {answer, weight}});
    }
    if (std::fabs(sum - 1.0) > kWeightTolerance) {
      return Fail(path,
                  "expected probabilities summing to 1; got " +
                      FormatDouble(sum));
    }
    std::sort(keyed.begin(), keyed.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    out->choices.reserve(keyed.size());
    for (auto& [key, choice] : keyed) out->choices.push_back(choice);
    return true;
  }

  bool ParseLatency(const json& j, const std::string& path, LatencySpec* out) {
    constexpr std::string_view kWhat =
        "exactly one of fixed_ms, uniform_ms, lognormal";
    if (!j.is_object()) {
      return Expected(path, "an object with " + std::string(kWhat), j);
    }
    if (!OnlyKeys(j, path, {"fixed_ms", "uniform_ms", "lognormal"})) {
      return false;
    }
    std::optional<std::string> kind;
    if (!AtMostOne(j, path, {"fixed_ms", "uniform_ms", "lognormal"}, kWhat,
                   &kind)) {
      return false;
    }
    if (!kind) return Expected(path, kWhat, j);
    const std::string kind_path = Child(path, *kind);
    const json& value = j.at(*kind);
    if (*kind == "fixed_ms") {
      LatencyFixed fixed;
      if (!ParseMillis(value, kind_path, &fixed.value)) return false;
      *out = fixed;
      return true;
    }
    if (*kind == "uniform_ms") {
      if (!value.is_array() || value.size() != 2) {
        return Expected(kind_path, "[lo_ms, hi_ms]", value);
      }
      LatencyUniform uniform;
      if (!ParseMillis(value[0], Child(kind_path, 0), &uniform.lo) ||
          !ParseMillis(value[1], Child(kind_path, 1), &uniform.hi)) {
        return false;
      }
      if (uniform.hi < uniform.lo) {
        return Fail(Child(kind_path, 1),
                    "expected hi_ms >= lo_ms (" + Show(value[0]) + "); got " +
                        Show(value[1]));
      }
      *out = uniform;
      return true;
    }
    // lognormal
    if (!value.is_object()) {
      return Expected(kind_path, "an object with median_ms, sigma, cap_ms",
                      value);
    }
    if (!OnlyKeys(value, kind_path, {"median_ms", "sigma", "cap_ms"})) {
      return false;
    }
    LatencyLogNormal lognormal;
    if (!ParseRequiredMillis(value, kind_path, "median_ms",
                             &lognormal.median)) {
      return false;
    }
    if (auto it = value.find("sigma"); it != value.end()) {
      const std::string sigma_path = Child(kind_path, "sigma");
      double sigma = -1;
      if (it->is_number()) sigma = it->get<double>();
      if (!it->is_number() || !(sigma >= 0.0 && sigma <= kMaxSigma)) {
        return Expected(sigma_path, "a number in [0, 10]", *it);
      }
      lognormal.sigma = sigma;
    }
    if (!ParseRequiredMillis(value, kind_path, "cap_ms", &lognormal.cap)) {
      return false;
    }
    if (lognormal.cap < lognormal.median) {
      return Fail(Child(kind_path, "cap_ms"),
                  "expected cap_ms >= median_ms (" +
                      Show(value.at("median_ms")) + "); got " +
                      Show(value.at("cap_ms")));
    }
    *out = lognormal;
    return true;
  }

  bool ParseOutage(const json& j, const std::string& path, OutageWindow* out) {
    if (!j.is_object()) {
      return Expected(path, "an object with from_ms, to_ms and status or fault",
                      j);
    }
    if (!OnlyKeys(j, path,
                  {"from_ms", "to_ms", "status", "fault", "headers", "body"})) {
      return false;
    }
    Duration from{0};
    Duration to{0};
    if (!ParseRequiredMillis(j, path, "from_ms", &from) ||
        !ParseRequiredMillis(j, path, "to_ms", &to)) {
      return false;
    }
    if (to <= from) {
      return Fail(Child(path, "to_ms"), "expected to_ms > from_ms (" +
                                            Show(j.at("from_ms")) + "); got " +
                                            Show(j.at("to_ms")));
    }
    std::optional<std::string> source;
    if (!AtMostOne(j, path, {"status", "fault"}, "at most one of them",
                   &source)) {
      return false;
    }
    Answer answer{503, Fault::kNone};
    if (source == "status" &&
        !ParseStatus(j.at("status"), Child(path, "status"), &answer)) {
      return false;
    }
    if (source == "fault" &&
        !ParseFaultField(j.at("fault"), Child(path, "fault"), &answer)) {
      return false;
    }
    if (!ParseAnswerExtras(j, path, source == "fault", &answer)) return false;
    *out = OutageWindow{TimePoint(from), TimePoint(to), answer};
    return true;
  }

  bool ParseOutages(const json& j, const std::string& path,
                    std::vector<OutageWindow>* out) {
    if (!j.is_array()) return Expected(path, "an array of outage windows", j);
    if (j.size() > kMaxOutageWindows) {
      return Fail(path, "expected at most " +
                            std::to_string(kMaxOutageWindows) +
                            " outage windows; got " + std::to_string(j.size()));
    }
    out->reserve(j.size());
    for (size_t i = 0; i < j.size(); ++i) {
      OutageWindow window;
      if (!ParseOutage(j[i], Child(path, i), &window)) return false;
      out->push_back(window);
    }
    return true;
  }

  // "whsec_..." (Standard Webhooks) or {"scheme": S, "secret": "..."}.
  bool ParseVerify(const json& j, const std::string& path, BehaviorSpec& spec) {
    SignatureScheme scheme = SignatureScheme::kStandardWebhooks;
    const json* secret = &j;
    std::string secret_path = path;
    if (j.is_object()) {
      if (!OnlyKeys(j, path, {"scheme", "secret"})) return false;
      if (auto it = j.find("scheme"); it != j.end()) {
        std::optional<SignatureScheme> parsed;
        if (it->is_string()) {
          parsed = ParseSignatureScheme(it->get_ref<const std::string&>());
        }
        if (!parsed) {
          return Expected(Child(path, "scheme"),
                          "one of standard-webhooks, stripe, github, shopify",
                          *it);
        }
        scheme = *parsed;
      }
      secret_path = Child(path, "secret");
      auto it = j.find("secret");
      if (it == j.end()) {
        return Fail(secret_path, "missing required field \"secret\"");
      }
      secret = &*it;
    }
    if (scheme == SignatureScheme::kStandardWebhooks) {
      if (!secret->is_string()) {
        return Expected(secret_path, "a secret \"whsec_<base64>\"", *secret);
      }
      Result<std::string> key =
          DecodeWebhookSecret(secret->get_ref<const std::string&>());
      if (!key.ok()) return Fail(secret_path, key.error().message());
      spec.verify_key = std::move(key).value();
    } else {
      if (!secret->is_string() || secret->get<std::string>().empty() ||
          secret->get<std::string>().size() > kMaxWebhookSecretBytes) {
        return Expected(secret_path,
                        "a secret: a string of 1.." +
                            std::to_string(kMaxWebhookSecretBytes) +
                            " bytes (the HMAC key as is)",
                        *secret);
      }
      spec.verify_key = secret->get<std::string>();
    }
    spec.verify_secret = secret->get<std::string>();
    spec.verify_scheme = scheme;
    return true;
  }

  // A route's "name": 1..kMaxRouteNameBytes printable bytes.
  bool ParseRouteName(const json& j, const std::string& path,
                      std::string* out) {
    bool ok = j.is_string() && !j.get_ref<const std::string&>().empty() &&
              j.get_ref<const std::string&>().size() <= kMaxRouteNameBytes;
    if (ok) {
      for (unsigned char c : j.get_ref<const std::string&>()) {
        ok = ok && c >= 0x20 && c != 0x7f;
      }
    }
    if (!ok) {
      return Expected(path,
                      "a route name: 1.." +
                          std::to_string(kMaxRouteNameBytes) +
                          " characters without control characters",
                      j);
    }
    *out = j.get<std::string>();
    return true;
  }

  // "headers" of a route's "match": {name: glob}.
  bool ParseHeaderMatches(const json& j, const std::string& path,
                          std::vector<HeaderMatch>* out) {
    if (!j.is_object() || j.empty()) {
      return Expected(path, "an object of header name: value or glob", j);
    }
    if (j.size() > kMaxRouteMatches) {
      return Fail(path, "expected at most " +
                            std::to_string(kMaxRouteMatches) +
                            " headers; got " + std::to_string(j.size()));
    }
    for (const auto& [name, value] : j.items()) {
      const std::string npath = Child(path, name);
      if (!IsHeaderName(name)) {
        return Fail(npath, "expected a header name (letters, digits or "
                           "!#$%&'*+-.^_`|~); got " +
                               Quote(name));
      }
      for (const HeaderMatch& h : *out) {
        if (EqualsIgnoreCase(h.name, name)) {
          return Fail(npath, "header " + Quote(name) + " is given twice (as " +
                                 Quote(h.name) +
                                 "; header names ignore case)");
        }
      }
      if (!value.is_string()) {
        return Expected(npath, "a header value or glob (a string)", value);
      }
      const std::string& pattern = value.get_ref<const std::string&>();
      if (std::string problem = GlobProblem(pattern); !problem.empty()) {
        return Fail(npath, "bad glob " + Quote(pattern) + ": " + problem);
      }
      out->push_back(HeaderMatch{name, pattern});
    }
    return true;
  }

  // "body" of a route's "match": {"/json/pointer": value}.
  bool ParseBodyMatches(const json& j, const std::string& path,
                        std::vector<BodyMatch>* out) {
    if (!j.is_object() || j.empty()) {
      return Expected(path, "an object of \"/json/pointer\": value", j);
    }
    if (j.size() > kMaxRouteMatches) {
      return Fail(path, "expected at most " +
                            std::to_string(kMaxRouteMatches) +
                            " body matches; got " + std::to_string(j.size()));
    }
    for (const auto& [pointer, value] : j.items()) {
      const std::string vpath = Child(path, pointer);
      if (std::string problem = JsonPointerProblem(pointer);
          !problem.empty()) {
        return Fail(vpath, "bad JSON pointer " + Quote(pointer) + ": " +
                               problem);
      }
      if (value.is_string()) {
        const std::string& pattern = value.get_ref<const std::string&>();
        if (std::string problem = GlobProblem(pattern); !problem.empty()) {
          return Fail(vpath, "bad glob " + Quote(pattern) + ": " + problem);
        }
      } else if (value.dump(-1, ' ', false, json::error_handler_t::replace)
                     .size() > kMaxRoutePatternBytes) {
        return Fail(vpath, "expected a value of at most " +
                               std::to_string(kMaxRoutePatternBytes) +
                               " bytes (as JSON)");
      }
      out->push_back(BodyMatch{pointer, value});
    }
    return true;
  }

  bool ParseRoute(const json& j, const std::string& path,
                  const std::string& default_name, ReceiverRoute* out) {
    if (!j.is_object()) {
      return Expected(path,
                      "a route object {name, method, path, match, behavior}",
                      j);
    }
    if (!OnlyKeys(j, path, {"name", "method", "path", "match", "behavior"})) {
      return false;
    }
    out->name = default_name;
    if (auto it = j.find("name"); it != j.end()) {
      if (!ParseRouteName(*it, Child(path, "name"), &out->name)) return false;
    }
    if (auto it = j.find("method"); it != j.end()) {
      bool ok = it->is_string() && !it->get_ref<const std::string&>().empty() &&
                it->get_ref<const std::string&>().size() <= 32;
      if (ok) {
        for (char c : it->get_ref<const std::string&>()) {
          ok = ok && IsTokenChar(c) && !(c >= 'a' && c <= 'z');
        }
      }
      if (!ok) {
        return Expected(Child(path, "method"),
                        "an HTTP method in capitals, such as POST or PUT "
                        "(leave \"method\" out for any)",
                        *it);
      }
      out->match.method = it->get<std::string>();
    }
    if (auto it = j.find("path"); it != j.end()) {
      const std::string ppath = Child(path, "path");
      if (!it->is_string()) {
        return Expected(ppath, "a path or glob such as \"/orders/*\"", *it);
      }
      const std::string& pattern = it->get_ref<const std::string&>();
      if (std::string problem = PathGlobProblem(pattern); !problem.empty()) {
        return Fail(ppath, "bad path glob " + Quote(pattern) + ": " + problem);
      }
      out->match.path = pattern;
    }
    if (auto it = j.find("match"); it != j.end()) {
      const std::string mpath = Child(path, "match");
      if (!it->is_object()) {
        return Expected(mpath, "an object with \"headers\" and/or \"body\"",
                        *it);
      }
      if (!OnlyKeys(*it, mpath, {"headers", "body"})) return false;
      if (auto h = it->find("headers"); h != it->end()) {
        if (!ParseHeaderMatches(*h, Child(mpath, "headers"),
                                &out->match.headers)) {
          return false;
        }
      }
      if (auto b = it->find("body"); b != it->end()) {
        if (!ParseBodyMatches(*b, Child(mpath, "body"), &out->match.body)) {
          return false;
        }
      }
    }
    auto it = j.find("behavior");
    if (it == j.end()) {
      return Fail(Child(path, "behavior"),
                  "missing required field \"behavior\": how the route "
                  "answers, e.g. {\"status\": 200}");
    }
    return ParseInto(*it, Child(path, "behavior"), out->behavior,
                     /*allow_routes=*/false);
  }

  // {"routes": [...], "default": {...}}.
  bool ParseRoutes(const json& j, const std::string& path, BehaviorSpec& spec) {
    if (!OnlyKeys(j, path, {"routes", "default"})) {
      for (const auto& [key, value] : j.items()) {
        if (key == "routes" || key == "default") continue;
        return Fail(Child(path, key),
                    "with \"routes\", a behaviour has only \"routes\" and "
                    "\"default\": " +
                        Quote(key) +
                        " goes in a route's \"behavior\" (or in "
                        "\"default\")");
      }
      return false;
    }
    const std::string rpath = Child(path, "routes");
    const json& items = j.at("routes");
    if (!items.is_array() || items.empty()) {
      return Expected(rpath, "a non-empty array of routes", items);
    }
    if (items.size() > kMaxRoutes) {
      return Fail(rpath, "expected at most " + std::to_string(kMaxRoutes) +
                             " routes; got " + std::to_string(items.size()));
    }
    spec.routes.reserve(items.size() + 1);
    for (size_t i = 0; i < items.size(); ++i) {
      ReceiverRoute route;
      const std::string ipath = Child(rpath, i);
      if (!ParseRoute(items[i], ipath, "route " + std::to_string(i + 1),
                      &route)) {
        return false;
      }
      for (size_t k = 0; k < spec.routes.size(); ++k) {
        if (spec.routes[k].name == route.name) {
          return Fail(items[i].contains("name") ? Child(ipath, "name") : ipath,
                      "route name " + Quote(route.name) +
                          " is already the name of " + Child(rpath, k) +
                          "; names must be unique");
        }
      }
      spec.routes.push_back(std::move(route));
    }
    if (auto it = j.find("default"); it != j.end()) {
      ReceiverRoute route;
      route.name = "default";
      route.is_default = true;
      for (size_t k = 0; k < spec.routes.size(); ++k) {
        if (spec.routes[k].name == route.name) {
          return Fail(Child(Child(rpath, k), "name"),
                      "route name \"default\" is the name of the "
                      "\"default\" route; rename this one");
        }
      }
      if (!ParseInto(*it, Child(path, "default"), route.behavior,
                     /*allow_routes=*/false)) {
        return false;
      }
      spec.routes.push_back(std::move(route));
    }
    return true;
  }

  bool ParseInto(const json& j, const std::string& path, BehaviorSpec& spec,
                 bool allow_routes) {
    if (!j.is_object()) return Expected(path, "a behaviour object", j);
    if (j.contains("routes")) {
      if (!allow_routes) {
        return Fail(Child(path, "routes"),
                    "routes do not nest: a route's behaviour answers by "
                    "itself");
      }
      return ParseRoutes(j, path, spec);
    }
    if (j.contains("default")) {
      return Fail(Child(path, "default"),
                  "\"default\" goes with \"routes\" (the route taken when "
                  "no other matches); a plain behaviour answers every "
                  "request already");
    }
    if (!OnlyKeys(j, path,
                  {"status", "fault", "sequence", "per", "then", "weighted",
                   "latency", "outages", "verify_signature", "headers",
                   "body"})) {
      return false;
    }
    std::optional<std::string> source;
    if (!AtMostOne(j, path, {"status", "fault", "sequence", "weighted"},
                   "exactly one answer source (status, fault, sequence or "
                   "weighted)",
                   &source)) {
      return false;
    }
    if (source != "sequence") {
      for (std::string_view key : {"per", "then"}) {
        if (j.contains(key)) {
          return Fail(Child(path, key), Quote(key) +
                                            " applies only to \"sequence\"; "
                                            "expected a \"sequence\" beside it");
        }
      }
    }
    if (source == "status") {
      Answer answer;
      if (!ParseStatus(j.at("status"), Child(path, "status"), &answer)) {
        return false;
      }
      spec.answers = FixedAnswer{answer};
    } else if (source == "fault") {
      Answer answer;
      if (!ParseFaultField(j.at("fault"), Child(path, "fault"), &answer)) {
        return false;
      }
      spec.answers = FixedAnswer{answer};
    } else if (source == "sequence") {
      SequenceAnswer sequence;
      if (!ParseSequence(j, path, &sequence)) return false;
      spec.answers = std::move(sequence);
    } else if (source == "weighted") {
      WeightedAnswer weighted;
      if (!ParseWeighted(j.at("weighted"), Child(path, "weighted"),
                         &weighted)) {
        return false;
      }
      spec.answers = std::move(weighted);
    } else {
      spec.answers = FixedAnswer{Answer{200, Fault::kNone}};
    }
    // The behaviour's own "headers" and "body": every status answer of the
    // answer source gets them, unless it gives its own.
    AnswerExtras defaults;
    if (!ParseExtras(j, path, source == "fault", &defaults)) return false;
    if (!defaults.headers.empty() ||
        defaults.body_kind != AnswerBodyKind::kDefault) {
      std::visit(Overloaded{
                     [&](FixedAnswer& a) { ApplyDefaults(defaults, a.answer); },
                     [&](SequenceAnswer& a) {
                       for (Answer& answer : a.answers) {
                         ApplyDefaults(defaults, answer);
                       }
                     },
                     [&](WeightedAnswer& a) {
                       for (auto& choice : a.choices) {
                         ApplyDefaults(defaults, choice.first);
                       }
                       // Answers with headers are written as a list.
                       a.listed = true;
                     },
                 },
                 spec.answers);
    }
    if (auto it = j.find("latency"); it != j.end()) {
      if (!ParseLatency(*it, Child(path, "latency"), &spec.latency)) {
        return false;
      }
    }
    if (auto it = j.find("outages"); it != j.end()) {
      if (!ParseOutages(*it, Child(path, "outages"), &spec.outages)) {
        return false;
      }
    }
    if (auto it = j.find("verify_signature"); it != j.end()) {
      if (!ParseVerify(*it, Child(path, "verify_signature"), spec)) {
        return false;
      }
    }
    return true;
  }

  Status error_;
};

}  // namespace

Result<BehaviorSpec> ParseBehavior(const nlohmann::json& j,
                                   const std::string& path) {
  try {
    return BehaviorParser().Parse(j, path);
  } catch (const std::exception& e) {
    // Not expected (every access is checked first); never let it escape.
    return Status::InvalidArgument(
        std::string("cannot read behaviour: ") + e.what(), path);
  } catch (...) {
    return Status::InvalidArgument("cannot read behaviour", path);
  }
}

Result<ReceiverRoute> ParseRoute(const nlohmann::json& j,
                                 const std::string& path,
                                 const std::string& default_name) {
  try {
    return BehaviorParser().ParseOneRoute(j, path, default_name);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(
        std::string("cannot read route: ") + e.what(), path);
  } catch (...) {
    return Status::InvalidArgument("cannot read route", path);
  }
}

nlohmann::json RouteToJson(const ReceiverRoute& route) {
  json out = json::object();
  out["name"] = route.name;
  if (!route.match.method.empty()) out["method"] = route.match.method;
  if (!route.match.path.empty()) out["path"] = route.match.path;
  json match = json::object();
  if (!route.match.headers.empty()) {
    json headers = json::object();
    for (const HeaderMatch& h : route.match.headers) {
      headers[h.name] = h.pattern;
    }
    match["headers"] = std::move(headers);
  }
  if (!route.match.body.empty()) {
    json body = json::object();
    for (const BodyMatch& b : route.match.body) body[b.pointer] = b.value;
    match["body"] = std::move(body);
  }
  if (!match.empty()) out["match"] = std::move(match);
  out["behavior"] = BehaviorToJson(route.behavior);
  return out;
}

nlohmann::json BehaviorToJson(const BehaviorSpec& spec) {
  json out = json::object();
  if (!spec.routes.empty()) {
    json routes = json::array();
    for (const ReceiverRoute& route : spec.routes) {
      if (route.is_default) {
        out["default"] = BehaviorToJson(route.behavior);
      } else {
        routes.push_back(RouteToJson(route));
      }
    }
    out["routes"] = std::move(routes);
    return out;
  }
  if (const auto* fixed = std::get_if<FixedAnswer>(&spec.answers)) {
    out = AnswerObjectToJson(fixed->answer);
  } else if (const auto* seq = std::get_if<SequenceAnswer>(&spec.answers)) {
    json items = json::array();
    for (const Answer& answer : seq->answers) {
      items.push_back(AnswerToJson(answer));
    }
    out["sequence"] = std::move(items);
    out["per"] = seq->per == SequenceScope::kDelivery ? "delivery" : "receiver";
    out["then"] = seq->then == SequenceEnd::kCycle ? "cycle" : "repeat_last";
  } else if (const auto* weighted =
                 std::get_if<WeightedAnswer>(&spec.answers)) {
    if (weighted->listed) {
      json choices = json::array();
      for (const auto& [answer, weight] : weighted->choices) {
        json item = AnswerObjectToJson(answer);
        item["weight"] = weight;
        choices.push_back(std::move(item));
      }
      out["weighted"] = std::move(choices);
    } else {
      json choices = json::object();
      for (const auto& [answer, weight] : weighted->choices) {
        choices[DescribeAnswer(answer)] = weight;
      }
      out["weighted"] = std::move(choices);
    }
  }

  if (const auto* fixed = std::get_if<LatencyFixed>(&spec.latency)) {
    if (fixed->value != Duration(0)) {
      out["latency"] = {{"fixed_ms", MillisToJson(fixed->value)}};
    }
  } else if (const auto* uniform = std::get_if<LatencyUniform>(&spec.latency)) {
    out["latency"] = {{"uniform_ms", json::array({MillisToJson(uniform->lo),
                                                  MillisToJson(uniform->hi)})}};
  } else if (const auto* lognormal =
                 std::get_if<LatencyLogNormal>(&spec.latency)) {
    out["latency"] = {{"lognormal",
                       {{"median_ms", MillisToJson(lognormal->median)},
                        {"sigma", lognormal->sigma},
                        {"cap_ms", MillisToJson(lognormal->cap)}}}};
  }

  if (!spec.outages.empty()) {
    json outages = json::array();
    for (const OutageWindow& window : spec.outages) {
      json item = {{"from_ms", MillisToJson(window.from.time_since_epoch())},
                   {"to_ms", MillisToJson(window.to.time_since_epoch())}};
      if (window.answer.fault != Fault::kNone) {
        item["fault"] = std::string(FaultName(window.answer.fault));
      } else {
        item["status"] = window.answer.status;
      }
      ExtrasToJson(window.answer, item);
      outages.push_back(std::move(item));
    }
    out["outages"] = std::move(outages);
  }
  if (!spec.verify_secret.empty()) {
    if (spec.verify_scheme == SignatureScheme::kStandardWebhooks) {
      out["verify_signature"] = spec.verify_secret;
    } else {
      out["verify_signature"] = {
          {"scheme", std::string(SignatureSchemeName(spec.verify_scheme))},
          {"secret", spec.verify_secret}};
    }
  }
  return out;
}

}  // namespace hooksim
