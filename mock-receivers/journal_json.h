// Journal entries as JSON: the one shape the admin API
// (/__hooksim/requests, requests.jsonl), the journal file (--journal-file)
// and `hooksim judge` share, and its reading back.
//
// An entry: {"index", "time_ms" (run time), "unix_ms" (arrival, Unix ms;
// null when unknown), "connection" (null when unknown), "route", "method",
// "target", "path", "query" (after "?", "" none), "content_type", "event",
// "headers" ([[name, value], ...] every header in order), "delivery" {"key",
// "from_id_header", "attempt", "sender_attempt"}, "body" {"size", "hash"
// (16 hex digits of the whole body), "kept" (bytes kept), "truncated",
// "encoding" ("utf-8" or "base64"), "text" (the kept bytes)}, "reply"
// {"answer", "status", "fault", "latency_ms", "retry_after",
// "retry_after_readable", "headers"}, "schema" {"valid", "issues"},
// "abandoned", "signature" (verdict), "signature_scheme",
// "signature_reason" (null when valid or not checked), "refused" (null, or
// {"reason": "too_large"|..., "message"} for a request answered before the
// behaviour)}.
// Thread: pure functions.
#ifndef HOOKSIM_MOCK_RECEIVERS_JOURNAL_JSON_H_
#define HOOKSIM_MOCK_RECEIVERS_JOURNAL_JSON_H_

#include <nlohmann/json.hpp>
#include <string>

#include "mock-receivers/journal.h"
#include "sim/base/result.h"

namespace hooksim {

nlohmann::json JournalEntryToJson(const JournalEntry& entry);

// The entry as one line of JSON text (no newline), invalid UTF-8 replaced;
// with a non-empty `receiver`, "receiver" comes first.
std::string JournalEntryLine(const JournalEntry& entry,
                             const std::string& receiver = {});

// Reads back what JournalEntryToJson wrote (the fields a judge needs must
// be there: index, time_ms, method, target, delivery, body size and hash,
// reply); an error names the field ("/reply/status: expected ...").
Result<JournalEntry> JournalEntryFromJson(const nlohmann::json& j);

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_JOURNAL_JSON_H_
