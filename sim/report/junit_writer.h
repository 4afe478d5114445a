// JUnit XML, the report format CI systems read.
//
// One writer for every command that reports tests (`run --junit`, and the
// conformance battery later). The model is the common subset CI systems
// parse: a <testsuites> root with totals, <testsuite> elements with name,
// tests, failures, errors, skipped and time attributes, and <testcase>
// elements with classname, name, time and an optional <failure>, <error>
// or <skipped> child plus <system-out>/<system-err>. All text is escaped;
// characters XML 1.0 forbids are replaced. Testcase names are unique per
// (classname, name) in the whole document (two suites of one name, e.g. a
// scenario given twice, would otherwise collide): a repeat is written as
// "NAME (2)". Times under a millisecond keep microseconds, so fast cases
// do not all read 0.000.
#ifndef HOOKSIM_SIM_REPORT_JUNIT_WRITER_H_
#define HOOKSIM_SIM_REPORT_JUNIT_WRITER_H_

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace hooksim {

struct JUnitCase {
  std::string classname;
  std::string name;
  double seconds = 0;
  enum class Status { kPassed, kFailed, kError, kSkipped };
  Status status = Status::kPassed;
  std::string message;  // Short reason (attribute) for failed/error/skipped.
  std::string details;  // Longer text inside the failure element.
  std::string system_out;
  std::string system_err;
};

struct JUnitSuite {
  std::string name;
  double seconds = 0;
  std::string timestamp;  // ISO 8601 start time ("" : not written).
  std::string hostname;   // "" : not written.
  std::vector<JUnitCase> cases;
};

// Writes the whole document (XML declaration included).
void WriteJUnit(const std::vector<JUnitSuite>& suites, std::ostream& out);

// Escapes text for XML content and attribute values.
std::string XmlEscape(std::string_view text);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_REPORT_JUNIT_WRITER_H_
