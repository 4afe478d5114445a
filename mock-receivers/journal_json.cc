#include "mock-receivers/journal_json.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "mock-receivers/behavior.h"
#include "mock-receivers/signature_check.h"
#include "sim/contract/webhook_signature.h"

namespace hooksim {
namespace {

using nlohmann::json;

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

// True when `text` is valid UTF-8 (no overlongs, no surrogates).
bool ValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= text.size()) return false;  // The sequence is cut off.
    for (size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// A truncated body may end inside a UTF-8 sequence: the complete prefix.
std::string_view Utf8Prefix(std::string_view text, bool truncated) {
  if (!truncated) return text;
  for (size_t cut = 0; cut < 4 && cut < text.size(); ++cut) {
    const std::string_view head = text.substr(0, text.size() - cut);
    if (ValidUtf8(head)) return head;
  }
  return text;
}

Status Bad(const std::string& pointer, const std::string& what) {
  return Status::InvalidArgument(pointer + ": " + what, pointer);
}

}  // namespace

json JournalEntryToJson(const JournalEntry& e) {
  json reply = {
      {"answer", e.refusal != Refusal::kNone
                     ? std::to_string(e.reply.answer.status)
                     : DescribeAnswer(e.reply.answer)},
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
  if (e.refusal == Refusal::kNone && e.reply.answer.fault == Fault::kNone &&
      e.reply.answer.status >= 300 && e.reply.answer.status < 400 &&
      !answer_headers.contains("Location")) {
    answer_headers["Location"] = kRedirectLocation;  // The server's own.
  }
  reply["headers"] = std::move(answer_headers);
  json issues = json::array();
  if (!e.schema_valid) issues.push_back(e.schema_issue);
  json headers = json::array();
  for (const JournalHeader& h : e.headers) {
    headers.push_back(json::array({h.name, h.value}));
  }
  const size_t q = e.target.find('?');
  json body = {{"size", e.body_size},
               {"hash", Hex16(e.body_hash)},
               {"kept", e.body.size()},
               {"truncated", e.body_truncated}};
  const std::string_view text = Utf8Prefix(e.body, e.body_truncated);
  if (ValidUtf8(text)) {
    body["encoding"] = "utf-8";
    body["text"] = std::string(text);
  } else {
    body["encoding"] = "base64";
    body["text"] = Base64Encode(e.body);
  }
  const bool checked = e.signature != SignatureVerdict::kNotChecked;
  const std::string_view reason =
      SignatureReason(e.reply.signature_scheme, e.signature);
  json refused = nullptr;
  if (e.refusal != Refusal::kNone) {
    refused = json{{"reason", std::string(RefusalName(e.refusal))},
                   {"message", e.refusal_reason}};
  }
  return json{
      {"index", e.index},
      {"time_ms", MillisJson(e.at.time_since_epoch().count())},
      {"unix_ms", e.unix_time.count() == 0
                      ? json(nullptr)
                      : MillisJson(e.unix_time.count())},
      {"connection", e.connection == 0 ? json(nullptr) : json(e.connection)},
      // null: no route matched (see "unmatched").
      {"route", e.route.empty() ? json(nullptr) : json(e.route)},
      {"unmatched",
       e.unmatched_why.empty()
           ? json(nullptr)
           : json{{"closest", e.closest_route.empty()
                                  ? json(nullptr)
                                  : json(e.closest_route)},
                  {"why", e.unmatched_why}}},
      {"method", e.method},
      {"target", e.target},
      {"path", e.target.substr(0, q)},
      {"query", q == std::string::npos ? std::string() : e.target.substr(q + 1)},
      {"content_type", e.content_type},
      {"event", e.event_type},
      {"headers", std::move(headers)},
      {"delivery",
       {{"key", e.delivery_key},
        {"from_id_header", e.has_delivery_id},
        {"attempt", e.delivery_attempt},
        {"sender_attempt",
         e.sender_attempt == 0 ? json(nullptr) : json(e.sender_attempt)}}},
      {"body", std::move(body)},
      {"reply", std::move(reply)},
      {"schema", {{"valid", e.schema_valid}, {"issues", std::move(issues)}}},
      {"abandoned", e.abandoned},
      {"signature", std::string(SignatureVerdictName(e.signature))},
      {"signature_scheme",
       checked ? json(std::string(SignatureSchemeName(e.reply.signature_scheme)))
               : json(nullptr)},
      {"signature_reason",
       reason.empty() ? json(nullptr) : json(std::string(reason))},
      {"refused", std::move(refused)},
  };
}

std::string JournalEntryLine(const JournalEntry& entry,
                             const std::string& receiver) {
  json j = JournalEntryToJson(entry);
  std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace);
  if (receiver.empty()) return line;
  return "{\"receiver\":" +
         json(receiver).dump(-1, ' ', false, json::error_handler_t::replace) +
         "," + line.substr(1);
}

Result<JournalEntry> JournalEntryFromJson(const json& j) {
  if (!j.is_object()) return Bad("/", "expected a journal entry (an object)");
  JournalEntry e;
  // Reads j[pointer] into out when it has the expected type.
  auto get = [&](const char* pointer, auto& out, bool required) -> Status {
    const json::json_pointer ptr{std::string(pointer)};
    if (!j.contains(ptr) || j.at(ptr).is_null()) {
      return required ? Bad(pointer, "missing") : Status::Ok();
    }
    try {
      out = j.at(ptr).get<std::remove_reference_t<decltype(out)>>();
    } catch (const json::exception&) {
      return Bad(pointer, "wrong type: " + j.at(ptr).dump());
    }
    return Status::Ok();
  };
  double time_ms = 0;
  double unix_ms = 0;
  std::string hash;
  std::string answer;
  std::optional<int> status;
  std::string fault;
  std::string signature = "not_checked";
  std::string scheme;
  double latency_ms = 0;
  bool schema_valid = true;
  std::vector<std::string> issues;
  int sender_attempt = 0;
  for (Status s : {get("/index", e.index, true),
                   get("/time_ms", time_ms, true),
                   get("/unix_ms", unix_ms, false),
                   get("/connection", e.connection, false),
                   get("/route", e.route, false),
                   get("/method", e.method, true),
                   get("/target", e.target, true),
                   get("/content_type", e.content_type, false),
                   get("/event", e.event_type, false),
                   get("/delivery/key", e.delivery_key, true),
                   get("/delivery/from_id_header", e.has_delivery_id, false),
                   get("/delivery/attempt", e.delivery_attempt, false),
                   get("/delivery/sender_attempt", sender_attempt, false),
                   get("/body/size", e.body_size, true),
                   get("/body/hash", hash, true),
                   get("/body/truncated", e.body_truncated, false),
                   get("/reply/answer", answer, true),
                   get("/reply/fault", fault, false),
                   get("/reply/latency_ms", latency_ms, false),
                   get("/schema/valid", schema_valid, false),
                   get("/schema/issues", issues, false),
                   get("/abandoned", e.abandoned, false),
                   get("/signature", signature, false),
                   get("/signature_scheme", scheme, false),
                   get("/unmatched/closest", e.closest_route, false),
                   get("/unmatched/why", e.unmatched_why, false)}) {
    if (!s.ok()) return s;
  }
  // A null route is a request no route matched.
  if (j.contains("route") && j["route"].is_null()) e.route.clear();
  e.sender_attempt = sender_attempt;
  e.at = TimePoint(Duration(static_cast<int64_t>(time_ms * 1000)));
  e.unix_time = Duration(static_cast<int64_t>(unix_ms * 1000));
  e.reply.latency = Duration(static_cast<int64_t>(latency_ms * 1000));
  char* end = nullptr;
  e.body_hash = std::strtoull(hash.c_str(), &end, 16);
  if (hash.size() != 16 || end != hash.c_str() + hash.size()) {
    return Bad("/body/hash", "expected 16 hex digits, got \"" + hash + "\"");
  }
  if (const json::json_pointer p{"/reply/status"};
      j.contains(p) && !j.at(p).is_null()) {
    if (!j.at(p).is_number_integer()) {
      return Bad("/reply/status", "expected an integer");
    }
    e.reply.answer.status = j.at(p).get<int>();
  }
  if (!fault.empty()) {
    std::optional<Fault> f = ParseFault(fault);
    if (!f) return Bad("/reply/fault", "unknown fault \"" + fault + "\"");
    e.reply.answer.fault = *f;
  }
  bool found = false;
  for (SignatureVerdict v :
       {SignatureVerdict::kNotChecked, SignatureVerdict::kValid,
        SignatureVerdict::kMissing, SignatureVerdict::kStale,
        SignatureVerdict::kBad}) {
    if (SignatureVerdictName(v) == signature) {
      e.signature = v;
      e.reply.signature = v;
      found = true;
    }
  }
  if (!found) {
    return Bad("/signature", "unknown verdict \"" + signature + "\"");
  }
  if (!scheme.empty()) {
    std::optional<SignatureScheme> s = ParseSignatureScheme(scheme);
    if (!s) return Bad("/signature_scheme", "unknown scheme \"" + scheme + "\"");
    e.reply.signature_scheme = *s;
  }
  e.schema_valid = schema_valid;
  if (!schema_valid && !issues.empty()) e.schema_issue = issues.front();
  if (const json::json_pointer p{"/refused"};
      j.contains(p) && j.at(p).is_object()) {
    std::string reason;
    if (Status s = get("/refused/reason", reason, true); !s.ok()) return s;
    std::optional<Refusal> r = ParseRefusal(reason);
    if (!r || *r == Refusal::kNone) {
      return Bad("/refused/reason", "unknown refusal \"" + reason + "\"");
    }
    e.refusal = *r;
    if (Status s = get("/refused/message", e.refusal_reason, false); !s.ok()) {
      return s;
    }
  }
  if (const json::json_pointer p{"/headers"};
      j.contains(p) && j.at(p).is_array()) {
    for (const json& h : j.at(p)) {
      if (!h.is_array() || h.size() != 2 || !h[0].is_string() ||
          !h[1].is_string()) {
        return Bad("/headers", "expected [name, value] pairs");
      }
      e.headers.push_back({h[0].get<std::string>(), h[1].get<std::string>()});
    }
  }
  return e;
}

}  // namespace hooksim
