#include "sim/bench/bench_receivers.h"

#include <utility>

#include "sim/base/random.h"
#include "sim/contract/payload_validator.h"

namespace hooksim {

BehaviorSpec BenchBehavior(const BenchOptions& options) {
  if (options.behavior) return *options.behavior;
  BehaviorSpec spec;
  const double p = options.failure_rate;
  if (p <= 0) {
    spec.answers = FixedAnswer{Answer{200, Fault::kNone}};
  } else if (p >= 1) {
    spec.answers = FixedAnswer{Answer{500, Fault::kNone}};
  } else {
    spec.answers = WeightedAnswer{{{Answer{200, Fault::kNone}, 1 - p},
                                   {Answer{500, Fault::kNone}, p}}};
  }
  return spec;
}

Status StartBenchReceivers(const BenchOptions& options,
                           const BenchReceiverSetup& setup,
                           std::vector<BenchReceiver>& out) {
  Result<std::shared_ptr<CachedPayloadValidator>> cache =
      CachedPayloadValidator::Bundled();
  if (!cache.ok()) return cache.error();
  const Random master(options.seed);
  const BehaviorSpec behavior = BenchBehavior(options);
  for (int64_t i = 0; i < options.receivers; ++i) {
    const std::string name = "bench" + std::to_string(i + 1);
    ReceiverOptions ropts;
    ropts.name = name;
    ropts.validator = *cache;
    ropts.journal.capacity = setup.journal_capacity;
    ropts.journal.max_deliveries = setup.tracked_deliveries;
    // Senders sign with the wall clock, and a bench runs at time scale 1.
    ropts.signature_clock = [] { return UnixTimeNow(); };
    BenchReceiver r;
    r.receiver = std::make_unique<MockReceiver>(
        ropts, behavior, master.Fork("receiver:" + name));
    HttpReceiverOptions hopts;
    hopts.threads = setup.threads;
    hopts.now = setup.now;
    if (setup.on_request_end) {
      hopts.on_request_end = [f = setup.on_request_end,
                              index = static_cast<size_t>(i)](
                                 const RequestLogRecord& record) {
        f(index, record);
      };
    }
    r.server = std::make_unique<HttpReceiverServer>(*r.receiver, hopts);
    if (Status status = r.server->Start(); !status.ok()) {
      return Status(status.code(),
                    "cannot start receiver " + name + ": " + status.message());
    }
    r.url = r.server->base_url() + "/hook";
    out.push_back(std::move(r));
  }
  return Status::Ok();
}

}  // namespace hooksim
