#include "sim/engine/delivery_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/contract/webhook_signature.h"
#include "sim/virtual/virtual_clock.h"

namespace hooksim {
namespace {

// A transport that answers from a script and records every request.
class ScriptedTransport : public Transport {
 public:
  explicit ScriptedTransport(Clock& clock) : clock_(clock) {}

  struct Seen {
    std::string method, url, body;
    std::map<std::string, std::string> headers;
    int64_t at_ms;
  };

  void Send(const HttpRequest& request, Duration timeout,
            std::function<void(AttemptResult)> done) override {
    Seen s{std::string(request.method), std::string(request.target),
           std::string(request.body), {}, ToMillis(clock_.Now())};
    for (const Header& h : request.headers) {
      s.headers[std::string(h.name)] = std::string(h.value);
    }
    seen.push_back(std::move(s));
    last_timeout = timeout;
    AttemptResult r{AttemptError::kNone, 200};
    if (!script.empty()) {
      r = script.front();
      script.pop_front();
    }
    clock_.ScheduleAfter(latency, [done = std::move(done), r] { done(r); });
  }

  std::deque<AttemptResult> script;
  std::vector<Seen> seen;
  Duration latency{0};
  Duration last_timeout{0};

 private:
  Clock& clock_;
};

AttemptResult Status(int code) { return {AttemptError::kNone, code}; }
AttemptResult Err(AttemptError e) { return {e, 0}; }

class DeliveryEngineTest : public ::testing::Test {
 protected:
  DeliveryEngineTest() : transport_(clock_) {}
  VirtualClock clock_;
  ScriptedTransport transport_;
};

TEST_F(DeliveryEngineTest, SendsTheContractsRequestShape) {
  DeliveryEngine engine(clock_, transport_, EngineOptions{});
  engine.AddHook(Hook{"h1", "http://127.0.0.1:1/hook", true});
  const std::string body = R"({"event":"release","data":{}})";
  ASSERT_TRUE(engine.Publish("release", body).ok());
  ASSERT_TRUE(clock_.Run(100).ok());
  ASSERT_EQ(transport_.seen.size(), 1u);
  const auto& s = transport_.seen[0];
  EXPECT_EQ(s.method, "POST");
  EXPECT_EQ(s.url, "http://127.0.0.1:1/hook");
  EXPECT_EQ(s.body, body);
  EXPECT_EQ(s.headers.at("Content-Type"), "application/json");
  EXPECT_EQ(s.headers.at("User-Agent"), "hooksim/0.1.0");
  EXPECT_EQ(s.headers.at("X-Hooksim-Event"), "release");
  EXPECT_EQ(s.headers.at("X-Hooksim-Attempt"), "1");
  EXPECT_EQ(s.headers.at("X-Hooksim-Delivery").rfind("dlv_", 0), 0u);
  EXPECT_EQ(transport_.last_timeout, std::chrono::seconds(10));
  ASSERT_EQ(engine.deliveries().size(), 1u);
  EXPECT_EQ(engine.deliveries()[0].state, DeliveryState::kDelivered);
  EXPECT_EQ(engine.open_deliveries(), 0u);
}

TEST_F(DeliveryEngineTest, EveryNon2xxAndErrorIsRetriedThenDelivered) {
  DeliveryEngine engine(clock_, transport_, EngineOptions{});
  engine.AddHook(Hook{"h1", "http://x/hook", true});
  transport_.script = {Status(302), Status(404), Status(410),
                       Err(AttemptError::kTimeout), Err(AttemptError::kReset),
                       Status(201)};
  ASSERT_TRUE(engine.Publish("release", "{}").ok());
  ASSERT_TRUE(clock_.Run(1000).ok());
  ASSERT_EQ(transport_.seen.size(), 6u);
  const std::string id = transport_.seen[0].headers.at("X-Hooksim-Delivery");
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(transport_.seen[i].headers.at("X-Hooksim-Delivery"), id);
    EXPECT_EQ(transport_.seen[i].headers.at("X-Hooksim-Attempt"),
              std::to_string(i + 1));
    EXPECT_EQ(transport_.seen[i].body, "{}");
  }
  EXPECT_EQ(engine.deliveries()[0].state, DeliveryState::kDelivered);
  EXPECT_EQ(engine.deliveries()[0].attempts, 6);
  ASSERT_EQ(engine.attempts().size(), 6u);
  EXPECT_TRUE(engine.attempts()[4].next_at.has_value());
  EXPECT_FALSE(engine.attempts()[5].next_at.has_value());
}

TEST_F(DeliveryEngineTest, GivesUpAfterSixAttempts) {
  DeliveryEngine engine(clock_, transport_, EngineOptions{});
  engine.AddHook(Hook{"h1", "http://x/hook", true});
  for (int i = 0; i < 10; ++i) transport_.script.push_back(Status(500));
  ASSERT_TRUE(engine.Publish("release", "{}").ok());
  ASSERT_TRUE(clock_.Run(1000).ok());
  EXPECT_EQ(transport_.seen.size(), 6u);
  EXPECT_EQ(engine.deliveries()[0].state, DeliveryState::kGaveUp);
  EXPECT_EQ(engine.deliveries()[0].last.status, 500);
}

TEST_F(DeliveryEngineTest, DelaysFollowTheScheduleFromTheEndOfEachAttempt) {
  EngineOptions options;
  options.policy.jitter = 0;
  DeliveryEngine engine(clock_, transport_, options);
  engine.AddHook(Hook{"h1", "http://x/hook", true});
  transport_.latency = Millis(100);
  for (int i = 0; i < 10; ++i) transport_.script.push_back(Status(503));
  ASSERT_TRUE(engine.Publish("release", "{}").ok());
  ASSERT_TRUE(clock_.Run(1000).ok());
  ASSERT_EQ(transport_.seen.size(), 6u);
  const int64_t expected[] = {0,
                              100 + 5'000,
                              200 + 5'000 + 300'000,
                              300 + 5'000 + 300'000 + 1'800'000,
                              400 + 5'000 + 300'000 + 1'800'000 + 7'200'000,
                              500 + 5'000 + 300'000 + 1'800'000 + 7'200'000 +
                                  18'000'000};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(transport_.seen[i].at_ms, expected[i]) << "attempt " << i + 1;
  }
}

TEST_F(DeliveryEngineTest, JitterKeepsDelaysWithinTwentyPercent) {
  DeliveryEngine engine(clock_, transport_, EngineOptions{});
  engine.AddHook(Hook{"h1", "http://x/hook", true});
  for (int i = 0; i < 400; ++i) transport_.script.push_back(Status(500));
  for (int e = 0; e < 50; ++e) ASSERT_TRUE(engine.Publish("release", "{}").ok());
  ASSERT_TRUE(clock_.Run(100000).ok());
  bool saw_jitter = false;
  for (const AttemptRecord& a : engine.attempts()) {
    if (!a.next_at) continue;
    const Duration base = engine.options().policy.BaseDelay(a.attempt);
    const Duration delay = *a.next_at - a.ended;
    EXPECT_GE(delay.count(), base.count() * 0.8 - 1);
    EXPECT_LE(delay.count(), base.count() * 1.2 + 1);
    saw_jitter |= delay != base;
  }
  EXPECT_TRUE(saw_jitter);
}

TEST_F(DeliveryEngineTest, PausedHooksGetHeldDeliveriesAndNothingIsSent) {
  DeliveryEngine engine(clock_, transport_, EngineOptions{});
  engine.AddHook(Hook{"a", "http://a/", true});
  const uint32_t b = engine.AddHook(Hook{"b", "http://b/", true});
  engine.AddHook(Hook{"c", "http://c/", false});
  ASSERT_TRUE(engine.Publish("release", "{}").ok());
  engine.SetHookActive(b, false);
  ASSERT_TRUE(engine.Publish("release", "{}").ok());
  ASSERT_TRUE(clock_.Run(100).ok());
  // Every event gets a delivery to every hook: a,b,c then a,b,c.
  ASSERT_EQ(engine.deliveries().size(), 6u);
  std::set<std::string> ids;
  for (const Delivery& d : engine.deliveries()) ids.insert(d.id.str());
  EXPECT_EQ(ids.size(), 6u);
  for (const auto& s : transport_.seen) {
    EXPECT_NE(s.url, "http://c/");
  }
  // b was paused before its second delivery could start (the first
  // attempt is scheduled, not made, by Publish).
  const auto& d = engine.deliveries();
  EXPECT_EQ(d[0].state, DeliveryState::kDelivered);
  EXPECT_EQ(d[1].state, DeliveryState::kHeld);
  EXPECT_EQ(d[2].state, DeliveryState::kHeld);
  EXPECT_EQ(d[3].state, DeliveryState::kDelivered);
  EXPECT_EQ(d[4].state, DeliveryState::kHeld);
  EXPECT_EQ(d[5].state, DeliveryState::kHeld);
  EXPECT_EQ(transport_.seen.size(), 2u);
  EXPECT_EQ(engine.held_deliveries(), 4u);
  EXPECT_EQ(engine.open_deliveries(), 4u);
  ASSERT_EQ(engine.hook_changes().size(), 2u);
  EXPECT_EQ(engine.hook_changes()[0].hook, 2u);  // c, added paused.
  EXPECT_FALSE(engine.hook_changes()[0].active);
  EXPECT_EQ(engine.hook_changes()[1].hook, b);
}

TEST_F(DeliveryEngineTest, ResumeDeliversHeldDeliveriesInCreationOrder) {
  DeliveryEngine engine(clock_, transport_, EngineOptions{});
  const uint32_t h = engine.AddHook(Hook{"h", "http://h/", false});
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        engine.Publish("release", "{\"n\":" + std::to_string(i) + "}").ok());
  }
  clock_.ScheduleAfter(Millis(60'000), [&] { engine.SetHookActive(h, true); });
  ASSERT_TRUE(clock_.Run(100).ok());
  ASSERT_EQ(transport_.seen.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(transport_.seen[i].body, "{\"n\":" + std::to_string(i) + "}");
    EXPECT_EQ(transport_.seen[i].at_ms, 60'000);
    EXPECT_EQ(engine.deliveries()[i].state, DeliveryState::kDelivered);
    EXPECT_EQ(engine.deliveries()[i].holds, 1);
  }
  EXPECT_EQ(engine.held_deliveries(), 0u);
  EXPECT_EQ(engine.open_deliveries(), 0u);
}

TEST_F(DeliveryEngineTest, InFlightAttemptEndsAndItsReattemptIsHeld) {
  EngineOptions options;
  options.policy.jitter = 0;
  DeliveryEngine engine(clock_, transport_, options);
  const uint32_t h = engine.AddHook(Hook{"h", "http://h/", true});
  transport_.latency = Millis(100);
  transport_.script = {Status(503), Status(503), Status(200)};
  ASSERT_TRUE(engine.Publish("release", "{}").ok());
  // Paused while attempt 1 is in flight (0..100 ms): it is not recalled.
  clock_.ScheduleAfter(Millis(50), [&] { engine.SetHookActive(h, false); });
  // Re-attempt 2 falls due at 5,100 ms, held; resumed at 1 h.
  clock_.ScheduleAfter(Millis(3'600'000),
                       [&] { engine.SetHookActive(h, true); });
  ASSERT_TRUE(clock_.Run(1000).ok());
  ASSERT_EQ(transport_.seen.size(), 3u);
  EXPECT_EQ(transport_.seen[0].at_ms, 0);
  EXPECT_EQ(transport_.seen[1].at_ms, 3'600'000);
  // Attempt 3 follows its own schedule (5 min after attempt 2 ended).
  EXPECT_EQ(transport_.seen[2].at_ms, 3'600'000 + 100 + 300'000);
  const Delivery& d = engine.deliveries()[0];
  EXPECT_EQ(d.state, DeliveryState::kDelivered);
  EXPECT_EQ(d.attempts, 3);
  EXPECT_EQ(d.holds, 1);
  ASSERT_EQ(engine.attempts().size(), 3u);
  EXPECT_EQ(ToMillis(engine.attempts()[0].ended), 100);
}

TEST_F(DeliveryEngineTest, PausingTwiceOrResumingAnActiveHookChangesNothing) {
  DeliveryEngine engine(clock_, transport_, EngineOptions{});
  const uint32_t h = engine.AddHook(Hook{"h", "http://h/", true});
  engine.SetHookActive(h, true);
  engine.SetHookActive(h, false);
  engine.SetHookActive(h, false);
  engine.SetHookActive(7, false);  // Unknown index: ignored.
  EXPECT_EQ(engine.hook_changes().size(), 1u);
}

TEST_F(DeliveryEngineTest, SignsEveryAttemptOfAHookWithASecret) {
  constexpr std::string_view kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  EngineOptions options;
  options.policy.jitter = 0;
  options.unix_origin = std::chrono::seconds(1614265330);
  DeliveryEngine engine(clock_, transport_, options);
  Hook signed_hook{"s", "http://s/", true};
  signed_hook.secret = std::string(kSecret);
  engine.AddHook(signed_hook);
  engine.AddHook(Hook{"plain", "http://p/", true});
  transport_.script = {Status(500), Status(200), Status(500), Status(200)};
  const std::string body = R"({"test": 2432232314})";
  ASSERT_TRUE(engine.Publish("release", body).ok());
  ASSERT_TRUE(clock_.Run(100).ok());
  ASSERT_EQ(transport_.seen.size(), 4u);
  const Result<std::string> key = DecodeWebhookSecret(kSecret);
  ASSERT_TRUE(key.ok());
  int signed_seen = 0;
  for (const auto& s : transport_.seen) {
    if (s.url == "http://p/") {
      EXPECT_EQ(s.headers.count("webhook-id"), 0u);
      EXPECT_EQ(s.headers.count("webhook-timestamp"), 0u);
      EXPECT_EQ(s.headers.count("webhook-signature"), 0u);
      EXPECT_EQ(s.headers.size(), 5u);
      continue;
    }
    ++signed_seen;
    const std::string& id = s.headers.at("webhook-id");
    EXPECT_EQ(id, s.headers.at("X-Hooksim-Delivery"));
    // Unix seconds at the attempt: the origin plus the run time.
    const int64_t ts = 1614265330 + s.at_ms / 1000;
    EXPECT_EQ(s.headers.at("webhook-timestamp"), std::to_string(ts));
    EXPECT_EQ(s.headers.at("webhook-signature"),
              SignWebhook(*key, id, ts, body));
  }
  EXPECT_EQ(signed_seen, 3);
  // The first attempt at the origin signs exactly what the spec's vector
  // signs but for the id; the retry 5 s later has a new timestamp.
  EXPECT_EQ(transport_.seen[0].headers.at("webhook-timestamp"), "1614265330");
  EXPECT_NE(transport_.seen[0].headers.at("webhook-signature"),
            transport_.seen[2].headers.at("webhook-signature"));
}

TEST_F(DeliveryEngineTest, RefusesToPublishPastTheDeliveryLimit) {
  EngineOptions options;
  options.max_deliveries = 3;
  DeliveryEngine engine(clock_, transport_, options);
  engine.AddHook(Hook{"a", "http://a/", true});
  engine.AddHook(Hook{"b", "http://b/", true});
  EXPECT_TRUE(engine.Publish("release", "{}").ok());
  Result<uint32_t> r = engine.Publish("release", "{}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("limit"), std::string::npos);
}

TEST_F(DeliveryEngineTest, SameSeedSameIdsAndDelays) {
  auto run = [](uint64_t seed) {
    VirtualClock clock;
    ScriptedTransport t(clock);
    for (int i = 0; i < 30; ++i) t.script.push_back(Status(500));
    EngineOptions o;
    o.seed = seed;
    DeliveryEngine engine(clock, t, o);
    engine.AddHook(Hook{"h", "http://h/", true});
    for (int i = 0; i < 5; ++i) (void)engine.Publish("release", "{}");
    (void)clock.Run(1000);
    std::vector<std::string> log;
    for (const auto& s : t.seen) {
      log.push_back(s.headers.at("X-Hooksim-Delivery") + "@" +
                    std::to_string(s.at_ms));
    }
    return log;
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

TEST_F(DeliveryEngineTest, RestoredDeliveryKeepsItsIdAndCountsEarlierAttempts) {
  EngineOptions options;
  options.policy.schedule = {Millis(10)};
  options.policy.jitter = 0;
  DeliveryEngine engine(clock_, transport_, options);
  const uint32_t hook = engine.AddHook(Hook{"h1", "http://127.0.0.1:1/h", true});
  const uint32_t event = engine.RecordEvent("release", R"({"event":"release"})");
  EXPECT_TRUE(engine.deliveries().empty()) << "RecordEvent delivers nothing";
  RestoredDelivery restored;
  restored.id = "dlv_00000000000000aa";
  restored.hook = hook;
  restored.event = event;
  restored.attempts_made = 4;
  restored.delay = Millis(50);
  transport_.script = {Status(503), Status(503), Status(200)};
  ASSERT_TRUE(engine.RestoreDelivery(restored).ok());
  EXPECT_EQ(engine.open_deliveries(), 1u);
  ASSERT_TRUE(clock_.Run(100).ok());
  // Attempts 5 and 6 only: the cap counts the four made before.
  ASSERT_EQ(transport_.seen.size(), 2u);
  EXPECT_EQ(transport_.seen[0].at_ms, 50);
  EXPECT_EQ(transport_.seen[0].headers.at("X-Hooksim-Attempt"), "5");
  EXPECT_EQ(transport_.seen[1].headers.at("X-Hooksim-Attempt"), "6");
  for (const auto& seen : transport_.seen) {
    EXPECT_EQ(seen.headers.at("X-Hooksim-Delivery"), "dlv_00000000000000aa");
    EXPECT_EQ(seen.body, R"({"event":"release"})");
  }
  EXPECT_EQ(engine.deliveries()[0].state, DeliveryState::kGaveUp);
  EXPECT_EQ(engine.open_deliveries(), 0u);

  restored.attempts_made = 6;
  EXPECT_FALSE(engine.RestoreDelivery(restored).ok()) << "no attempt left";
  restored.attempts_made = 0;
  restored.hook = 7;
  EXPECT_FALSE(engine.RestoreDelivery(restored).ok()) << "unknown hook";
}

TEST_F(DeliveryEngineTest, IdsAreKeptAsNumbersAndSentAsText) {
  // A published delivery's id is "dlv_" + 16 hex digits wherever it shows
  // (headers, signature, str()); a restored id in any other form is sent
  // verbatim.
  DeliveryEngine engine(clock_, transport_, EngineOptions{});
  const uint32_t hook = engine.AddHook(Hook{
      "h1", "http://127.0.0.1:1/h", true, "whsec_" + std::string(32, 'A')});
  ASSERT_TRUE(engine.Publish("release", R"({"event":"release"})").ok());
  const uint32_t event = engine.RecordEvent("release", R"({"event":"x"})");
  RestoredDelivery restored;
  restored.id = "order-17/DLV";
  restored.hook = hook;
  restored.event = event;
  ASSERT_TRUE(engine.RestoreDelivery(restored).ok());
  ASSERT_TRUE(clock_.Run(100).ok());
  ASSERT_EQ(transport_.seen.size(), 2u);
  const Delivery& published = engine.deliveries()[0];
  EXPECT_TRUE(published.id.canonical());
  const std::string text = published.id.str();
  EXPECT_EQ(text, std::string(DeliveryIdText(published.id.number()).view()));
  EXPECT_EQ(text.size(), 20u);
  EXPECT_EQ(transport_.seen[0].headers.at("X-Hooksim-Delivery"), text);
  EXPECT_EQ(transport_.seen[0].headers.at("webhook-id"), text);
  EXPECT_TRUE(published.id == text);
  EXPECT_FALSE(published.id == "dlv_" + std::string(16, '0'));
  const Delivery& kept = engine.deliveries()[1];
  EXPECT_FALSE(kept.id.canonical());
  EXPECT_EQ(kept.id.str(), "order-17/DLV");
  EXPECT_EQ(transport_.seen[1].headers.at("X-Hooksim-Delivery"),
            "order-17/DLV");
  EXPECT_EQ(transport_.seen[1].headers.at("webhook-id"), "order-17/DLV");
  DeliveryId copy = kept.id;
  EXPECT_TRUE(copy == kept.id);
  EXPECT_FALSE(copy == published.id);
  EXPECT_EQ(engine.FindPublished(text), 0u);
  EXPECT_FALSE(engine.FindPublished("order-17/DLV").has_value())
      << "a restored id is not one the engine made";
}

TEST_F(DeliveryEngineTest, FindPublishedInvertsTheIdOfEveryDelivery) {
  for (uint64_t salt : {uint64_t{0}, uint64_t{0x1234567890abcdefULL}}) {
    // Nothing runs: the clock is never run, the deliveries stay open.
    VirtualClock clock;
    ScriptedTransport transport(clock);
    EngineOptions options;
    options.seed = 99;
    options.id_salt = salt;
    DeliveryEngine engine(clock, transport, options);
    for (int h = 0; h < 3; ++h) {
      engine.AddHook(Hook{"h" + std::to_string(h), "http://127.0.0.1:1/", true});
    }
    for (int e = 0; e < 200; ++e) {
      ASSERT_TRUE(engine.Publish("release", "{}").ok());
    }
    ASSERT_EQ(engine.deliveries().size(), 600u);
    for (uint32_t i = 0; i < engine.deliveries().size(); ++i) {
      ASSERT_EQ(engine.FindPublished(engine.deliveries()[i].id.str()), i);
    }
    // Ids it never made: another number, another form, an index past the
    // end.
    EXPECT_FALSE(engine.FindPublished("dlv_0000000000000001").has_value());
    EXPECT_FALSE(engine.FindPublished("DLV_0000000000000001").has_value());
    EXPECT_FALSE(engine.FindPublished("").has_value());
    DeliveryEngine other(clock, transport, options);
    other.AddHook(Hook{"h", "http://127.0.0.1:1/", true});
    for (int e = 0; e < 601; ++e) ASSERT_TRUE(other.Publish("r", "{}").ok());
    EXPECT_FALSE(
        engine.FindPublished(other.deliveries()[600].id.str()).has_value());
    EXPECT_EQ(engine.FindPublished(other.deliveries()[599].id.str()), 599u);
  }
}

TEST_F(DeliveryEngineTest, AttemptGateSeesEachAttemptFirstAndCanPark) {
  EngineOptions options;
  options.policy.schedule = {Millis(10)};
  options.policy.jitter = 0;
  DeliveryEngine engine(clock_, transport_, options);
  engine.AddHook(Hook{"h1", "http://127.0.0.1:1/h", true});
  std::vector<int> gated;  // Attempt numbers the gate was asked about.
  engine.SetAttemptGate([&](const Delivery& d, uint32_t index) {
    EXPECT_EQ(index, 0u);
    gated.push_back(d.attempts + 1);
    // Nothing has been sent for this attempt yet.
    EXPECT_EQ(transport_.seen.size(), static_cast<size_t>(d.attempts));
    return d.attempts + 1 < 3;  // Park before the third attempt.
  });
  transport_.script = {Status(500), Status(500), Status(500)};
  ASSERT_TRUE(engine.Publish("release", "{}").ok());
  ASSERT_TRUE(clock_.Run(100).ok());
  EXPECT_EQ(gated, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(transport_.seen.size(), 2u);
  EXPECT_EQ(engine.open_deliveries(), 0u) << "a parked delivery is not open";
  EXPECT_EQ(engine.deliveries()[0].state, DeliveryState::kPending);
  EXPECT_EQ(engine.deliveries()[0].attempts, 2);
}

// Issue 12, findings 2 and 8, in the virtual world: with max_in_flight, a
// due attempt waits in the engine until a connection is free, and only then
// is it gated (recorded, in a durable runner), signed and sent: the gate
// never sees a waiting attempt, and webhook-timestamp is the send time, not
// the time the attempt fell due.
TEST_F(DeliveryEngineTest, MaxInFlightGatesAndSignsAnAttemptOnlyWhenItIsSent) {
  EngineOptions options;
  options.max_in_flight = 2;
  DeliveryEngine engine(clock_, transport_, options);
  engine.AddHook(
      Hook{"h1", "http://127.0.0.1:1/h", true,
           "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"});
  transport_.latency = std::chrono::seconds(60);  // A slow receiver.
  std::vector<int64_t> gated_ms;
  size_t most_waiting = 0;
  engine.SetAttemptGate([&](const Delivery&, uint32_t) {
    gated_ms.push_back(ToMillis(clock_.Now()));
    most_waiting = std::max(most_waiting, engine.waiting());
    EXPECT_LT(engine.in_flight(), 2u) << "gated only with a free connection";
    return true;
  });
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(engine.Publish("release", "{}").ok());
  ASSERT_TRUE(clock_.Run(1000).ok());
  EXPECT_EQ(most_waiting, 3u) << "four waited; the gate saw none of them";
  EXPECT_EQ(gated_ms, (std::vector<int64_t>{0, 0, 60000, 60000, 120000,
                                            120000}));
  ASSERT_EQ(transport_.seen.size(), 6u);
  for (const auto& seen : transport_.seen) {
    const int64_t stamp = std::stoll(seen.headers.at("webhook-timestamp"));
    EXPECT_EQ(stamp, kDefaultStartUnixSeconds + seen.at_ms / 1000)
        << "signed when sent";
  }
  EXPECT_EQ(transport_.seen[5].at_ms, 120000);
  EXPECT_EQ(engine.open_deliveries(), 0u);
}

// Issue 12, finding 9: with slots reused (kEnded), restored deliveries reuse the
// slots of ended ones, and a retry the hook declines hands the delivery
// back (no re-attempt, not open, slot free).
TEST_F(DeliveryEngineTest, RestoredDeliveriesReuseSlotsAndRetriesCanBeHandedBack) {
  EngineOptions options;
  options.slots = SlotReuse::kEnded;
  options.policy.schedule = {std::chrono::hours(1)};
  options.policy.jitter = 0;
  DeliveryEngine engine(clock_, transport_, options);
  const uint32_t hook = engine.AddHook(Hook{"h1", "http://127.0.0.1:1/h", true});
  int handed_back = 0;
  engine.SetRetryHook([&](const Delivery&, Duration delay) {
    EXPECT_EQ(delay, std::chrono::hours(1));
    ++handed_back;
    return false;
  });
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 100; ++i) {
      RestoredDelivery r;
      r.id = "dlv_" + std::to_string(round * 100 + i);
      r.hook = hook;
      r.event = engine.RecordEvent("release", "{\"n\":" + std::to_string(i) + "}");
      ASSERT_TRUE(engine.RestoreDelivery(std::move(r)).ok());
    }
    transport_.script.assign(100, Status(500));
    ASSERT_TRUE(clock_.Run(100'000).ok());
    EXPECT_EQ(engine.open_deliveries(), 0u);
  }
  EXPECT_EQ(handed_back, 500);
  EXPECT_EQ(transport_.seen.size(), 500u) << "no re-attempt after hand-back";
  EXPECT_EQ(engine.slots(), 100u) << "slots reused, not grown";
  EXPECT_LE(engine.events().size(), 100u);
}

}  // namespace
}  // namespace hooksim
