#include "mock-receivers/admin_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace hooksim {
namespace {

using nlohmann::json;

class AdminApiTest : public ::testing::Test {
 protected:
  AdminApiTest() {
    BehaviorSpec spec;
    spec.answers =
        SequenceAnswer{{Answer{503, Fault::kNone}, Answer{200, Fault::kNone}},
                       SequenceScope::kDelivery,
                       SequenceEnd::kRepeatLast};
    spec.latency = LatencyFixed{Millis(5)};
    receiver_ = std::make_unique<MockReceiver>(
        ReceiverOptions{"flaky", {}, nullptr}, spec, Random(3));
  }

  void Send(const std::string& delivery, int64_t at_ms) {
    const Header headers[] = {{"Content-Type", "application/json"},
                              {kDeliveryIdHeader, delivery},
                              {kEventTypeHeader, "release"},
                              {kAttemptHeader, "1"}};
    receiver_->Handle(HttpRequest{"POST", "/hook", headers, "{}"},
                      AtMillis(at_ms));
  }

  AdminResponse Call(std::string method, std::string path,
                     std::map<std::string, std::string> query = {},
                     std::string body = "") {
    return HandleAdminRequest(*receiver_,
                              AdminRequest{std::move(method), std::move(path),
                                           std::move(query), std::move(body)});
  }

  std::unique_ptr<MockReceiver> receiver_;
};

TEST_F(AdminApiTest, IsAdminPath) {
  EXPECT_TRUE(IsAdminPath("/__hooksim"));
  EXPECT_TRUE(IsAdminPath("/__hooksim/"));
  EXPECT_TRUE(IsAdminPath("/__hooksim/stats"));
  EXPECT_FALSE(IsAdminPath("/__hooksimx"));
  EXPECT_FALSE(IsAdminPath("/hook"));
  EXPECT_FALSE(IsAdminPath("/"));
}

TEST_F(AdminApiTest, RequestsNewestLastWithLimit) {
  Send("d1", 10);
  Send("d1", 20);
  Send("d2", 30);
  AdminResponse r = Call("GET", "/__hooksim/requests");
  ASSERT_EQ(r.status, 200);
  json all = json::parse(r.body);
  ASSERT_EQ(all.size(), 3u);
  const json& first = all[0];
  EXPECT_EQ(first["index"], 0);
  EXPECT_EQ(first["time_ms"], 10);
  EXPECT_EQ(first["method"], "POST");
  EXPECT_EQ(first["target"], "/hook");
  EXPECT_EQ(first["delivery"]["key"], "d1");
  EXPECT_EQ(first["delivery"]["from_id_header"], true);
  EXPECT_EQ(first["delivery"]["attempt"], 1);
  EXPECT_EQ(first["delivery"]["sender_attempt"], 1);
  EXPECT_EQ(first["content_type"], "application/json");
  EXPECT_EQ(first["event"], "release");
  EXPECT_EQ(first["headers"].size(), 4u);  // Every header, [name, value].
  EXPECT_EQ(first["body"]["size"], 2);
  EXPECT_EQ(first["body"]["hash"].get<std::string>().size(), 16u);
  EXPECT_EQ(first["reply"]["answer"], "503");
  EXPECT_EQ(first["reply"]["status"], 503);
  EXPECT_EQ(first["reply"]["fault"], nullptr);
  EXPECT_EQ(first["reply"]["latency_ms"], 5);
  EXPECT_EQ(first["schema"]["valid"], true);
  EXPECT_EQ(first["abandoned"], false);
  EXPECT_EQ(all[1]["reply"]["status"], 200);

  r = Call("GET", "/__hooksim/requests", {{"limit", "2"}});
  ASSERT_EQ(r.status, 200);
  json two = json::parse(r.body);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1]["delivery"]["key"], "d2");
  EXPECT_EQ(
      json::parse(Call("GET", "/__hooksim/requests", {{"limit", "0"}}).body)
          .size(),
      0u);

  r = Call("GET", "/__hooksim/requests", {{"limit", "-1"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("limit"), std::string::npos);
  r = Call("GET", "/__hooksim/requests", {{"limt", "2"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("limt"), std::string::npos);
}

TEST_F(AdminApiTest, FaultsAndAbandonedAnswersAreShown) {
  JournalEntry e;
  e.reply.answer = Answer{200, Fault::kReset};
  e.abandoned = true;
  json j = JournalEntryToJson(e);
  EXPECT_EQ(j["reply"]["answer"], "reset");
  EXPECT_EQ(j["reply"]["status"], nullptr);
  EXPECT_EQ(j["reply"]["fault"], "reset");
  EXPECT_EQ(j["abandoned"], true);
  e.reply.answer = Answer{200, Fault::kDribble};
  e.schema_valid = false;
  e.schema_issue = "C3 /event: missing";
  j = JournalEntryToJson(e);
  EXPECT_EQ(j["reply"]["status"], 200);
  EXPECT_EQ(j["reply"]["fault"], "dribble");
  EXPECT_EQ(j["schema"]["valid"], false);
  EXPECT_EQ(j["schema"]["issues"], json::array({"C3 /event: missing"}));
}

TEST_F(AdminApiTest, StatsCountAnswersAndAttemptsPerDelivery) {
  Send("d1", 0);
  Send("d1", 1);
  Send("d2", 2);
  AdminResponse r = Call("GET", "/__hooksim/stats");
  ASSERT_EQ(r.status, 200);
  json stats = json::parse(r.body);
  EXPECT_EQ(stats["receiver"], "flaky");
  EXPECT_EQ(stats["requests"], 3);
  EXPECT_EQ(stats["answers"], (json{{"200", 1}, {"503", 2}}));
  EXPECT_EQ(stats["deliveries"], 2);
  EXPECT_EQ(stats["delivered"], 1);
  EXPECT_EQ(stats["attempts_per_delivery"], (json{{"1", 1}, {"2", 1}}));
  EXPECT_EQ(stats["schema_failures"], 0);
  EXPECT_EQ(stats["abandoned"], 0);
}

TEST_F(AdminApiTest, ResetClearsTheJournal) {
  Send("d1", 0);
  EXPECT_EQ(Call("POST", "/__hooksim/reset").status, 200);
  EXPECT_EQ(json::parse(Call("GET", "/__hooksim/stats").body)["requests"], 0);
}

TEST_F(AdminApiTest, PutBehaviorSwapsTheAnswer) {
  AdminResponse r =
      Call("PUT", "/__hooksim/behavior", {}, R"({"fault": "dribble"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["behavior"]["fault"], "dribble");
  EXPECT_EQ(json::parse(Call("GET", "/__hooksim/behavior").body)["fault"],
            "dribble");
  const Reply reply =
      receiver_->Handle(HttpRequest{"POST", "/", {}, "{}"}, TimePoint{});
  EXPECT_EQ(reply.answer.fault, Fault::kDribble);
}

TEST_F(AdminApiTest, BadBehaviorIs400NamingThePlace) {
  AdminResponse r = Call("PUT", "/__hooksim/behavior", {}, "{not json");
  EXPECT_EQ(r.status, 400);
  const std::string syntax = json::parse(r.body)["error"];
  EXPECT_EQ(syntax.rfind("/: invalid JSON: parse error", 0), 0u) << syntax;

  r = Call("PUT", "/__hooksim/behavior", {},
           R"({"sequence": [503, "explode"]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"],
            "/sequence/1: expected a status code 100..599 or one of hang, "
            "reset, empty, garbage, dribble; got \"explode\"");
  r = Call("PUT", "/__hooksim/behavior", {}, "[]");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["error"].get<std::string>().rfind("/: ", 0),
            0u);
  // The behaviour is unchanged.
  EXPECT_EQ(json::parse(Call("GET", "/__hooksim/behavior").body)["sequence"],
            json::array({503, 200}));
}

TEST_F(AdminApiTest, UnknownRouteIs404AndWrongMethodIs405) {
  AdminResponse r = Call("GET", "/__hooksim/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(
      json::parse(r.body)["error"].get<std::string>().find("/__hooksim/nope"),
      std::string::npos);
  r = Call("DELETE", "/__hooksim/stats");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "GET");
  r = Call("GET", "/__hooksim/reset");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "POST");
  r = Call("POST", "/__hooksim/behavior");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "GET, PUT");
  EXPECT_EQ(Call("HEAD", "/__hooksim/stats").status, 200);
  r = Call("GET", "/__hooksim/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["receiver"], "flaky");
}

}  // namespace
}  // namespace hooksim
