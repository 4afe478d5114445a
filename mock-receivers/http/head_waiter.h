// Waits, on one thread, for the next request head of many idle or slow
// connections, so that a connection holds one of the HTTP receiver's
// serving threads only while a complete request head is there to serve.
//
// Why: cpp-httplib serves each connection on one pool thread for its whole
// life, so idle keep-alive connections and clients that trickle their
// headers (slowloris) each hold a thread, and a few dozen of them starve
// every well-formed sender. Parked here they cost a descriptor and a
// bounded buffer, and a thread only again once a whole head has arrived.
//
// Park() hands over a connection (its descriptor, the bytes already read
// from it, and what its owner wants to keep with it). The waiter reads
// what arrives, at most max_head_bytes, and
//   - dispatches the connection (on the waiter's thread; `dispatch` must
//     not block for long) once the buffered bytes hold a complete head
//     (CRLF CRLF, or LF LF) or max_head_bytes of them (the HTTP parser then
//     refuses it as too large);
//   - closes it when the peer closes or resets it, after idle_timeout with
//     no byte of a next request (a keep-alive timeout), or, once the first
//     byte of a head has arrived, when the whole head has not arrived
//     within header_timeout (then "408 Request Timeout" is sent first, if
//     the socket takes it at once).
// Every connection Park() takes is either dispatched or closed (then
// on_closed runs), exactly once; Stop() closes those still parked.
//
// Thread: Park, Stop and parked() from any thread; dispatch and on_closed
// run on the waiter's thread (or on Park's caller when a Park comes after
// Stop). Errors: Start fails when the kernel refuses epoll or eventfd.
#ifndef HOOKSIM_MOCK_RECEIVERS_HTTP_HEAD_WAITER_H_
#define HOOKSIM_MOCK_RECEIVERS_HTTP_HEAD_WAITER_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
#include <cstdint>

#include "sim/base/result.h"

namespace hooksim {

// True when `bytes` hold the end of an HTTP request head.
bool HasCompleteHead(std::string_view bytes);

struct ParkedConnection {
  int fd = -1;
  std::string buffered;      // Bytes read from fd and not yet parsed.
  size_t requests_left = 0;  // The owner's keep-alive budget, carried along.
  // Runs (on the waiter's thread) when the peer resets the connection
  // before a byte of a next request: it never read the last answer.
  std::function<void()> on_reset;
  uint64_t id = 0;  // The owner's name for the connection.
};

struct HeadWaiterOptions {
  size_t max_head_bytes = 64 << 10;
  std::chrono::milliseconds idle_timeout{5000};
  std::chrono::milliseconds header_timeout{10000};
};

class HeadWaiter {
 public:
  using Dispatch = std::function<void(ParkedConnection)>;
  // on_head_timeout (may be null) runs on the waiter's thread for a
  // connection closed with 408 because its head did not arrive in time,
  // with what had arrived of it, before it is closed.
  HeadWaiter(HeadWaiterOptions options, Dispatch dispatch,
             std::function<void()> on_closed,
             std::function<void(const ParkedConnection&)> on_head_timeout =
                 nullptr);
  ~HeadWaiter();  // Stops.
  HeadWaiter(const HeadWaiter&) = delete;
  HeadWaiter& operator=(const HeadWaiter&) = delete;

  Status Start();
  // Takes ownership of connection.fd. After Stop (or before Start), closes
  // it at once.
  void Park(ParkedConnection connection);
  // Closes every parked connection and joins the thread. Idempotent.
  void Stop();

  size_t parked() const { return parked_.load(std::memory_order_relaxed); }

 private:
  struct Entry;
  void Loop();
  void Close(int fd, bool timed_out_in_head);

  const HeadWaiterOptions options_;
  const Dispatch dispatch_;
  const std::function<void()> on_closed_;
  const std::function<void(const ParkedConnection&)> on_head_timeout_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::mutex mu_;
  bool running_ = false;                    // Guarded by mu_.
  bool stopping_ = false;                   // Guarded by mu_.
  std::vector<ParkedConnection> incoming_;  // Guarded by mu_.
  std::atomic<size_t> parked_{0};
};

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_HTTP_HEAD_WAITER_H_
