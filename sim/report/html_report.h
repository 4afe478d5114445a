// The HTML page of `hooksim run --report-html FILE` (the pages of conform
// and bench are in html_conform_report.h and html_bench_report.h). One
// self-contained page per command: inline CSS and SVG,
// no script, nothing loaded from outside the file: it works opened from
// disk. Every string that comes from the user (scenario and hook names,
// findings, the sender's output, commands) is escaped.
//
// Measuring stays apart from rendering: the commands fill the pictures
// below (plain data) and the Render functions only format them. Pictures
// of the virtual world are deterministic, so the same run gives the same
// page byte for byte (no timestamps, no wall times).
//
// Size: a run page draws at most RunHtmlOptions::max_lanes deliveries per
// scenario (those named in a finding first, then those that gave up, up to
// half of the lanes left while others wait, then a sample seeded by the
// scenario's seed) and says how many of how many.
// Thread: pure functions over values.
#ifndef HOOKSIM_SIM_REPORT_HTML_REPORT_H_
#define HOOKSIM_SIM_REPORT_HTML_REPORT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/report/report.h"
#include "sim/scenario/run_record.h"

namespace hooksim {

// How an attempt ended, as the timeline colours it.
enum class MarkClass {
  k2xx,      // A 2xx answer: delivered.
  kNon2xx,   // Any other status (3xx, 4xx, 5xx).
  kTimeout,  // No complete answer within the timeout.
  kReset,    // The connection was reset.
  kRefused,  // Nothing listened.
  kBroken,   // Closed with no answer, or bytes that are not HTTP.
};
MarkClass ClassifyAttempt(const AttemptResult& result);

inline constexpr size_t kDefaultHtmlLanes = 100;

struct RunHtmlOptions {
  size_t max_lanes = kDefaultHtmlLanes;  // Deliveries drawn per scenario.
  std::string command;  // The command line of the run, for the header.
};

struct LaneAttempt {
  int64_t start_us = 0;
  int64_t end_us = 0;
  int number = 0;  // 1-based.
  MarkClass mark = MarkClass::k2xx;
  std::string result;  // "503", "timeout", ...
};

struct Lane {
  std::string delivery;  // "dlv_..."
  uint32_t hook = 0;
  uint32_t event = 0;
  DeliveryState state = DeliveryState::kPending;
  bool in_finding = false;  // Named in a rule's findings.
  int64_t created_us = 0;
  int64_t ended_us = 0;
  std::vector<LaneAttempt> attempts;
};

struct TimeWindow {
  int64_t from_us = 0;
  int64_t to_us = 0;
  std::string label;  // "answers 503", "paused".
};

struct HookPicture {
  std::string id;
  std::string target;  // "receiver NAME" or the URL.
  uint64_t deliveries = 0;
  std::vector<TimeWindow> outages;
  std::vector<TimeWindow> paused;
};

// Answers per receiver, or per hook with a URL and no receiver (then as
// the sender saw them).
struct AnswerMix {
  std::string name;
  bool sender_side = false;
  std::map<std::string, uint64_t> answers;
};

struct AttemptCount {
  uint64_t delivered = 0;
  uint64_t gave_up = 0;
  uint64_t held = 0;
  uint64_t open = 0;  // Neither (an interrupted run).
};

struct RunPicture {
  ScenarioOutcome outcome;
  std::string description;
  int max_attempts = 6;  // The scenario's sender policy.
  int64_t end_us = 0;    // Last attempt end or run end.
  std::vector<HookPicture> hooks;
  std::vector<Lane> lanes;  // The sample drawn, in hook then delivery order.
  std::map<int, AttemptCount> attempts_per_delivery;
  std::vector<AnswerMix> answer_mix;
};

// What the page needs of a finished run (the sample of lanes included);
// outcome.virtual_ms is when the run ended.
RunPicture CollectRunPicture(const RunRecord& run,
                             const ScenarioOutcome& outcome,
                             const RunHtmlOptions& options);

std::string RenderRunHtml(const std::vector<RunPicture>& pictures,
                          const RunHtmlOptions& options);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_REPORT_HTML_REPORT_H_
