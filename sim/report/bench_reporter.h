// Rendering one bench run (sim/bench/delivery_bench.h), apart from
// measuring it; google/benchmark's reporter.h is the model. A reporter
// takes the finished BenchRun and writes it; `hooksim bench` hands the
// same run to the text reporter (stdout) and, with --report-json FILE, to
// the JSON one.
// Thread: a reporter is used by one thread; streams are borrowed.
#ifndef HOOKSIM_SIM_REPORT_BENCH_REPORTER_H_
#define HOOKSIM_SIM_REPORT_BENCH_REPORTER_H_

#include <iosfwd>
#include <nlohmann/json.hpp>

#include "sim/bench/delivery_bench.h"

namespace hooksim {

class BenchReporter {
 public:
  virtual ~BenchReporter() = default;
  // Writes `run`; stream errors are the caller's to check.
  virtual void Report(const BenchRun& run) = 0;
};

// The text report: setup line, deliveries and attempts per second,
// latency percentiles, errors by kind, receivers' counts, peak RSS.
class TextBenchReporter : public BenchReporter {
 public:
  explicit TextBenchReporter(std::ostream& out) : out_(out) {}
  void Report(const BenchRun& run) override;

 private:
  std::ostream& out_;
};

// The JSON report: BenchJson(run), indented, one document.
class JsonBenchReporter : public BenchReporter {
 public:
  explicit JsonBenchReporter(std::ostream& out) : out_(out) {}
  void Report(const BenchRun& run) override;

 private:
  std::ostream& out_;
};

// The figures as one JSON object (what --report-json writes; the HTML page
// shows it too): version, start time, machine, setup, counts, rates,
// latency percentiles in ms, outcomes, errors, peak RSS, throughput.
nlohmann::ordered_json BenchJson(const BenchRun& run);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_REPORT_BENCH_REPORTER_H_
