// The HTML page of `hooksim conform --report-html FILE`: the case x rule
// matrix (pass, fail, could not judge; expected / seen / why on each
// cell), then per case its rules, the requests its receiver saw on a
// timeline and the sender's standard error beside it. Self-contained like
// every page of html_report.h; the sender's output is cut at 64 KiB per
// stream and case, and at most 2,000 requests are drawn per case.
// Kept apart from html_report.h (no verifier types): the conform command
// fills the picture.
// Thread: pure functions over values.
#ifndef HOOKSIM_SIM_REPORT_HTML_CONFORM_REPORT_H_
#define HOOKSIM_SIM_REPORT_HTML_CONFORM_REPORT_H_

#include <cstdint>
#include <string>
#include <vector>

namespace hooksim {

struct ConformRequestPicture {
  int64_t at_us = 0;  // Since the sender started.
  std::string method;
  std::string target;
  int event = -1;      // Index of the event its body matched, or -1.
  std::string answer;  // "200", "hang", ...
  bool success = false;
  bool abandoned = false;
};

struct ConformRulePicture {
  std::string rule;
  std::string contract;
  std::string verdict;  // "pass", "fail", "could-not-judge".
  std::string expected;
  std::string seen;
  std::string message;
};

struct ConformCasePicture {
  std::string name;
  std::string behaviour;
  int expected_attempts = 1;
  std::string why;
  size_t events = 0;
  int64_t elapsed_us = 0;
  int64_t sender_ran_us = 0;
  std::string sender;  // "exited with 0 after 1.2 s"
  std::string stdout_text;
  std::string stderr_text;
  std::vector<ConformRequestPicture> requests;
  uint64_t dropped_requests = 0;
  std::vector<ConformRulePicture> rules;
};

struct ConformPicture {
  std::string command;  // The hooksim conform command line.
  std::string sender_cmd;
  uint64_t seed = 1;
  double total_s = 0;
  bool interrupted = false;
  std::vector<ConformCasePicture> cases;
};

std::string RenderConformHtml(const ConformPicture& picture);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_REPORT_HTML_CONFORM_REPORT_H_
