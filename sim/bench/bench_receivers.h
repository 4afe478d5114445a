// The in-process receivers both benches deliver to: one MockReceiver per
// hook behind an HttpReceiverServer on 127.0.0.1 (kernel-chosen port), each
// journalling and schema-checking every request as `hooksim receiver` does.
// Thread: start and stop from one thread; the servers serve on their own.
#ifndef HOOKSIM_SIM_BENCH_BENCH_RECEIVERS_H_
#define HOOKSIM_SIM_BENCH_BENCH_RECEIVERS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mock-receivers/behavior.h"
#include "mock-receivers/http/http_receiver_server.h"
#include "mock-receivers/receiver.h"
#include "sim/base/result.h"
#include "sim/bench/delivery_bench.h"

namespace hooksim {

struct BenchReceiver {
  std::unique_ptr<MockReceiver> receiver;
  std::unique_ptr<HttpReceiverServer> server;
  std::string url;  // http://127.0.0.1:PORT/hook
};

struct BenchReceiverSetup {
  size_t journal_capacity = 1024;       // Requests kept per receiver.
  size_t tracked_deliveries = 4096;     // Deliveries counted per receiver.
  size_t threads = 20;                  // Connections served at once.
  std::function<TimePoint()> now;       // Journal times; null: since start.
  // Called as each webhook request ends at receiver `index` (0-based),
  // from its serving threads (see HttpReceiverOptions::on_request_end).
  std::function<void(size_t index, const RequestLogRecord&)> on_request_end;
};

// options.behavior, else 500 with probability options.failure_rate.
BehaviorSpec BenchBehavior(const BenchOptions& options);

// Starts options.receivers receivers "bench1".."benchR" (seeded from
// options.seed, "receiver:benchN"). Errors name the receiver that could
// not start; those started are stopped when `out` goes.
Status StartBenchReceivers(const BenchOptions& options,
                           const BenchReceiverSetup& setup,
                           std::vector<BenchReceiver>& out);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_BENCH_BENCH_RECEIVERS_H_
