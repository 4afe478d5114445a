// The network seam of the delivery engine.
//
// Send() starts one HTTP attempt and calls `done` exactly once, on the
// clock's loop thread and never inline inside Send(): with the answer's
// status, or with the error that prevented one (timeout, refused, reset,
// empty reply, malformed answer). Redirects are never followed: a 3xx is an
// answer like any other. The request's views (URL, headers, body) must stay
// valid until `done` has been called.
#ifndef HOOKSIM_SIM_ENGINE_TRANSPORT_H_
#define HOOKSIM_SIM_ENGINE_TRANSPORT_H_

#include <functional>

#include "sim/base/time.h"
#include "sim/contract/http_types.h"

namespace hooksim {

class Transport {
 public:
  virtual ~Transport() = default;
  virtual void Send(const HttpRequest& request, Duration timeout,
                    std::function<void(AttemptResult)> done) = 0;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_ENGINE_TRANSPORT_H_
