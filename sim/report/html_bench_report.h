// The HTML page of `hooksim bench --report-html FILE`: throughput per
// second, latency histograms per delivery and per attempt, attempts by
// outcome, a place for thresholds, the machine and the command.
// Self-contained like every page of html_report.h. The bench command
// measures (counters, histograms, ThroughputSeries); this only renders.
// Thread: pure functions over values.
#ifndef HOOKSIM_SIM_REPORT_HTML_BENCH_REPORT_H_
#define HOOKSIM_SIM_REPORT_HTML_BENCH_REPORT_H_

#include <nlohmann/json.hpp>
#include <string>

#include "sim/base/latency_histogram.h"
#include "sim/base/throughput_series.h"

namespace hooksim {

struct BenchPicture {
  std::string command;             // The hooksim bench command line.
  nlohmann::ordered_json figures;  // As written by --json.
  LatencyHistogram delivery_latency;
  LatencyHistogram attempt_latency;
  ThroughputSeries throughput;
};

std::string RenderBenchHtml(const BenchPicture& picture);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_REPORT_HTML_BENCH_REPORT_H_
