#include "sim/report/junit_writer.h"

#include <cstdio>
#include <map>
#include <utility>

namespace hooksim {
namespace {

std::string Seconds(double s) {
  char buf[32];
  s = s < 0 ? 0.0 : s;
  std::snprintf(buf, sizeof(buf), s > 0 && s < 0.001 ? "%.6f" : "%.3f", s);
  return buf;
}

// Length of a valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t Utf8Length(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3
                        : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

}  // namespace

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '&': out += "&amp;"; ++i; continue;
      case '<': out += "&lt;"; ++i; continue;
      case '>': out += "&gt;"; ++i; continue;
      case '"': out += "&quot;"; ++i; continue;
      case '\'': out += "&apos;"; ++i; continue;
      default: break;
    }
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      out += "\xEF\xBF\xBD";  // U+FFFD: XML 1.0 forbids these.
      ++i;
      continue;
    }
    const size_t n = Utf8Length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

void WriteJUnit(const std::vector<JUnitSuite>& suites, std::ostream& out) {
  size_t tests = 0, failures = 0, errors = 0, skipped = 0;
  double seconds = 0;
  for (const JUnitSuite& s : suites) {
    seconds += s.seconds;
    for (const JUnitCase& c : s.cases) {
      ++tests;
      failures += c.status == JUnitCase::Status::kFailed;
      errors += c.status == JUnitCase::Status::kError;
      skipped += c.status == JUnitCase::Status::kSkipped;
    }
  }
  // CI systems key results by (classname, name): a repeated pair would
  // hide one result behind another, so repeats get " (2)", " (3)", ...
  std::map<std::pair<std::string, std::string>, int> seen;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites name=\"hooksim\" tests=\"" << tests << "\" failures=\""
      << failures << "\" errors=\"" << errors << "\" skipped=\"" << skipped
      << "\" time=\"" << Seconds(seconds) << "\">\n";
  for (const JUnitSuite& s : suites) {
    size_t f = 0, e = 0, k = 0;
    for (const JUnitCase& c : s.cases) {
      f += c.status == JUnitCase::Status::kFailed;
      e += c.status == JUnitCase::Status::kError;
      k += c.status == JUnitCase::Status::kSkipped;
    }
    out << "  <testsuite name=\"" << XmlEscape(s.name) << "\" tests=\""
        << s.cases.size() << "\" failures=\"" << f << "\" errors=\"" << e
        << "\" skipped=\"" << k << "\" time=\"" << Seconds(s.seconds)
        << "\"";
    if (!s.timestamp.empty()) {
      out << " timestamp=\"" << XmlEscape(s.timestamp) << "\"";
    }
    if (!s.hostname.empty()) {
      out << " hostname=\"" << XmlEscape(s.hostname) << "\"";
    }
    out << ">\n";
    for (const JUnitCase& c : s.cases) {
      std::string name = c.name;
      const int n = ++seen[{c.classname, c.name}];
      if (n > 1) name += " (" + std::to_string(n) + ")";
      out << "    <testcase classname=\"" << XmlEscape(c.classname)
          << "\" name=\"" << XmlEscape(name) << "\" time=\""
          << Seconds(c.seconds) << "\"";
      const bool has_body = c.status != JUnitCase::Status::kPassed ||
                            !c.system_out.empty() || !c.system_err.empty();
      if (!has_body) {
        out << "/>\n";
        continue;
      }
      out << ">\n";
      const char* tag = nullptr;
      switch (c.status) {
        case JUnitCase::Status::kFailed: tag = "failure"; break;
        case JUnitCase::Status::kError: tag = "error"; break;
        case JUnitCase::Status::kSkipped: tag = "skipped"; break;
        case JUnitCase::Status::kPassed: break;
      }
      if (tag) {
        out << "      <" << tag << " message=\"" << XmlEscape(c.message)
            << "\"";
        if (c.status != JUnitCase::Status::kSkipped) {
          out << " type=\"" << tag << "\"";
        }
        if (c.details.empty()) {
          out << "/>\n";
        } else {
          out << ">" << XmlEscape(c.details) << "</" << tag << ">\n";
        }
      }
      if (!c.system_out.empty()) {
        out << "      <system-out>" << XmlEscape(c.system_out)
            << "</system-out>\n";
      }
      if (!c.system_err.empty()) {
        out << "      <system-err>" << XmlEscape(c.system_err)
            << "</system-err>\n";
      }
      out << "    </testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
}

}  // namespace hooksim
