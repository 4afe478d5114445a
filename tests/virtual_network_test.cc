#include "sim/virtual/virtual_network.h"

#include <gtest/gtest.h>

#include "sim/virtual/virtual_clock.h"

namespace hooksim {
namespace {

TEST(VirtualNetworkTest, UrlPath) {
  EXPECT_EQ(UrlPath("http://h:1/a/b?c=d"), "/a/b?c=d");
  EXPECT_EQ(UrlPath("http://h:1"), "/");
  EXPECT_EQ(UrlPath("/x"), "/x");
}

TEST(VirtualNetworkTest, FaultsMapToSenderErrors) {
  const Duration timeout = std::chrono::seconds(10);
  auto outcome = [&](Answer a, Duration latency) {
    return VirtualNetwork::OutcomeOf(Reply{a, latency}, timeout);
  };
  auto o = outcome(Answer{503, Fault::kNone}, Millis(30));
  EXPECT_EQ(o.result.error, AttemptError::kNone);
  EXPECT_EQ(o.result.status, 503);
  EXPECT_EQ(o.after, Millis(30));
  o = outcome(Answer{0, Fault::kHang}, Millis(0));
  EXPECT_EQ(o.result.error, AttemptError::kTimeout);
  EXPECT_EQ(o.after, timeout);
  o = outcome(Answer{200, Fault::kNone}, std::chrono::seconds(10));
  EXPECT_EQ(o.result.error, AttemptError::kTimeout);  // At the limit: late.
  EXPECT_EQ(outcome(Answer{0, Fault::kReset}, Millis(1)).result.error,
            AttemptError::kReset);
  EXPECT_EQ(outcome(Answer{0, Fault::kEmpty}, Millis(1)).result.error,
            AttemptError::kEmptyReply);
  EXPECT_EQ(outcome(Answer{0, Fault::kGarbage}, Millis(1)).result.error,
            AttemptError::kMalformed);
}

// A dribbled 200 is complete when its latency is over: a 200 then when that
// is before the timeout, a timeout otherwise (at the limit included).
TEST(VirtualNetworkTest, DribbleIsA200AfterLatencyOrATimeout) {
  const Duration timeout = std::chrono::seconds(10);
  const Answer dribble{200, Fault::kDribble};
  auto o = VirtualNetwork::OutcomeOf(Reply{dribble, Millis(400)}, timeout);
  EXPECT_EQ(o.result.error, AttemptError::kNone);
  EXPECT_EQ(o.result.status, 200);
  EXPECT_EQ(o.after, Millis(400));
  o = VirtualNetwork::OutcomeOf(Reply{dribble, Millis(0)}, timeout);
  EXPECT_TRUE(o.result.IsSuccess());
  o = VirtualNetwork::OutcomeOf(Reply{dribble, timeout}, timeout);
  EXPECT_EQ(o.result.error, AttemptError::kTimeout);
  EXPECT_EQ(o.after, timeout);
  o = VirtualNetwork::OutcomeOf(Reply{dribble, std::chrono::seconds(30)}, timeout);
  EXPECT_EQ(o.result.error, AttemptError::kTimeout);
  EXPECT_EQ(o.after, timeout);
}

// Over the network a slow dribble is abandoned by the sender: the receiver's
// journal must not count its 200 as a delivery.
TEST(VirtualNetworkTest, SlowDribbleIsAbandonedAtTheReceiver) {
  VirtualClock clock;
  VirtualNetwork network(clock);
  BehaviorSpec spec;
  spec.answers = FixedAnswer{Answer{200, Fault::kDribble}};
  spec.latency = LatencyFixed{std::chrono::seconds(20)};
  MockReceiver receiver(ReceiverOptions{"r", {}, nullptr}, spec, Random(1));
  network.Attach("http://r/hook", &receiver);
  const Header headers[] = {{kDeliveryIdHeader, "dlv_1"}};
  AttemptResult result;
  network.Send(HttpRequest{"POST", "http://r/hook", headers, "{}"},
               std::chrono::seconds(10), [&](AttemptResult r) { result = r; });
  ASSERT_TRUE(clock.Run(10).ok());
  EXPECT_EQ(result.error, AttemptError::kTimeout);
  receiver.WithJournal([](const Journal& j) {
    EXPECT_EQ(j.abandoned(), 1u);
    EXPECT_EQ(j.deliveries().at("dlv_1").success_attempt(), 0);
    EXPECT_EQ(j.answers().at("dribble"), 1u);
  });
}

TEST(VirtualNetworkTest, DeliversAfterLatencyAndRefusesUnknownUrls) {
  VirtualClock clock;
  VirtualNetwork network(clock);
  BehaviorSpec spec;
  spec.answers = FixedAnswer{Answer{201, Fault::kNone}};
  spec.latency = LatencyFixed{Millis(250)};
  MockReceiver receiver(ReceiverOptions{"r", {}, nullptr}, spec, Random(1));
  network.Attach("http://r/hook", &receiver);

  const Header headers[] = {{"Content-Type", "application/json"},
                            {kDeliveryIdHeader, "dlv_1"}};
  std::vector<std::pair<int64_t, AttemptResult>> results;
  auto record = [&](AttemptResult r) {
    results.push_back({ToMillis(clock.Now()), r});
  };
  network.Send(HttpRequest{"POST", "http://r/hook", headers, "{}"},
               std::chrono::seconds(10), record);
  network.Send(HttpRequest{"POST", "http://nobody/hook", headers, "{}"},
               std::chrono::seconds(10), record);
  EXPECT_TRUE(results.empty());  // Never inline.
  ASSERT_TRUE(clock.Run(10).ok());
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].first, 0);
  EXPECT_EQ(results[0].second.error, AttemptError::kRefused);
  EXPECT_EQ(results[1].first, 250);
  EXPECT_EQ(results[1].second.status, 201);
  receiver.WithJournal([](const Journal& j) {
    ASSERT_EQ(j.total_requests(), 1u);
    EXPECT_EQ(j.Recent()[0].target, "/hook");
  });
}

}  // namespace
}  // namespace hooksim
