#include "sim/virtual/virtual_network.h"

namespace hooksim {

std::string_view UrlPath(std::string_view url) {
  const size_t scheme = url.find("://");
  const size_t host_start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const size_t slash = url.find('/', host_start);
  if (slash == std::string_view::npos) return "/";
  return url.substr(slash);
}

void VirtualNetwork::Attach(std::string url, MockReceiver* receiver) {
  routes_[std::move(url)] = receiver;
}

VirtualNetwork::Outcome VirtualNetwork::OutcomeOf(const Reply& reply,
                                          Duration timeout) {
  const Answer& answer = reply.answer;
  if (answer.fault == Fault::kHang || reply.latency >= timeout) {
    return {AttemptResult{AttemptError::kTimeout, 0}, timeout};
  }
  switch (answer.fault) {
    case Fault::kReset:
      return {AttemptResult{AttemptError::kReset, 0}, reply.latency};
    case Fault::kEmpty:
      return {AttemptResult{AttemptError::kEmptyReply, 0}, reply.latency};
    case Fault::kGarbage:
      return {AttemptResult{AttemptError::kMalformed, 0}, reply.latency};
    case Fault::kDribble:  // The 200 is complete once the latency is over.
    case Fault::kNone:
    case Fault::kHang:
      break;
  }
  return {AttemptResult{AttemptError::kNone, answer.status}, reply.latency};
}

void VirtualNetwork::Complete(Duration after,
                          std::function<void(AttemptResult)> done,
                          AttemptResult result) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    pending_[slot] = Pending{std::move(done), result};
  } else {
    slot = static_cast<uint32_t>(pending_.size());
    pending_.push_back(Pending{std::move(done), result});
  }
  clock_.ScheduleAfter(after, [this, slot] {
    Pending p = std::move(pending_[slot]);
    pending_[slot].done = nullptr;
    free_slots_.push_back(slot);
    p.done(p.result);
  });
}

void VirtualNetwork::Send(const HttpRequest& request, Duration timeout,
                      std::function<void(AttemptResult)> done) {
  auto it = routes_.find(request.target);
  if (it == routes_.end()) {
    Complete(Duration::zero(), std::move(done),
             AttemptResult{AttemptError::kRefused, 0});
    return;
  }
  HttpRequest at_receiver = request;
  at_receiver.target = UrlPath(request.target);
  int delivery_attempt = 0;
  const Reply reply =
      it->second->Handle(at_receiver, clock_.Now(), &delivery_attempt);
  Outcome outcome = OutcomeOf(reply, timeout);
  const std::string_view retry_after = reply.answer.RetryAfter();
  if (outcome.result.error == AttemptError::kNone && !retry_after.empty()) {
    // Dates are read against the virtual timeline's default Unix origin.
    const int64_t now_unix_s =
        kDefaultStartUnixSeconds +
        std::chrono::duration_cast<std::chrono::seconds>(
            clock_.Now().time_since_epoch())
            .count();
    outcome.result.retry_after_ms =
        ParseRetryAfter(retry_after, now_unix_s);
  }
  if (outcome.result.error == AttemptError::kTimeout) {
    // The sender stops waiting before the answer is out; the receiver must
    // not count it as delivered.
    it->second->MarkAbandoned(at_receiver, delivery_attempt);
  }
  Complete(outcome.after, std::move(done), outcome.result);
}

}  // namespace hooksim
