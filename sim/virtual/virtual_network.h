// The virtual world's network: a Transport that hands each request to the
// mock receiver registered for its URL and schedules the answer on the
// virtual clock after the receiver's latency.
//
// A URL with no receiver is refused. A hang, or a latency at or beyond the
// attempt's timeout, ends in a timeout when the timeout expires. Faults map
// to the sender-side errors: reset -> kReset, empty -> kEmptyReply,
// garbage -> kMalformed; dribble is its 200 after the latency (so a timeout
// when the latency is at or beyond the timeout, like any slow answer).
// Thread: single-threaded, on the clock's loop. Ownership: receivers and
// the clock are borrowed and must outlive the network.
#ifndef HOOKSIM_SIM_VIRTUAL_VIRTUAL_NETWORK_H_
#define HOOKSIM_SIM_VIRTUAL_VIRTUAL_NETWORK_H_

#include <map>
#include <string>
#include <vector>

#include "mock-receivers/receiver.h"
#include "sim/engine/clock.h"
#include "sim/engine/transport.h"

namespace hooksim {

class VirtualNetwork : public Transport {
 public:
  explicit VirtualNetwork(Clock& clock) : clock_(clock) {}

  // Routes requests whose URL equals `url` to `receiver`.
  void Attach(std::string url, MockReceiver* receiver);

  void Send(const HttpRequest& request, Duration timeout,
            std::function<void(AttemptResult)> done) override;

  // Maps a receiver's reply to what the sender sees, and when.
  struct Outcome {
    AttemptResult result;
    Duration after{0};
  };
  static Outcome OutcomeOf(const Reply& reply, Duration timeout);

 private:
  // Schedules done(result) after `after` without allocating: the callback
  // waits in a slot, and the timer captures only the slot number.
  void Complete(Duration after, std::function<void(AttemptResult)> done,
                AttemptResult result);

  struct Pending {
    std::function<void(AttemptResult)> done;
    AttemptResult result;
  };

  Clock& clock_;
  std::map<std::string, MockReceiver*, std::less<>> routes_;
  std::vector<Pending> pending_;
  std::vector<uint32_t> free_slots_;
};

// The path part of an absolute URL ("http://h:1/a?b" -> "/a?b"; "/" when
// there is none).
std::string_view UrlPath(std::string_view url);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_VIRTUAL_VIRTUAL_NETWORK_H_
