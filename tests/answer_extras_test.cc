// Answers with headers and a body (issue 15, point 2): parsed for plain
// answers, sequence items, weighted answers and outage windows; refused
// with the JSON pointer of the bad field; sent by the HTTP receiver; and
// carried in the virtual world so the sender sees the same Retry-After.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mock-receivers/behavior_parser.h"
#include "mock-receivers/http/http_receiver_server.h"
#include "mock-receivers/receiver.h"
#include "sim/virtual/virtual_clock.h"
#include "sim/virtual/virtual_network.h"

namespace hooksim {
namespace {

using nlohmann::json;

BehaviorSpec Parse(const std::string& text) {
  Result<BehaviorSpec> spec = ParseBehavior(json::parse(text), "");
  EXPECT_TRUE(spec.ok()) << spec.error().ToString();
  return spec.ok() ? *spec : BehaviorSpec{};
}

// The path of the error ParseBehavior gives for `text` ("ok" if none).
std::string ErrorPath(const std::string& text) {
  Result<BehaviorSpec> spec = ParseBehavior(json::parse(text), "");
  return spec.ok() ? "ok" : spec.error().path();
}

constexpr char kSlowDown[] =
    R"({"status":429,"headers":{"Retry-After":"2"},"body":{"error":"slow down"}})";

TEST(AnswerExtrasParseTest, PlainAnswerCarriesHeadersAndJsonBody) {
  const BehaviorSpec spec = Parse(kSlowDown);
  const Answer& a = std::get<FixedAnswer>(spec.answers).answer;
  EXPECT_EQ(a.status, 429);
  ASSERT_NE(a.extras, nullptr);
  EXPECT_EQ(a.RetryAfter(), "2");
  EXPECT_EQ(a.extras->FindHeader("retry-after"), "2");  // Any case.
  EXPECT_EQ(a.extras->body_kind, AnswerBodyKind::kJson);
  EXPECT_EQ(a.extras->body, R"({"error":"slow down"})");
  // Written back as it was given, and read back equal.
  EXPECT_EQ(BehaviorToJson(spec), json::parse(kSlowDown));
  Result<BehaviorSpec> again = ParseBehavior(BehaviorToJson(spec), "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(std::get<FixedAnswer>(again->answers).answer, a);
}

TEST(AnswerExtrasParseTest, SequenceItemsWeightedListAndOutages) {
  const BehaviorSpec seq = Parse(R"({"sequence":[
      {"status":503,"headers":{"Retry-After":"7"},"body":"down"},
      "reset", 200]})");
  const auto& items = std::get<SequenceAnswer>(seq.answers).answers;
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].RetryAfter(), "7");
  EXPECT_EQ(items[0].extras->body_kind, AnswerBodyKind::kText);
  EXPECT_EQ(items[0].extras->body, "down");
  EXPECT_EQ(items[1].fault, Fault::kReset);
  EXPECT_EQ(items[2].extras, nullptr);

  const BehaviorSpec weighted = Parse(R"({"weighted":[
      {"weight":0.25,"status":429,"headers":{"Retry-After":"1"}},
      {"weight":0.75,"status":200}]})");
  const auto& w = std::get<WeightedAnswer>(weighted.answers);
  EXPECT_TRUE(w.listed);
  ASSERT_EQ(w.choices.size(), 2u);  // In the order given.
  EXPECT_EQ(w.choices[0].first.RetryAfter(), "1");
  EXPECT_EQ(w.choices[0].second, 0.25);
  EXPECT_EQ(w.choices[1].first.status, 200);

  const BehaviorSpec outage = Parse(R"({"outages":[{"from_ms":0,"to_ms":10,
      "status":503,"headers":{"Retry-After":"30"},"body":{"down":true}}]})");
  EXPECT_EQ(outage.outages[0].answer.RetryAfter(), "30");

  for (const BehaviorSpec* spec : {&seq, &weighted, &outage}) {
    Result<BehaviorSpec> again = ParseBehavior(BehaviorToJson(*spec), "");
    ASSERT_TRUE(again.ok()) << BehaviorToJson(*spec).dump();
    EXPECT_EQ(BehaviorToJson(*again), BehaviorToJson(*spec));
  }
}

// The behaviour's own headers and body go with every status answer of its
// answer source, unless the answer gives its own (not faults, not outage
// windows): the meaning "headers" had before answers carried their own.
TEST(AnswerExtrasParseTest, BehaviourHeadersAreDefaultsForStatusAnswers) {
  const BehaviorSpec spec = Parse(R"({"sequence":[
      429, {"status":503,"headers":{"retry-after":"9"}}, "reset"],
      "headers":{"Retry-After":"2","X-Mock":"yes"},
      "outages":[{"from_ms":0,"to_ms":1,"status":503}]})");
  const auto& items = std::get<SequenceAnswer>(spec.answers).answers;
  EXPECT_EQ(items[0].RetryAfter(), "2");
  EXPECT_EQ(items[0].extras->FindHeader("X-Mock"), "yes");
  EXPECT_EQ(items[1].RetryAfter(), "9");  // Its own wins, whatever the case.
  EXPECT_EQ(items[1].extras->headers.size(), 2u);
  EXPECT_EQ(items[2].extras, nullptr);
  EXPECT_EQ(spec.outages[0].answer.extras, nullptr);
  Result<BehaviorSpec> again = ParseBehavior(BehaviorToJson(spec), "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(std::get<SequenceAnswer>(again->answers).answers, items);
}

TEST(AnswerExtrasParseTest, BadHeadersAreRefusedWithTheirPointer) {
  EXPECT_EQ(ErrorPath(R"({"status":429,"headers":{"Retry-After":"1\r\nX: y"}})"),
            "/headers/Retry-After");
  EXPECT_EQ(ErrorPath(R"({"status":429,"headers":{"X-A":"a\nb"}})"),
            "/headers/X-A");
  EXPECT_EQ(ErrorPath(R"({"status":200,"headers":{"content-length":"5"}})"),
            "/headers/content-length");
  EXPECT_EQ(ErrorPath(R"({"sequence":[{"status":200,
                 "headers":{"Transfer-Encoding":"chunked"}}]})"),
            "/sequence/0/headers/Transfer-Encoding");
  EXPECT_EQ(ErrorPath(R"({"status":200,"headers":["Retry-After"]})"),
            "/headers");
  EXPECT_EQ(ErrorPath(R"({"status":200,"headers":"Retry-After: 1"})"),
            "/headers");
  EXPECT_EQ(ErrorPath(R"({"status":200,"headers":{"Bad Name":"1"}})"),
            "/headers/Bad Name");
  EXPECT_EQ(ErrorPath(R"({"status":200,"headers":{"X-A":"1","x-a":"2"}})"),
            "/headers/x-a");
  EXPECT_EQ(ErrorPath(R"({"status":200,"headers":{"X-A":5}})"), "/headers/X-A");
  EXPECT_EQ(ErrorPath(R"({"weighted":[{"weight":1,"status":200,
                 "headers":{"X":"a\rb"}}]})"),
            "/weighted/0/headers/X");
  EXPECT_EQ(ErrorPath(R"({"outages":[{"from_ms":0,"to_ms":1,
                 "headers":{"Content-Length":"0"}}]})"),
            "/outages/0/headers/Content-Length");
  // Headers and bodies go with status answers, never with a fault.
  EXPECT_EQ(ErrorPath(R"({"sequence":[{"fault":"reset","body":"x"}]})"),
            "/sequence/0/body");
  EXPECT_EQ(ErrorPath(R"({"fault":"hang","headers":{"X":"1"}})"), "/headers");
  // Weighted lists: weights sum to 1, every item has one.
  EXPECT_EQ(ErrorPath(R"({"weighted":[{"status":200}]})"),
            "/weighted/0/weight");
  EXPECT_EQ(ErrorPath(R"({"weighted":[{"weight":0.5,"status":200}]})"),
            "/weighted");
  EXPECT_EQ(ErrorPath(R"({"sequence":[{"status":200,"colour":"red"}]})"),
            "/sequence/0/colour");
  json big = {{"status", 200}, {"body", std::string(kMaxAnswerBodyBytes + 1, 'x')}};
  Result<BehaviorSpec> r = ParseBehavior(big, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().path(), "/body");
}

// The virtual world: the engine's attempt result carries the Retry-After of
// the answer it got (parsed as the sender reads it), for sequence items and
// outage windows; none for answers without one.
TEST(AnswerExtrasVirtualTest, SenderSeesTheAnswersRetryAfter) {
  VirtualClock clock;
  VirtualNetwork network(clock);
  MockReceiver receiver(
      ReceiverOptions{"r", {}, nullptr},
      Parse(R"({"sequence":[{"status":429,"headers":{"Retry-After":"2"},
                             "body":{"error":"slow down"}}, 200],
                "outages":[{"from_ms":60000,"to_ms":70000,"status":503,
                            "headers":{"Retry-After":"30"}}]})"),
      Random(1));
  network.Attach("http://r/hook", &receiver);
  const Header headers[] = {{kDeliveryIdHeader, "dlv_1"}};
  std::vector<AttemptResult> results;
  auto send = [&] {
    network.Send(HttpRequest{"POST", "http://r/hook", headers, "{}"},
                 std::chrono::seconds(10),
                 [&](AttemptResult r) { results.push_back(r); });
    ASSERT_TRUE(clock.Run(10).ok());
  };
  send();
  send();
  clock.ScheduleAfter(std::chrono::seconds(65), [] {});
  ASSERT_TRUE(clock.Run(10).ok());
  send();
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].status, 429);
  EXPECT_EQ(results[0].retry_after_ms, 2000);
  EXPECT_EQ(results[1].status, 200);
  EXPECT_EQ(results[1].retry_after_ms, kNoRetryAfter);
  EXPECT_EQ(results[2].status, 503);
  EXPECT_EQ(results[2].retry_after_ms, 30000);
  receiver.WithJournal([](const Journal& j) {
    const std::vector<JournalEntry> entries = j.Recent();
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].retry_after, "2");
    EXPECT_TRUE(entries[0].retry_after_readable);
    EXPECT_EQ(entries[1].retry_after, "");
  });
}

// The HTTP world sends what the virtual world carries: status, headers and
// body, a text body as text/plain, a Content-Type of the answer's own.
TEST(AnswerExtrasHttpTest, ServerSendsHeadersAndBody) {
  MockReceiver receiver(
      ReceiverOptions{"r", {}, nullptr},
      Parse(R"({"sequence":[
          {"status":429,"headers":{"Retry-After":"2","X-Mock":"a"},
           "body":{"error":"slow down"}},
          {"status":503,"body":"try later"},
          {"status":200,"headers":{"Content-Type":"application/xml"},
           "body":"<ok/>"},
          {"status":302,"headers":{"Location":"/elsewhere"}},
          {"status":204,"body":"dropped"}],
        "per":"receiver"})"),
      Random(1));
  HttpReceiverServer server(receiver, HttpReceiverOptions{});
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(5));

  auto r = client.Post("/hook", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->get_header_value("Retry-After"), "2");
  EXPECT_EQ(r->get_header_value("X-Mock"), "a");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(json::parse(r->body), json({{"error", "slow down"}}));

  r = client.Post("/hook", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "try later");
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_FALSE(r->has_header("Retry-After"));

  r = client.Post("/hook", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "<ok/>");
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/xml");

  r = client.Post("/hook", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(r->get_header_value("Location"), "/elsewhere");

  r = client.Post("/hook", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->body, "");  // 204 carries no body.
  server.Stop();
  receiver.WithJournal([](const Journal& j) {
    EXPECT_EQ(j.Recent()[0].retry_after, "2");
  });
}

// The same behaviour in both worlds gives the sender the same Retry-After.
TEST(AnswerExtrasHttpTest, BothWorldsGiveTheSameRetryAfter) {
  const std::string behavior =
      R"({"weighted":[{"weight":0.5,"status":429,"headers":{"Retry-After":"3"}},
                      {"weight":0.5,"status":503,"headers":{"Retry-After":"5"}}]})";
  MockReceiver virtual_receiver(ReceiverOptions{"r", {}, nullptr},
                                Parse(behavior), Random(9));
  MockReceiver http_receiver(ReceiverOptions{"r", {}, nullptr},
                             Parse(behavior), Random(9));
  VirtualClock clock;
  VirtualNetwork network(clock);
  network.Attach("http://r/hook", &virtual_receiver);
  HttpReceiverServer server(http_receiver, HttpReceiverOptions{});
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(5));
  for (int i = 0; i < 8; ++i) {
    const std::string id = "dlv_" + std::to_string(i);
    const Header headers[] = {{kDeliveryIdHeader, id}};
    AttemptResult seen;
    network.Send(HttpRequest{"POST", "http://r/hook", headers, "{}"},
                 std::chrono::seconds(10), [&](AttemptResult r) { seen = r; });
    ASSERT_TRUE(clock.Run(10).ok());
    auto r = client.Post("/hook", {{std::string(kDeliveryIdHeader), id}}, "{}",
                         "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, seen.status) << id;
    EXPECT_EQ(std::stoll(r->get_header_value("Retry-After")) * 1000,
              seen.retry_after_ms)
        << id;
  }
  server.Stop();
}

}  // namespace
}  // namespace hooksim
