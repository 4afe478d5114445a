// One event-driven I/O thread of HttpTransport: non-blocking sockets on
// epoll (edge-triggered), many connections, up to `slots` attempts in
// flight at once; attempts submitted beyond that wait in order.
//
// Each attempt follows the wire rules of sim/http/http_wire.h exactly: the
// same request head, TCP_NODELAY, IPv4 addresses first, the same
// AttemptError kinds, the same answer parser (sim/http/http_answer_parser.h,
// whose caps bound what an answer may make it read), keep-alive reuse per
// host:port, and the stale rule: a kept connection found closed when taken
// is replaced (found by epoll: an idle connection that epoll reports
// readable, ended or broken is marked; before a round hands idle
// connections out it collects what epoll has, in one epoll_wait for all of
// them), and a request whose write on a reused connection failed
// before any byte was accepted is sent once more on a new connection; a
// request fully written is never sent again. Idle connections are kept per
// host:port (most recent first, at most max_idle_keys host:port pairs, each
// at most `slots` connections, none older than max_idle).
//
// Deadline: `timeout` (wall time) bounds connect, write and reading the
// complete answer, from the moment the attempt starts (takes a slot); time
// waiting for a slot is not counted.
//
// Completions: each finished attempt's `done(result)` is handed to the
// clock's loop thread with EventLoop::CompleteAttempts, batched per round
// of the I/O loop; never run on the I/O thread. Nothing is allocated per
// attempt once the queues have grown: the job's `done` moves from Submit
// to the clock's queue as it is, and deadlines sit in one slot each.
//
// Wake-ups: a Submit wakes the loop's thread only when it has a free slot
// (else the job waits for its next round, which an answer or a deadline
// brings), at most once until the thread has looked.
//
// Thread: Submit from any thread; the loop runs on its own thread. Or, with
// in_clock_loop, no thread of its own: the clock's loop thread runs it
// while it waits for timers and completions (EventLoop::SetPoller), so an
// attempt's answer is read and its `done` run without any thread handoff;
// Submit is then for the clock's loop thread only.
// Ownership: clock, addresses and counters are borrowed and must outlive
// the loop. Stop() (also run by the destructor) ends the thread, closes
// every connection and drops attempts in flight or waiting without calling
// their `done`. Aborts (with a message) if epoll or eventfd cannot be made.
#ifndef HOOKSIM_SIM_HTTP_HTTP_IO_LOOP_H_
#define HOOKSIM_SIM_HTTP_HTTP_IO_LOOP_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "sim/contract/http_types.h"
#include "sim/http/address_cache.h"
#include "sim/http/http_answer_parser.h"
#include "sim/http/http_wire.h"
#include "sim/engine/event_loop.h"

namespace hooksim {

struct HttpIoLoopOptions {
  // False: the loop runs on its own thread. True: no thread; the loop is
  // the clock's poller (EventLoop::SetPoller), run by the clock's loop
  // thread while it waits, and Submit must be called on that thread. When
  // the clock has another poller already, it runs on its own thread.
  bool in_clock_loop = false;
  size_t slots = 16;  // Attempts in flight at once (>= 1).
  std::chrono::steady_clock::duration max_idle = std::chrono::seconds(4);
  size_t max_idle_keys = 64;  // Distinct host:port pairs kept idle.
  HttpAnswerParserOptions parser;
};

struct HttpIoJob {
  HttpRequest request;  // Views valid until `done` is called.
  std::chrono::steady_clock::duration timeout;  // Wall time.
  std::function<void(AttemptResult)> done;
};

class HttpIoLoop : public LoopPoller {
 public:
  HttpIoLoop(EventLoop& clock, AddressCache& addresses,
             HttpClientCounters& counters, HttpIoLoopOptions options);
  ~HttpIoLoop() override;
  HttpIoLoop(const HttpIoLoop&) = delete;
  HttpIoLoop& operator=(const HttpIoLoop&) = delete;

  void Submit(HttpIoJob job);
  // Jobs submitted and not yet finished by the loop (waiting or in flight;
  // a finished one's `done` may still be on its way to the clock's loop
  // thread). Any thread; a snapshot.
  size_t unfinished() const {
    return unfinished_.load(std::memory_order_relaxed);
  }
  // Idempotent; see the header comment. In the in-loop mode, call it on
  // the clock's loop thread while the clock is not running.
  void Stop();

  // LoopPoller (in_clock_loop only).
  void Poll(std::chrono::steady_clock::time_point until) override;
  void Wake() override;

 private:
  class State;  // Everything the I/O thread owns.
  // Jobs handed from Submit to the loop's thread.
  struct Inbox {
    std::mutex mu;
    std::vector<HttpIoJob> jobs;  // Guarded by mu.
    // Guarded by mu. A Submit writes the eventfd only when neither is set:
    // a wake-up is already on its way, or every slot of the loop is busy,
    // so that it reads the inbox at its next round anyway (which an
    // answer or a deadline brings) and a wake-up would find no slot.
    bool wake_pending = false;
    bool slots_full = false;
  };

  void Run();

  EventLoop& clock_;
  bool in_loop_;  // Set in the constructor.
  std::unique_ptr<State> state_;
  int wake_fd_ = -1;  // eventfd: Submit and Stop wake the loop.

  Inbox inbox_;
  std::atomic<size_t> unfinished_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_HTTP_HTTP_IO_LOOP_H_
