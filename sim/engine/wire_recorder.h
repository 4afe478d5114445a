// A Transport decorator that records what the sender put on the wire, per
// delivery, before passing each request on.
//
// It gives the verifier the sender's side of rules C1 (method), C2 (content
// type) and C7 (byte-identical body and the same delivery id on every
// attempt), observed at the seam rather than trusted from the engine.
// Deliveries are keyed by the X-Hooksim-Delivery header; requests without
// one are counted in missing_id(). At most `max_deliveries` are tracked.
// Thread: as the wrapped transport (the loop thread).
#ifndef HOOKSIM_SIM_ENGINE_WIRE_RECORDER_H_
#define HOOKSIM_SIM_ENGINE_WIRE_RECORDER_H_

#include <cstdint>
#include <string>

#include "sim/base/flat_index.h"
#include "sim/engine/transport.h"

namespace hooksim {

struct WireCounters {
  int requests = 0;
  int non_post = 0;
  int bad_content_type = 0;
  int body_changes = 0;  // Requests whose body differs from the first.
  uint64_t first_body_hash = 0;
  size_t first_body_size = 0;
};

class WireRecorder : public Transport {
 public:
  explicit WireRecorder(Transport& inner, size_t max_deliveries = 20'000'000)
      : inner_(inner), deliveries_(max_deliveries) {}

  void Send(const HttpRequest& request, Duration timeout,
            std::function<void(AttemptResult)> done) override;

  // Sizing hint: makes room for `deliveries` deliveries (capped at
  // max_deliveries) so the table does not grow during a run of known size.
  void Reserve(size_t deliveries);

  // Per delivery id, in order of each delivery's first request.
  const FlatTable<WireCounters>& deliveries() const { return deliveries_; }
  uint64_t missing_id() const { return missing_id_; }
  uint64_t untracked() const { return untracked_; }

 private:
  Transport& inner_;
  FlatTable<WireCounters> deliveries_;  // At most max_deliveries keys.
  uint64_t missing_id_ = 0;
  uint64_t untracked_ = 0;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_ENGINE_WIRE_RECORDER_H_
