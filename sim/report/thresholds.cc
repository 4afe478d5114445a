#include "sim/report/thresholds.h"

#include <cmath>
#include <cstdio>

#include "sim/base/parse_number.h"

namespace hooksim {
namespace {

constexpr const char* kOpenMaps[] = {"answers", "outcomes", "errors"};

std::string_view Trim(std::string_view s) {
  const size_t a = s.find_first_not_of(" \t");
  if (a == std::string_view::npos) return {};
  const size_t b = s.find_last_not_of(" \t");
  return s.substr(a, b - a + 1);
}

bool IsOpenMap(std::string_view key) {
  for (const char* m : kOpenMaps) {
    if (key == m) return true;
  }
  return false;
}

std::string Number(double v) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.6g", v);
  return text;
}

const char* OpName(ThresholdOp op) {
  switch (op) {
    case ThresholdOp::kLess:
      return "<";
    case ThresholdOp::kLessEqual:
      return "<=";
    case ThresholdOp::kGreater:
      return ">";
    case ThresholdOp::kGreaterEqual:
      return ">=";
    case ThresholdOp::kEqual:
      return "==";
  }
  return "?";
}

}  // namespace

Result<Threshold> ParseThreshold(std::string_view text) {
  const std::string quoted = "--threshold '" + std::string(text) + "'";
  const size_t at = text.find_first_of("<>=");
  if (at == std::string_view::npos) {
    return Status::InvalidArgument(
        quoted + ": expected FIGURE OP NUMBER with OP one of >=, <=, ==, >, "
                 "< (e.g. 'deliveries_per_s>=5000')");
  }
  Threshold t;
  t.text = std::string(text);
  t.figure = std::string(Trim(text.substr(0, at)));
  size_t op_len = 1;
  const char c = text[at];
  const bool eq_next = at + 1 < text.size() && text[at + 1] == '=';
  if (c == '<') {
    t.op = eq_next ? ThresholdOp::kLessEqual : ThresholdOp::kLess;
    op_len = eq_next ? 2 : 1;
  } else if (c == '>') {
    t.op = eq_next ? ThresholdOp::kGreaterEqual : ThresholdOp::kGreater;
    op_len = eq_next ? 2 : 1;
  } else if (eq_next) {
    t.op = ThresholdOp::kEqual;
    op_len = 2;
  } else {
    return Status::InvalidArgument(quoted +
                                   ": '=' alone is no operator (use ==)");
  }
  if (t.figure.empty()) {
    return Status::InvalidArgument(quoted + ": no figure before " +
                                   OpName(t.op));
  }
  const std::string_view number = Trim(text.substr(at + op_len));
  const std::optional<double> value = ParseFiniteDouble(number);
  if (!value) {
    return Status::InvalidArgument(quoted + ": expected a number after " +
                                   OpName(t.op) + ", got \"" +
                                   std::string(number) + "\"");
  }
  t.value = *value;
  return t;
}

Result<double> ThresholdFigure(const Threshold& threshold,
                               const nlohmann::ordered_json& report) {
  const nlohmann::ordered_json* node = &report;
  std::string_view path = threshold.figure;
  std::string parent;
  // Bounded by the figure's dots.
  while (true) {
    const size_t dot = path.find('.');
    const std::string key(path.substr(0, dot));
    const nlohmann::ordered_json* child = nullptr;
    if (node->is_object()) {
      const auto it = node->find(key);
      if (it != node->end()) child = &*it;
    } else if (node->is_array()) {
      const std::optional<uint64_t> i = ParseUint64(key);
      if (i && *i < node->size()) child = &(*node)[static_cast<size_t>(*i)];
    }
    if (child == nullptr) {
      if (node->is_object() && IsOpenMap(parent) &&
          dot == std::string_view::npos) {
        return 0.0;  // An answer or outcome that did not occur.
      }
      return Status::InvalidArgument(
          "--threshold '" + threshold.text + "': unknown figure \"" +
          threshold.figure +
          "\" (the figures are the JSON report's keys, e.g. "
          "deliveries_per_s, publish_to_first_attempt_ms.p99)");
    }
    node = child;
    parent = key;
    if (dot == std::string_view::npos) break;
    path = path.substr(dot + 1);
  }
  if (node->is_boolean()) return node->get<bool>() ? 1.0 : 0.0;
  if (!node->is_number()) {
    return Status::InvalidArgument("--threshold '" + threshold.text +
                                   "': figure \"" + threshold.figure +
                                   "\" is not a number");
  }
  return node->get<double>();
}

std::vector<ThresholdResult> EvaluateThresholds(
    const std::vector<Threshold>& thresholds,
    const nlohmann::ordered_json& report) {
  std::vector<ThresholdResult> results;
  for (const Threshold& t : thresholds) {
    ThresholdResult r;
    r.threshold = t;
    const Result<double> v = ThresholdFigure(t, report);
    r.actual = v.ok() ? *v : std::nan("");
    const double a = r.actual;
    switch (t.op) {
      case ThresholdOp::kLess:
        r.passed = a < t.value;
        break;
      case ThresholdOp::kLessEqual:
        r.passed = a <= t.value;
        break;
      case ThresholdOp::kGreater:
        r.passed = a > t.value;
        break;
      case ThresholdOp::kGreaterEqual:
        r.passed = a >= t.value;
        break;
      case ThresholdOp::kEqual:
        r.passed = a == t.value;
        break;
    }
    results.push_back(r);
  }
  return results;
}

std::string DescribeThreshold(const ThresholdResult& r) {
  return r.threshold.figure + " = " + Number(r.actual) +
         (r.passed ? " (passes " : " (fails ") + r.threshold.text + ")";
}

JUnitSuite ThresholdSuite(const std::string& suite,
                          const std::vector<ThresholdResult>& results,
                          double seconds) {
  JUnitSuite s;
  s.name = suite;
  s.seconds = seconds;
  for (const ThresholdResult& r : results) {
    JUnitCase c;
    c.classname = "bench.thresholds";
    c.name = "threshold: " + r.threshold.text;
    c.status =
        r.passed ? JUnitCase::Status::kPassed : JUnitCase::Status::kFailed;
    if (!r.passed) {
      c.message = DescribeThreshold(r);
      c.details = "threshold " + r.threshold.text + " failed: " +
                  r.threshold.figure + " was " + Number(r.actual);
    }
    s.cases.push_back(std::move(c));
  }
  return s;
}

}  // namespace hooksim
