// EngineOptions::slots (the slot pool) and the ended observer: with slots
// kEnded, ended deliveries and their events are released and their slots
// reused; ids and retry delays do not change; the default keeps all.
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "sim/engine/delivery_engine.h"
#include "sim/virtual/virtual_clock.h"

namespace hooksim {
namespace {

// Answers each attempt after 10 ms with the next scripted status (200 once
// the script is empty), and logs what it was sent.
class ScriptTransport : public Transport {
 public:
  explicit ScriptTransport(Clock& clock) : clock_(clock) {}
  void Send(const HttpRequest& request, Duration,
            std::function<void(AttemptResult)> done) override {
    log.push_back(std::string(*request.FindHeader(kDeliveryIdHeader)) + " " +
                  std::string(*request.FindHeader(kAttemptHeader)) + " " +
                  std::string(request.body) + " @" +
                  std::to_string(clock_.Now().time_since_epoch().count()));
    int status = 200;
    if (!script.empty()) {
      status = script.front();
      script.pop_front();
    }
    clock_.ScheduleAfter(Millis(10), [done = std::move(done), status] {
      done(AttemptResult{AttemptError::kNone, status});
    });
  }
  std::deque<int> script;
  std::vector<std::string> log;

 private:
  Clock& clock_;
};

struct Ended {
  std::string id;
  DeliveryState state;
  int attempts;
  std::string body;
};

struct Outcome {
  std::vector<std::string> log;
  std::vector<Ended> ended;
  size_t delivery_slots = 0;
  size_t event_slots = 0;
  size_t max_slots_seen = 0;
};

// Publishes `events` events to two hooks one after another, running the
// clock in between, with every third attempt answered 500.
Outcome PublishAndRun(bool keep_all, int events) {
  VirtualClock clock;
  ScriptTransport transport(clock);
  for (int i = 0; i < 1000; ++i) transport.script.push_back(i % 3 ? 200 : 500);
  EngineOptions options;
  options.slots = keep_all ? SlotReuse::kNone : SlotReuse::kEnded;
  DeliveryEngine engine(clock, transport, options);
  engine.AddHook(Hook{"a", "http://a/", true});
  engine.AddHook(Hook{"b", "http://b/", true});
  Outcome out;
  engine.SetEndedObserver([&out](const Delivery& d, const EventRecord& e) {
    out.ended.push_back(Ended{d.id.str(), d.state, d.attempts, e.body});
  });
  for (int i = 0; i < events; ++i) {
    EXPECT_TRUE(
        engine.Publish("release", "{\"n\":" + std::to_string(i) + "}").ok());
    EXPECT_TRUE(clock.Run(100000).ok());
    out.max_slots_seen =
        std::max(out.max_slots_seen, engine.deliveries().size());
  }
  EXPECT_EQ(engine.open_deliveries(), 0u);
  out.log = transport.log;
  out.delivery_slots = engine.deliveries().size();
  out.event_slots = engine.events().size();
  return out;
}

TEST(EngineReleaseTest, DefaultKeepsEveryDeliveryAndEvent) {
  const Outcome kept = PublishAndRun(/*keep_all=*/true, 20);
  EXPECT_EQ(kept.delivery_slots, 40u);
  EXPECT_EQ(kept.event_slots, 20u);
  EXPECT_EQ(kept.ended.size(), 40u);  // The observer sees each one once.
}

TEST(EngineReleaseTest, ReleasedSlotsAreReusedWithTheSameIdsAndDelays) {
  const Outcome kept = PublishAndRun(/*keep_all=*/true, 20);
  const Outcome released = PublishAndRun(/*keep_all=*/false, 20);
  // Two deliveries open at once at most, one event: the slots are reused.
  EXPECT_EQ(released.delivery_slots, 2u);
  EXPECT_EQ(released.event_slots, 1u);
  EXPECT_EQ(released.max_slots_seen, 2u);
  // Same requests (ids, attempt numbers, bodies) at the same times, and the
  // same deliveries ending the same way with their event's body.
  EXPECT_EQ(released.log, kept.log);
  ASSERT_EQ(released.ended.size(), kept.ended.size());
  for (size_t i = 0; i < kept.ended.size(); ++i) {
    EXPECT_EQ(released.ended[i].id, kept.ended[i].id);
    EXPECT_EQ(released.ended[i].state, kept.ended[i].state);
    EXPECT_EQ(released.ended[i].attempts, kept.ended[i].attempts);
    EXPECT_EQ(released.ended[i].body, kept.ended[i].body);
  }
  // Some deliveries were retried, so delays were drawn.
  bool retried = false;
  for (const Ended& e : released.ended) retried |= e.attempts > 1;
  EXPECT_TRUE(retried);
}

TEST(EngineReleaseTest, EndedEventsLoseTheirBodies) {
  VirtualClock clock;
  ScriptTransport transport(clock);
  EngineOptions options;
  options.slots = SlotReuse::kEnded;
  DeliveryEngine engine(clock, transport, options);
  engine.AddHook(Hook{"a", "http://a/", true});
  ASSERT_TRUE(engine.Publish("release", std::string(4096, ' ') + "{}").ok());
  EXPECT_EQ(engine.events()[0].body.size(), 4098u);
  ASSERT_TRUE(clock.Run(1000).ok());
  EXPECT_TRUE(engine.events()[0].body.empty());
  EXPECT_EQ(engine.open_deliveries(), 0u);
}

TEST(EngineReleaseTest, BodiesModeKeepsEveryRecordButDropsEndedBodies) {
  // kBodies (a run's record): every delivery and event keeps its slot; an
  // event's body goes only once all its deliveries have ended (so one with
  // a delivery still being retried keeps it), and the requests are those
  // of the default mode.
  VirtualClock clock;
  ScriptTransport transport(clock);
  EngineOptions options;
  options.slots = SlotReuse::kBodies;
  options.policy.schedule = {Millis(100)};
  options.policy.jitter = 0;
  DeliveryEngine engine(clock, transport, options);
  engine.AddHook(Hook{"a", "http://a/", true});
  engine.AddHook(Hook{"b", "http://b/", true});
  // Event 0: hook a's delivery fails once (500) and is retried at 110 ms;
  // hook b's is delivered at 10 ms. Event 1 (published at 50 ms): both
  // delivered at 60 ms.
  transport.script = {500, 200};
  ASSERT_TRUE(engine.Publish("release", "{\"n\":0}").ok());
  clock.ScheduleAfter(Millis(50), [&engine] {
    EXPECT_TRUE(engine.Publish("release", "{\"n\":1}").ok());
  });
  std::string body0_at_80ms = "unset", body1_at_80ms = "unset";
  clock.ScheduleAfter(Millis(80), [&] {
    body0_at_80ms = engine.events()[0].body;
    body1_at_80ms = engine.events()[1].body;
  });
  ASSERT_TRUE(clock.Run(1000).ok());
  EXPECT_EQ(body0_at_80ms, "{\"n\":0}") << "a delivery was open";
  EXPECT_EQ(body1_at_80ms, "") << "both were delivered";
  EXPECT_EQ(engine.events()[1].type, "release") << "the record stays";
  EXPECT_TRUE(engine.events()[0].body.empty());
  EXPECT_EQ(engine.events().size(), 2u);
  ASSERT_EQ(engine.deliveries().size(), 4u);
  EXPECT_EQ(engine.deliveries()[0].attempts, 2);
  EXPECT_EQ(engine.open_deliveries(), 0u);
  // The retry carried the whole body.
  ASSERT_EQ(transport.log.size(), 5u);
  EXPECT_EQ(transport.log[4].substr(21), "2 {\"n\":0} @110000");
}

TEST(EngineReleaseTest, LimitBoundsOpenDeliveriesWhenReleasing) {
  VirtualClock clock;
  ScriptTransport transport(clock);
  EngineOptions options;
  options.slots = SlotReuse::kEnded;
  options.max_deliveries = 2;
  DeliveryEngine engine(clock, transport, options);
  engine.AddHook(Hook{"a", "http://a/", true});
  engine.AddHook(Hook{"b", "http://b/", true});
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(engine.Publish("release", "{}").ok()) << i;
    // Two open: a third delivery would pass the limit.
    EXPECT_FALSE(engine.Publish("release", "{}").ok());
    ASSERT_TRUE(clock.Run(1000).ok());
  }
  EXPECT_EQ(engine.deliveries().size(), 2u);
}

}  // namespace
}  // namespace hooksim
