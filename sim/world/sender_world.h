// A sender's world without a scenario: the event loop and the network a
// delivery engine runs on, and the wall time it keeps. The one factory for
// both worlds: `run` (RunScenario's HTTP world), `deliver --url` and the
// durable sender (store-backed `deliver`, `worker`) build theirs here, and
// tests build the virtual one to run the durable sender in virtual time.
//
// Virtual (World::kVirtual): a VirtualClock and a VirtualNetwork routing
// each URL to a borrowed MockReceiver; wall time is start_unix_ms plus the
// clock's Now(), so leases and due times move in virtual time.
// HTTP (World::kHttp): a RealClock (time_scale) and an HttpTransport with
// http_workers connections; wall time is the system clock.
// Thread: built and used on one thread (the loop's); Shutdown() after the
// loop's Run() has returned. Ownership: receivers are borrowed and must
// outlive the world.
#ifndef HOOKSIM_SIM_WORLD_SENDER_WORLD_H_
#define HOOKSIM_SIM_WORLD_SENDER_WORLD_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "mock-receivers/receiver.h"
#include "sim/base/result.h"
#include "sim/base/time.h"
#include "sim/durable/durable_delivery.h"
#include "sim/durable/state_store.h"
#include "sim/engine/event_loop.h"
#include "sim/engine/transport.h"

namespace hooksim {

class HttpTransport;

enum class World { kVirtual, kHttp };
std::string_view WorldName(World world);  // "sim", "http"

struct SenderWorldOptions {
  World world = World::kHttp;
  // HTTP: wall seconds per run-time second, in (0, 1].
  double time_scale = 1.0;
  // HTTP: connections, i.e. attempts in flight at once.
  size_t http_workers = 16;
  // Virtual: the Unix time (ms) of the clock's zero.
  int64_t start_unix_ms = kDefaultStartUnixSeconds * 1000;
  // Virtual: where each URL goes (borrowed). Other URLs are refused.
  std::vector<std::pair<std::string, MockReceiver*>> receivers;
};

class SenderWorld {
 public:
  // Fails on a time scale outside (0, 1].
  static Result<std::unique_ptr<SenderWorld>> Make(
      const SenderWorldOptions& options);
  ~SenderWorld();  // Shutdown(), then the transport, then the loop.
  SenderWorld(const SenderWorld&) = delete;
  SenderWorld& operator=(const SenderWorld&) = delete;

  World world() const { return world_; }
  EventLoop& loop() { return *loop_; }
  Transport& transport() { return *transport_; }
  // Unix time of the loop's zero.
  Duration unix_origin() const { return unix_origin_; }
  // Unix time now, ms (see the top of this file).
  int64_t WallNowMs() const;
  // Stops the transport's threads (HTTP; nothing in the virtual world):
  // attempts in flight are abandoned. Idempotent.
  void Shutdown();
  // The durable sender's view of this world (borrows it).
  DurableEnv Durable();

 private:
  SenderWorld() = default;
  World world_ = World::kHttp;
  int64_t start_unix_ms_ = 0;
  Duration unix_origin_{0};
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Transport> transport_;
  HttpTransport* http_ = nullptr;  // The transport, in the HTTP world.
};

// The durable sender on real sockets (store-backed deliver, worker): a
// RealClock and an HttpTransport with options.concurrency connections;
// keep_running runs (practically) without a wall limit.
DurableRunSummary RunDurableDeliveries(DeliveryStore& store,
                                       const DurableRunOptions& options,
                                       std::ostream& out);

}  // namespace hooksim

#endif  // HOOKSIM_SIM_WORLD_SENDER_WORLD_H_
