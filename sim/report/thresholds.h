// Thresholds on a report's figures, as k6 has them: `--threshold
// 'deliveries_per_s>=5000'` passes or fails a run, and sets its exit code.
//
// An expression is FIGURE OP NUMBER with OP one of >=, <=, ==, >, < (no
// spaces needed; spaces around the parts are allowed). FIGURE is a key of
// the JSON report, dotted into objects and arrays
// ("publish_to_first_attempt_ms.p99", "per_receiver.0.duplicates"); under
// the open-ended maps ("answers", "outcomes", "errors") a key that is
// absent reads 0. Booleans read 0 or 1.
// Errors: a bad expression or a figure that is not a number of the report
// is an invalid argument naming the expression and the figure.
// Thread: plain functions.
#ifndef HOOKSIM_SIM_REPORT_THRESHOLDS_H_
#define HOOKSIM_SIM_REPORT_THRESHOLDS_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sim/base/result.h"
#include "sim/report/junit_writer.h"

namespace hooksim {

enum class ThresholdOp { kLess, kLessEqual, kGreater, kGreaterEqual, kEqual };

struct Threshold {
  std::string text;    // As given.
  std::string figure;  // "publish_to_first_attempt_ms.p99".
  ThresholdOp op = ThresholdOp::kGreaterEqual;
  double value = 0;
};

struct ThresholdResult {
  Threshold threshold;
  double actual = 0;
  bool passed = false;
};

// Parses "figure>=x"; the error names the expression.
Result<Threshold> ParseThreshold(std::string_view text);

// The figure's value in `report`; an error when `report` has no number
// there (naming the figure and the expression).
Result<double> ThresholdFigure(const Threshold& threshold,
                               const nlohmann::ordered_json& report);

// Each threshold against `report` (every figure must be there: check with
// ThresholdFigure on a report of the same shape first).
std::vector<ThresholdResult> EvaluateThresholds(
    const std::vector<Threshold>& thresholds,
    const nlohmann::ordered_json& report);

// "deliveries_per_s = 812 (fails deliveries_per_s>=5000)".
std::string DescribeThreshold(const ThresholdResult& result);

// One JUnit suite `suite`, one case per threshold ("threshold: TEXT"), a
// failure saying the figure's value.
JUnitSuite ThresholdSuite(const std::string& suite,
                          const std::vector<ThresholdResult>& results,
                          double seconds);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_REPORT_THRESHOLDS_H_
