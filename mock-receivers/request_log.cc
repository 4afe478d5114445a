#include "mock-receivers/request_log.h"

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

namespace hooksim {
namespace {

// "2026-11-29T17:20:01.123Z" (UTC, milliseconds).
std::string IsoTime(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      t.time_since_epoch())
                      .count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                utc.tm_min, utc.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

double Millis(std::chrono::microseconds d) {
  return static_cast<double>(d.count()) / 1000.0;
}

// Printable: control bytes and spaces of the request's own text would
// break the one-line, space-separated format.
std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text.substr(0, 512)) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(b <= ' ' || b == 0x7f ? '_' : c);
  }
  return out.empty() ? "-" : out;
}

bool IsFault(const Answer& a) { return a.fault != Fault::kNone; }

}  // namespace

std::optional<RequestLogFormat> ParseRequestLogFormat(std::string_view name) {
  if (name == "text") return RequestLogFormat::kText;
  if (name == "json") return RequestLogFormat::kJson;
  return std::nullopt;
}

std::string FormatRequestLog(const RequestLogRecord& r,
                             RequestLogFormat format) {
  const bool checked = r.signature != SignatureVerdict::kNotChecked;
  const std::string_view reason = SignatureReason(r.scheme, r.signature);
  if (format == RequestLogFormat::kJson) {
    using nlohmann::json;
    json line = {
        {"time", IsoTime(r.ended)},
        {"method", std::string(r.method)},
        {"path", std::string(r.path)},
        {"delivery", std::string(r.delivery)},
        {"attempt", r.attempt},
        {"status", IsFault(r.answer) && r.answer.fault != Fault::kDribble
                       ? json(nullptr)
                       : json(r.answer.status)},
        {"fault", IsFault(r.answer)
                      ? json(std::string(FaultName(r.answer.fault)))
                      : json(nullptr)},
        {"latency_ms", Millis(r.latency)},
        {"abandoned", r.abandoned},
        {"signature", checked ? json(std::string(SignatureVerdictName(
                                    r.signature)))
                              : json(nullptr)},
        {"signature_reason",
         reason.empty() ? json(nullptr) : json(std::string(reason))},
        {"route", r.route.empty() ? json(nullptr) : json(std::string(r.route))},
        {"refused",
         r.refused.empty() ? json(nullptr) : json(std::string(r.refused))},
    };
    return line.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  char latency[32];
  std::snprintf(latency, sizeof(latency), "%.1fms", Millis(r.latency));
  std::string line = IsoTime(r.ended) + " " + Printable(r.method) + " " +
                     Printable(r.path) + " " +
                     (r.delivery.empty() ? std::string("-")
                                         : Printable(r.delivery)) +
                     " attempt=" + std::to_string(r.attempt) + " " +
                     DescribeAnswer(r.answer) + " " + latency;
  if (r.routed) {
    line += r.route.empty() ? " unmatched" : " route=" + Printable(r.route);
  }
  if (r.abandoned) line += " abandoned";
  if (checked) {
    line += " signature=";
    line += SignatureVerdictName(r.signature);
    if (!reason.empty()) line += " (" + std::string(reason) + ")";
  }
  if (!r.refused.empty()) line += " refused (" + Printable(r.refused) + ")";
  return line;
}

}  // namespace hooksim
