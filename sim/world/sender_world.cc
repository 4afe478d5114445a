#include "sim/world/sender_world.h"

#include <chrono>

#include "sim/http/http_transport.h"
#include "sim/http/real_clock.h"
#include "sim/virtual/virtual_clock.h"
#include "sim/virtual/virtual_network.h"

namespace hooksim {

std::string_view WorldName(World world) {
  return world == World::kHttp ? "http" : "sim";
}

Result<std::unique_ptr<SenderWorld>> SenderWorld::Make(
    const SenderWorldOptions& options) {
  std::unique_ptr<SenderWorld> w(new SenderWorld());
  w->world_ = options.world;
  if (options.world == World::kHttp) {
    if (!(options.time_scale > 0 && options.time_scale <= 1)) {
      return Status::InvalidArgument("time scale must be in (0, 1], got " +
                                     std::to_string(options.time_scale));
    }
    RealClockOptions copts;
    copts.time_scale = options.time_scale;
    auto clock = std::make_unique<RealClock>(copts);
    HttpTransportOptions topts;
    topts.workers = options.http_workers;
    auto http = std::make_unique<HttpTransport>(*clock, topts);
    w->http_ = http.get();
    w->transport_ = std::move(http);
    w->unix_origin_ = UnixTimeNow() - clock->Now().time_since_epoch();
    w->loop_ = std::move(clock);
    return w;
  }
  auto clock = std::make_unique<VirtualClock>();
  auto network = std::make_unique<VirtualNetwork>(*clock);
  for (const auto& [url, receiver] : options.receivers) {
    network->Attach(url, receiver);
  }
  w->start_unix_ms_ = options.start_unix_ms;
  w->unix_origin_ = Millis(options.start_unix_ms);
  w->transport_ = std::move(network);
  w->loop_ = std::move(clock);
  return w;
}

SenderWorld::~SenderWorld() {
  Shutdown();
  http_ = nullptr;
  transport_.reset();
  loop_.reset();
}

void SenderWorld::Shutdown() {
  if (http_ != nullptr) http_->Shutdown();
}

int64_t SenderWorld::WallNowMs() const {
  if (world_ == World::kHttp) return hooksim::WallNowMs();
  return start_unix_ms_ + ToMillis(loop_->Now().time_since_epoch());
}

DurableEnv SenderWorld::Durable() {
  DurableEnv env;
  env.loop = loop_.get();
  env.transport = transport_.get();
  env.wall_now_ms = [this] { return WallNowMs(); };
  env.unix_origin = unix_origin_;
  env.stop_transport = [this] { Shutdown(); };
  return env;
}

DurableRunSummary RunDurableDeliveries(DeliveryStore& store,
                                       const DurableRunOptions& options,
                                       std::ostream& out) {
  SenderWorldOptions wopts;
  wopts.world = World::kHttp;
  wopts.http_workers = static_cast<size_t>(options.concurrency);
  Result<std::unique_ptr<SenderWorld>> world = SenderWorld::Make(wopts);
  if (!world.ok()) {
    DurableRunSummary summary;
    summary.error = world.error();
    return summary;
  }
  DurableRunner runner(store, (*world)->Durable(), options, out);
  LoopLimits limits;
  if (options.keep_running) limits.wall_limit = std::chrono::hours(24 * 3650);
  return runner.Run(limits);
}

}  // namespace hooksim
