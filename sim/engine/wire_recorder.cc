#include "sim/engine/wire_recorder.h"

#include "sim/base/random.h"
#include "sim/contract/contract.h"

namespace hooksim {

void WireRecorder::Reserve(size_t deliveries) {
  // Ids ("dlv_" + 16 hex digits) are kept as numbers: no key bytes.
  deliveries_.Reserve(deliveries);
}

void WireRecorder::Send(const HttpRequest& request, Duration timeout,
                        std::function<void(AttemptResult)> done) {
  // The two headers read here, in one pass (the first of each name wins,
  // as with HttpRequest::FindHeader).
  constexpr std::string_view kContentType = "Content-Type";
  static_assert(kContentType.size() != kDeliveryIdHeader.size());
  std::optional<std::string_view> id;
  std::optional<std::string_view> ct;
  for (const Header& h : request.headers) {
    if (!id && h.name.size() == kDeliveryIdHeader.size() &&
        EqualsIgnoreCase(h.name, kDeliveryIdHeader)) {
      id = h.value;
    } else if (!ct && h.name.size() == kContentType.size() &&
               EqualsIgnoreCase(h.name, kContentType)) {
      ct = h.value;
    }
  }
  if (!id) {
    ++missing_id_;
  } else {
    WireCounters* counters = deliveries_.FindOrInsert(deliveries_.Prepare(*id));
    if (counters == nullptr) {  // New, and max_deliveries are tracked.
      ++untracked_;
    } else {
      WireCounters& c = *counters;
      const uint64_t hash = BodyHash(request);
      if (c.requests == 0) {
        c.first_body_hash = hash;
        c.first_body_size = request.body.size();
      } else if (hash != c.first_body_hash ||
                 request.body.size() != c.first_body_size) {
        ++c.body_changes;
      }
      ++c.requests;
      if (!DivshotContract().MethodOk(request.method)) ++c.non_post;
      if (!ct || !DivshotContract().ContentTypeOk(*ct)) ++c.bad_content_type;
    }
  }
  inner_.Send(request, timeout, std::move(done));
}

}  // namespace hooksim
