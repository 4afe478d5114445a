// Receiver routes: matching (method, path glob, header glob, JSON-pointer
// body values), first match wins, the default route, unmatched requests
// (404, journalled with the closest route and why), per-route sequences,
// warnings for overlapping and unreachable routes, bad patterns refused
// with their JSON pointer, the admin API swapping routes, and the same
// route decisions in the virtual and the HTTP world.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "mock-receivers/admin_api.h"
#include "mock-receivers/behavior_parser.h"
#include "mock-receivers/http/http_receiver_server.h"
#include "mock-receivers/receiver.h"
#include "mock-receivers/request_log.h"
#include "mock-receivers/route_match.h"
#include "mock-receivers/routes.h"
#include "sim/cli/behavior_input.h"
#include "sim/cli/receiver_command.h"
#include "sim/judge/verifier.h"
#include "sim/os/temp_dir.h"
#include "sim/scenario/scenario.h"
#include "sim/world/runner.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

using nlohmann::json;

// Owns the bytes an HttpRequest view points at.
struct TestRequest {
  std::string method = "POST";
  std::string target = "/hook";
  std::string body = R"({"event":"release","data":{"app":"shop"}})";
  std::vector<std::pair<std::string, std::string>> header_text = {
      {"Content-Type", "application/json"}};
  std::vector<Header> headers;

  TestRequest& With(std::string name, std::string value) {
    header_text.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  HttpRequest View() {
    headers.clear();
    for (const auto& [name, value] : header_text) {
      headers.push_back(Header{name, value});
    }
    return HttpRequest{method, target, headers, body};
  }
};

TestRequest Request(std::string method, std::string target,
                    std::string id = "dlv-1") {
  TestRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.With(std::string(kDeliveryIdHeader), std::move(id));
  return r;
}

BehaviorSpec Parse(const std::string& text) {
  Result<BehaviorSpec> spec = ParseBehavior(json::parse(text), "");
  EXPECT_TRUE(spec.ok()) << text << ": " << spec.error().ToString();
  return spec.ok() ? *spec : BehaviorSpec{};
}

// "POINTER: message" of a behaviour that must be refused.
std::string Refusal(const std::string& text) {
  Result<BehaviorSpec> spec = ParseBehavior(json::parse(text), "");
  EXPECT_FALSE(spec.ok()) << text << " was accepted";
  if (spec.ok()) return "";
  return spec.error().path() + ": " + spec.error().message();
}

MockReceiver MakeReceiver(const std::string& behavior) {
  return MockReceiver(ReceiverOptions{"r", {}, nullptr}, Parse(behavior),
                      Random(1));
}

JournalEntry LastEntry(const MockReceiver& receiver) {
  JournalEntry out;
  receiver.WithJournal([&](const Journal& j) {
    std::vector<JournalEntry> all = j.Recent(1);
    if (!all.empty()) out = all.back();
  });
  return out;
}

// Status and route of one request.
struct Routed {
  int status;
  std::string route;
};

Routed Send(MockReceiver& receiver, TestRequest request, int64_t at_ms = 0) {
  const Reply reply = receiver.Handle(request.View(), AtMillis(at_ms));
  return {reply.answer.status, LastEntry(receiver).route};
}

// --- Globs and pointers ---------------------------------------------------

TEST(RouteMatchTest, GlobStarQuestionAndEscape) {
  EXPECT_TRUE(GlobMatches("/orders/*", "/orders/1"));
  EXPECT_TRUE(GlobMatches("/orders/*", "/orders/"));
  EXPECT_TRUE(GlobMatches("/orders/*", "/orders/1/items"));  // * crosses /.
  EXPECT_FALSE(GlobMatches("/orders/*", "/orders"));
  EXPECT_FALSE(GlobMatches("/orders/*", "/order/1"));
  EXPECT_TRUE(GlobMatches("/v?/hook", "/v2/hook"));
  EXPECT_FALSE(GlobMatches("/v?/hook", "/v22/hook"));
  EXPECT_TRUE(GlobMatches("*a*b*", "xxaxxbxx"));
  EXPECT_FALSE(GlobMatches("*a*b*", "xxbxxaxx"));
  EXPECT_TRUE(GlobMatches("/literal\\*", "/literal*"));
  EXPECT_FALSE(GlobMatches("/literal\\*", "/literalx"));
  EXPECT_TRUE(GlobMatches("/exact", "/exact"));
  EXPECT_FALSE(GlobMatches("/exact", "/exact/"));
  EXPECT_FALSE(GlobMatches("/Exact", "/exact"));  // Case-sensitive.
}

TEST(RouteMatchTest, BadGlobsAndPointersAreNamed) {
  EXPECT_EQ(GlobProblem("/orders/*"), "");
  EXPECT_NE(GlobProblem("/orders/[0-9]").find("character class"),
            std::string::npos);
  EXPECT_NE(GlobProblem("/x\\").find("trailing \\"), std::string::npos);
  EXPECT_NE(PathGlobProblem("orders/*").find("start with /"),
            std::string::npos);
  EXPECT_EQ(PathGlobProblem("*"), "");
  EXPECT_EQ(JsonPointerProblem("/data/app"), "");
  EXPECT_EQ(JsonPointerProblem("/a~1b/~0c"), "");
  EXPECT_NE(JsonPointerProblem("data/app").find("start with /"),
            std::string::npos);
  EXPECT_NE(JsonPointerProblem("/a~2").find("~0"), std::string::npos);
}

TEST(RouteMatchTest, ReasonNamesTheFirstCriterionNotMet) {
  RouteMatch m;
  m.method = "POST";
  m.path = "/orders/*";
  m.headers = {HeaderMatch{"X-Event", "order.*"}};
  m.body = {BodyMatch{"/data/app", "shop"}};

  TestRequest ok = Request("POST", "/orders/7?page=2");
  ok.With("x-event", "order.created");
  RequestBody body(ok.body);
  MatchOutcome outcome = MatchRequest(m, ok.View(), body);
  EXPECT_TRUE(outcome.matched) << outcome.why;
  EXPECT_EQ(outcome.met, 4);

  TestRequest wrong_path = Request("POST", "/x");
  wrong_path.With("X-Event", "order.created");
  RequestBody b2(wrong_path.body);
  outcome = MatchRequest(m, wrong_path.View(), b2);
  EXPECT_FALSE(outcome.matched);
  EXPECT_EQ(outcome.why, "path /x does not match /orders/*");
  EXPECT_EQ(outcome.met, 3);

  TestRequest wrong_method = Request("GET", "/orders/1");
  RequestBody b3(wrong_method.body);
  outcome = MatchRequest(m, wrong_method.View(), b3);
  EXPECT_EQ(outcome.why, "method GET is not POST");

  TestRequest no_header = Request("POST", "/orders/1");
  RequestBody b4(no_header.body);
  outcome = MatchRequest(m, no_header.View(), b4);
  EXPECT_EQ(outcome.why, "header X-Event is missing (expected order.*)");

  TestRequest bad_header = Request("POST", "/orders/1");
  bad_header.With("X-Event", "invoice.paid");
  RequestBody b5(bad_header.body);
  outcome = MatchRequest(m, bad_header.View(), b5);
  EXPECT_EQ(outcome.why, "header X-Event: invoice.paid does not match order.*");

  TestRequest other_app = Request("POST", "/orders/1");
  other_app.With("X-Event", "order.created");
  other_app.body = R"({"data":{"app":"blog"}})";
  RequestBody b6(other_app.body);
  outcome = MatchRequest(m, other_app.View(), b6);
  EXPECT_EQ(outcome.why, "body /data/app is \"blog\", expected \"shop\"");

  TestRequest not_json = other_app;
  not_json.body = "not json";
  RequestBody b7(not_json.body);
  outcome = MatchRequest(m, not_json.View(), b7);
  EXPECT_EQ(outcome.why.rfind("body is not JSON", 0), 0u) << outcome.why;
}

TEST(RouteMatchTest, BodyValuesCompareAsJsonAndStringsAsGlobs) {
  RouteMatch m;
  m.body = {BodyMatch{"/n", 12}, BodyMatch{"/flag", false},
            BodyMatch{"/name", "rel*"}};
  TestRequest r = Request("POST", "/hook");
  r.body = R"({"n": 12, "flag": false, "name": "release"})";
  RequestBody b1(r.body);
  EXPECT_TRUE(MatchRequest(m, r.View(), b1).matched);
  r.body = R"({"n": "12", "flag": false, "name": "release"})";
  RequestBody b2(r.body);
  EXPECT_FALSE(MatchRequest(m, r.View(), b2).matched);  // "12" is not 12.
  r.body = R"({"n": 12, "flag": false, "name": "deploy"})";
  RequestBody b3(r.body);
  EXPECT_FALSE(MatchRequest(m, r.View(), b3).matched);
  // Deeper than the limit: not JSON as far as routes go, never a crash.
  r.body = std::string(100000, '[');
  RequestBody b4(r.body);
  EXPECT_EQ(b4.Json(), nullptr);
}

TEST(RouteMatchTest, CoversAndSharedRequest) {
  RouteMatch any;
  RouteMatch orders;
  orders.path = "/orders/*";
  RouteMatch one_order;
  one_order.method = "POST";
  one_order.path = "/orders/1";
  RouteMatch ends_in_one;
  ends_in_one.path = "/*/1";
  EXPECT_TRUE(Covers(any, orders));
  EXPECT_TRUE(Covers(orders, one_order));
  EXPECT_FALSE(Covers(one_order, orders));
  EXPECT_FALSE(Covers(orders, ends_in_one));
  EXPECT_FALSE(Covers(ends_in_one, orders));
  std::optional<std::string> shared = SharedRequest(orders, ends_in_one);
  ASSERT_TRUE(shared.has_value());
  EXPECT_TRUE(GlobMatches("/orders/*", *shared)) << *shared;
  EXPECT_TRUE(GlobMatches("/*/1", *shared)) << *shared;

  RouteMatch get_orders = orders;
  get_orders.method = "GET";
  EXPECT_FALSE(SharedRequest(get_orders, one_order).has_value());
  RouteMatch invoices;
  invoices.path = "/invoices/*";
  EXPECT_FALSE(SharedRequest(orders, invoices).has_value());
  RouteMatch shop = orders;
  shop.body = {BodyMatch{"/app", "shop"}};
  RouteMatch blog = orders;
  blog.body = {BodyMatch{"/app", "blog"}};
  EXPECT_FALSE(SharedRequest(shop, blog).has_value());
}

// --- Parsing ----------------------------------------------------------------

constexpr char kTwoRoutes[] = R"({
  "routes": [
    {"name": "orders", "method": "POST", "path": "/orders/*",
     "behavior": {"status": 429, "headers": {"Retry-After": "2"}}},
    {"path": "/hook",
     "match": {"headers": {"X-Event": "release*"},
               "body": {"/data/app": "shop"}},
     "behavior": {"sequence": [503, 200]}}
  ],
  "default": {"status": 200}
})";

TEST(RouteParseTest, RoutesRoundTripAndDefaultNames) {
  const BehaviorSpec spec = Parse(kTwoRoutes);
  ASSERT_EQ(spec.routes.size(), 3u);
  EXPECT_EQ(spec.routes[0].name, "orders");
  EXPECT_EQ(spec.routes[0].match.method, "POST");
  EXPECT_EQ(spec.routes[1].name, "route 2");
  EXPECT_EQ(spec.routes[1].match.headers.size(), 1u);
  EXPECT_EQ(spec.routes[1].match.body.size(), 1u);
  EXPECT_EQ(spec.routes[2].name, "default");
  EXPECT_TRUE(spec.routes[2].is_default);
  const json written = BehaviorToJson(spec);
  EXPECT_EQ(written.at("routes").size(), 2u);
  EXPECT_EQ(written.at("default"), json::parse(R"({"status":200})"));
  const BehaviorSpec again = Parse(written.dump());
  EXPECT_EQ(BehaviorToJson(again), written);
}

TEST(RouteParseTest, PlainBehaviourIsUnchanged) {
  const BehaviorSpec spec = Parse(R"({"sequence":[503,200]})");
  EXPECT_TRUE(spec.routes.empty());
  EXPECT_FALSE(BehaviorToJson(spec).contains("routes"));
}

TEST(RouteParseTest, BadPatternsAndPointersAreRefusedWithTheirPointer) {
  EXPECT_EQ(Refusal(R"({"routes":[{"behavior":{}},{"behavior":{}},
      {"match":{"body":{"data/app":"x"}},"behavior":{}}]})"),
            "/routes/2/match/body/data~1app: bad JSON pointer \"data/app\": "
            "a JSON pointer must start with / (\"/data/app\")");
  EXPECT_EQ(Refusal(R"({"routes":[{"match":{"body":{"/a~2":"x"}},
      "behavior":{}}]})")
                .rfind("/routes/0/match/body/~1a~02: bad JSON pointer", 0),
            0u);
  std::string e = Refusal(R"({"routes":[{"path":"/orders/[0-9]",
      "behavior":{}}]})");
  EXPECT_EQ(e.rfind("/routes/0/path: bad path glob \"/orders/[0-9]\": a "
                    "character class",
                    0),
            0u)
      << e;
  e = Refusal(R"({"routes":[{"match":{"headers":{"X-Event":"a\\"}},
      "behavior":{}}]})");
  EXPECT_EQ(e.rfind("/routes/0/match/headers/X-Event: bad glob", 0), 0u) << e;
  e = Refusal(R"({"routes":[{"match":{"body":{"/a":"[x]"}},"behavior":{}}]})");
  EXPECT_EQ(e.rfind("/routes/0/match/body/~1a: bad glob", 0), 0u) << e;
  EXPECT_EQ(Refusal(R"({"routes":[{"method":"post","behavior":{}}]})")
                .rfind("/routes/0/method: expected an HTTP method in capitals",
                       0),
            0u);
  EXPECT_EQ(Refusal(R"({"routes":[{"path":"/x"}]})")
                .rfind("/routes/0/behavior: missing required field", 0),
            0u);
  EXPECT_EQ(Refusal(R"({"routes":[{"name":"a","behavior":{}},
      {"name":"a","behavior":{}}]})")
                .rfind("/routes/1/name: route name \"a\" is already the name "
                       "of /routes/0",
                       0),
            0u);
  EXPECT_EQ(Refusal(R"({"routes":[{"behavior":{"routes":[]}}]})")
                .rfind("/routes/0/behavior/routes: routes do not nest", 0),
            0u);
  EXPECT_EQ(Refusal(R"({"routes":[{"behavior":{}}],"status":200})")
                .rfind("/status: with \"routes\"", 0),
            0u);
  EXPECT_EQ(Refusal(R"({"default":{"status":200}})").rfind("/default: ", 0),
            0u);
  EXPECT_EQ(Refusal(R"({"routes":[]})").rfind("/routes: expected a non-empty",
                                              0),
            0u);
  EXPECT_EQ(Refusal(R"({"routes":[{"behavior":{"status":700}}]})")
                .rfind("/routes/0/behavior/status: ", 0),
            0u);
}

// --- Deciding ---------------------------------------------------------------

TEST(RouteReceiverTest, FirstMatchWinsAndDefaultCatchesTheRest) {
  MockReceiver receiver = MakeReceiver(R"({"routes":[
      {"name": "special", "path": "/orders/special",
       "behavior": {"status": 202}},
      {"name": "orders", "path": "/orders/*", "behavior": {"status": 429}},
      {"name": "also-orders", "path": "/orders/*",
       "behavior": {"status": 500}}],
    "default": {"status": 200}})");
  Routed r = Send(receiver, Request("POST", "/orders/special"));
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.route, "special");
  r = Send(receiver, Request("POST", "/orders/9"));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.route, "orders");
  r = Send(receiver, Request("POST", "/elsewhere"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.route, "default");
}

TEST(RouteReceiverTest, MethodHeaderAndBodyPick) {
  MockReceiver receiver = MakeReceiver(R"({"routes":[
      {"name": "gets", "method": "GET", "behavior": {"status": 204}},
      {"name": "orders", "match": {"headers": {"X-Event": "order.*"}},
       "behavior": {"status": 201}},
      {"name": "blog", "match": {"body": {"/data/app": "blog"}},
       "behavior": {"status": 202}}],
    "default": {"status": 200}})");
  EXPECT_EQ(Send(receiver, Request("GET", "/hook")).route, "gets");
  TestRequest order = Request("POST", "/hook");
  order.With("x-EVENT", "order.paid");
  EXPECT_EQ(Send(receiver, order).route, "orders");
  TestRequest blog = Request("POST", "/hook");
  blog.body = R"({"event":"release","data":{"app":"blog"}})";
  Routed r = Send(receiver, blog);
  EXPECT_EQ(r.route, "blog");
  EXPECT_EQ(r.status, 202);
  r = Send(receiver, Request("POST", "/hook"));  // app "shop".
  EXPECT_EQ(r.route, "default");
  EXPECT_EQ(r.status, 200);
}

TEST(RouteReceiverTest, UnmatchedIs404JournalledWithClosestRouteAndWhy) {
  MockReceiver receiver = MakeReceiver(R"({"routes":[
      {"name": "invoices", "method": "PUT", "path": "/invoices/*",
       "behavior": {"status": 200}},
      {"name": "orders", "method": "POST", "path": "/orders/*",
       "behavior": {"status": 200}}]})");
  TestRequest request = Request("POST", "/x?y=1");
  const Reply reply = receiver.Handle(request.View(), AtMillis(0));
  EXPECT_EQ(reply.answer.status, 404);
  ASSERT_NE(reply.answer.extras, nullptr);
  const json body = json::parse(reply.answer.extras->body);
  EXPECT_EQ(body.at("closest"), "orders");
  EXPECT_EQ(body.at("why"), "route 'orders': path /x does not match /orders/*");
  EXPECT_EQ(body.at("error"), "no route matches POST /x?y=1");

  const JournalEntry e = LastEntry(receiver);
  EXPECT_EQ(e.route, "");
  EXPECT_EQ(e.closest_route, "orders");
  EXPECT_EQ(e.unmatched_why,
            "route 'orders': path /x does not match /orders/*");
  const json entry = JournalEntryToJson(e);
  EXPECT_TRUE(entry.at("route").is_null());
  EXPECT_EQ(entry.at("unmatched").at("closest"), "orders");
  EXPECT_EQ(entry.at("unmatched").at("why"),
            "route 'orders': path /x does not match /orders/*");
  EXPECT_EQ(entry.at("reply").at("status"), 404);

  // A matched request carries its route and no "unmatched".
  Send(receiver, Request("POST", "/orders/1"));
  const json matched = JournalEntryToJson(LastEntry(receiver));
  EXPECT_EQ(matched.at("route"), "orders");
  EXPECT_TRUE(matched.at("unmatched").is_null());
}

TEST(RouteReceiverTest, PlainBehaviourIsTheDefaultRoute) {
  MockReceiver receiver = MakeReceiver(R"({"status": 201})");
  const Routed r = Send(receiver, Request("DELETE", "/anything"));
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.route, "default");
}

TEST(RouteReceiverTest, SequencesRunPerRouteAndDelivery) {
  MockReceiver receiver = MakeReceiver(R"({"routes":[
      {"name": "a", "path": "/a", "behavior": {"sequence": [503, 502, 200]}},
      {"name": "b", "path": "/b", "behavior": {"sequence": [500, 201]}},
      {"name": "n", "path": "/n",
       "behavior": {"sequence": [501, 202], "per": "receiver"}}]})");
  // One delivery (same id) across two routes: each route counts its own.
  EXPECT_EQ(Send(receiver, Request("POST", "/a", "d1")).status, 503);
  EXPECT_EQ(Send(receiver, Request("POST", "/b", "d1")).status, 500);
  EXPECT_EQ(Send(receiver, Request("POST", "/a", "d1")).status, 502);
  EXPECT_EQ(Send(receiver, Request("POST", "/b", "d1")).status, 201);
  EXPECT_EQ(Send(receiver, Request("POST", "/a", "d1")).status, 200);
  // Another delivery starts each sequence afresh.
  EXPECT_EQ(Send(receiver, Request("POST", "/a", "d2")).status, 503);
  // Per receiver means per route: /n's count ignores the other routes.
  EXPECT_EQ(Send(receiver, Request("POST", "/n", "d3")).status, 501);
  EXPECT_EQ(Send(receiver, Request("POST", "/n", "d4")).status, 202);
  // The journal still counts attempts per delivery over all routes.
  receiver.WithJournal([](const Journal& j) {
    EXPECT_EQ(j.deliveries().at("d1").attempts, 5);
  });
  // Reset clears the per-route counts too.
  receiver.Reset();
  EXPECT_EQ(Send(receiver, Request("POST", "/a", "d1")).status, 503);
}

TEST(RouteReceiverTest, WeightedDrawsAreTheSameWhateverTheArrivalOrder) {
  const std::string behavior = R"({"routes":[
      {"name": "w", "path": "/w",
       "behavior": {"weighted": {"200": 0.5, "500": 0.5}}}]})";
  MockReceiver forward = MakeReceiver(behavior);
  MockReceiver backward = MakeReceiver(behavior);
  std::map<std::string, int> f;
  std::map<std::string, int> b;
  for (int i = 0; i < 20; ++i) {
    const std::string id = "d" + std::to_string(i);
    f[id] = Send(forward, Request("POST", "/w", id)).status;
  }
  for (int i = 19; i >= 0; --i) {
    const std::string id = "d" + std::to_string(i);
    b[id] = Send(backward, Request("POST", "/w", id)).status;
  }
  EXPECT_EQ(f, b);
}

// --- Live log ---------------------------------------------------------------

TEST(RouteLogTest, LinesNameTheRouteOnlyWithRoutes) {
  RequestLogRecord r;
  r.method = "POST";
  r.path = "/orders/1";
  r.delivery = "dlv_1";
  r.attempt = 1;
  r.answer = Answer{429, Fault::kNone};
  const std::string plain = FormatRequestLog(r, RequestLogFormat::kText);
  EXPECT_EQ(plain.find("route="), std::string::npos) << plain;
  EXPECT_EQ(json::parse(FormatRequestLog(r, RequestLogFormat::kJson))
                .at("route"),
            "default");
  r.routed = true;
  r.route = "orders";
  const std::string routed = FormatRequestLog(r, RequestLogFormat::kText);
  EXPECT_EQ(routed.substr(routed.size() - 13), " route=orders") << routed;
  r.route = "";
  r.answer = Answer{404, Fault::kNone};
  const std::string unmatched = FormatRequestLog(r, RequestLogFormat::kText);
  EXPECT_EQ(unmatched.substr(unmatched.size() - 10), " unmatched")
      << unmatched;
  EXPECT_TRUE(json::parse(FormatRequestLog(r, RequestLogFormat::kJson))
                  .at("route")
                  .is_null());
}

TEST(RouteLogTest, HandleReportsTheRouteToTheServer) {
  MockReceiver receiver = MakeReceiver(R"({"routes":[
      {"name": "orders", "path": "/orders/*", "behavior": {"status": 429}}]})");
  HandleFacts facts;
  TestRequest hit = Request("POST", "/orders/1");
  receiver.Handle(hit.View(), AtMillis(0), nullptr, nullptr, &facts);
  EXPECT_TRUE(facts.routed);
  EXPECT_EQ(facts.route, "orders");
  TestRequest miss = Request("POST", "/x");
  receiver.Handle(miss.View(), AtMillis(0), nullptr, nullptr, &facts);
  EXPECT_EQ(facts.route, "");
  MockReceiver plain = MakeReceiver(R"({"status": 200})");
  plain.Handle(hit.View(), AtMillis(0), nullptr, nullptr, &facts);
  EXPECT_FALSE(facts.routed);
  EXPECT_EQ(facts.route, "default");
}

// --- Warnings ---------------------------------------------------------------

TEST(RouteWarningTest, RouteAfterCatchAllIsUnreachable) {
  const BehaviorSpec spec = Parse(R"({"routes":[
      {"name": "all", "behavior": {"status": 200}},
      {"name": "orders", "path": "/orders/*", "behavior": {"status": 429}}],
    "default": {"status": 200}})");
  const std::vector<std::string> w = RouteWarnings(spec, "");
  ASSERT_EQ(w.size(), 2u) << ::testing::PrintToString(w);
  EXPECT_EQ(w[0],
            "/routes/1 'orders' is unreachable: /routes/0 'all' before it "
            "matches every request it matches");
  EXPECT_EQ(w[1],
            "/default is unreachable: /routes/0 'all' before it matches "
            "every request it matches");
}

TEST(RouteWarningTest, SpecificBeforeGeneralIsQuietOverlapIsNamed) {
  EXPECT_TRUE(RouteWarnings(Parse(R"({"routes":[
      {"name": "one", "path": "/orders/1", "behavior": {}},
      {"name": "orders", "path": "/orders/*", "behavior": {}}],
    "default": {}})"),
                            "")
                  .empty());
  const std::vector<std::string> w = RouteWarnings(Parse(R"({"routes":[
      {"name": "orders", "path": "/orders/*", "behavior": {}},
      {"name": "ones", "path": "/*/1", "behavior": {}}]})"),
                                                   "/receivers/x/behavior");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0],
            "/receivers/x/behavior/routes/0 'orders' and "
            "/receivers/x/behavior/routes/1 'ones' overlap: both match e.g. "
            "/orders/1; 'orders' wins, it comes first");
  // The general route first makes the specific one unreachable.
  const std::vector<std::string> u = RouteWarnings(Parse(R"({"routes":[
      {"name": "orders", "path": "/orders/*", "behavior": {}},
      {"name": "one", "method": "POST", "path": "/orders/1",
       "behavior": {}}]})"),
                                                   "");
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].rfind("/routes/1 'one' is unreachable: /routes/0 'orders'",
                       0),
            0u);
}

// --- Admin API --------------------------------------------------------------

TEST(RouteAdminTest, PutBehaviorSwapsRoutesAtRunTime) {
  MockReceiver receiver = MakeReceiver(R"({"status": 200})");
  EXPECT_EQ(Send(receiver, Request("POST", "/orders/1")).status, 200);
  AdminRequest put;
  put.method = "PUT";
  put.path = "/__hooksim/behavior";
  put.body = R"({"routes":[
      {"name": "all", "behavior": {"status": 200}},
      {"name": "orders", "path": "/orders/*", "behavior": {"status": 429}}]})";
  AdminResponse answer = HandleAdminRequest(receiver, put);
  ASSERT_EQ(answer.status, 200) << answer.body;
  const json body = json::parse(answer.body);
  ASSERT_EQ(body.at("warnings").size(), 1u);
  EXPECT_NE(body.at("warnings")[0].get<std::string>().find("unreachable"),
            std::string::npos);
  EXPECT_EQ(Send(receiver, Request("POST", "/orders/1")).route, "all");

  put.body = R"({"routes":[
      {"name": "orders", "path": "/orders/*",
       "behavior": {"status": 429, "headers": {"Retry-After": "2"}}}],
    "default": {"status": 200}})";
  answer = HandleAdminRequest(receiver, put);
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_TRUE(json::parse(answer.body).at("warnings").empty());
  Routed r = Send(receiver, Request("POST", "/orders/1"));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.route, "orders");
  EXPECT_EQ(Send(receiver, Request("POST", "/x")).route, "default");

  AdminRequest get;
  get.method = "GET";
  get.path = "/__hooksim/behavior";
  answer = HandleAdminRequest(receiver, get);
  EXPECT_EQ(json::parse(answer.body).at("routes")[0].at("name"), "orders");

  put.body = R"({"routes":[{"path":"/x[","behavior":{}}]})";
  answer = HandleAdminRequest(receiver, put);
  EXPECT_EQ(answer.status, 400);
  EXPECT_NE(answer.body.find("/routes/0/path: bad path glob"),
            std::string::npos)
      << answer.body;
  // The refused behaviour changed nothing.
  EXPECT_EQ(Send(receiver, Request("POST", "/orders/1")).status, 429);
}

// --- Both worlds -------------------------------------------------------------

// Routes by the release body: production releases answer 503, 503, 200;
// GitHub-sourced ones 500 then 200; anything else 200.
constexpr char kRoutedScenario[] = R"({
  "name": "routed",
  "seed": 5,
  "events": {"count": 24, "apps": 3, "interval_ms": 20},
  "retry": {"schedule_ms": [1000, 2000, 4000, 8000, 16000],
            "timeout_ms": 60000},
  "receivers": {
    "shop": {"behavior": {
      "routes": [
        {"name": "production",
         "match": {"body": {"/data/release/env": "production"}},
         "behavior": {"sequence": [503, 503, 200]}},
        {"name": "github", "method": "POST", "path": "/hook",
         "match": {"headers": {"Content-Type": "application/json*"},
                   "body": {"/data/release/source": "Git*"}},
         "behavior": {"sequence": [500, 200]}}
      ],
      "default": {"status": 200}}}
  }
})";

// (delivery, attempt) -> "route status", from a run's receivers.
std::map<std::string, std::string> RoutesSeen(const RunResult& run) {
  std::map<std::string, std::string> out;
  for (const auto& receiver : run.receivers) {
    receiver->WithJournal([&](const Journal& j) {
      for (const JournalEntry& e : j.Recent()) {
        out[e.delivery_key + "#" + std::to_string(e.delivery_attempt)] =
            e.route + " " + std::to_string(e.reply.answer.status);
      }
    });
  }
  return out;
}

TEST(RouteParityTest, SameRoutesAndAttemptsInBothWorlds) {
  Result<Scenario> scenario = ParseScenarioText(kRoutedScenario);
  ASSERT_TRUE(scenario.ok()) << scenario.error().ToString();
  RunOptions sim_options;
  Result<std::unique_ptr<RunResult>> sim = RunScenario(*scenario, sim_options);
  ASSERT_TRUE(sim.ok()) << sim.error().ToString();
  RunOptions http_options;
  http_options.world = World::kHttp;
  http_options.time_scale = 0.05;
  Result<std::unique_ptr<RunResult>> http =
      RunScenario(*scenario, http_options);
  ASSERT_TRUE(http.ok()) << http.error().ToString();
  ASSERT_TRUE((*http)->clock_status.ok()) << (*http)->clock_status.ToString();

  const std::map<std::string, std::string> sim_routes = RoutesSeen(**sim);
  const std::map<std::string, std::string> http_routes = RoutesSeen(**http);
  EXPECT_EQ(sim_routes, http_routes);
  // Every route was taken, so the comparison means something.
  std::map<std::string, int> taken;
  for (const auto& [key, seen] : sim_routes) {
    ++taken[seen.substr(0, seen.find(' '))];
  }
  EXPECT_GT(taken["production"], 0);
  EXPECT_GT(taken["github"], 0);
  EXPECT_GT(taken["default"], 0);

  const auto& sd = (*sim)->engine->deliveries();
  const auto& hd = (*http)->engine->deliveries();
  ASSERT_EQ(sd.size(), hd.size());
  std::map<std::string, const Delivery*> by_id;
  for (const Delivery& d : hd) by_id[d.id.str()] = &d;
  for (const Delivery& d : sd) {
    ASSERT_TRUE(by_id.count(d.id.str())) << d.id;
    EXPECT_EQ(d.attempts, by_id[d.id.str()]->attempts) << d.id;
    EXPECT_EQ(d.state, by_id[d.id.str()]->state) << d.id;
    EXPECT_EQ(d.state, DeliveryState::kDelivered) << d.id;
  }
  EXPECT_TRUE(Verify((*sim)->Record()).passed());
  EXPECT_TRUE(Verify((*http)->Record()).passed());
}

// --- Over HTTP and on the command line ---------------------------------------

TEST(RouteHttpTest, TwoRouteReceiverOverHttp) {
  MockReceiver receiver(ReceiverOptions{"r", {}, nullptr}, Parse(R"({
      "routes": [{"name": "orders", "path": "/orders/*",
                  "behavior": {"status": 429,
                               "headers": {"Retry-After": "2"}}}],
      "default": {"status": 200}})"),
                        Random(1));
  HttpReceiverServer server(receiver, HttpReceiverOptions{});
  ASSERT_TRUE(server.Start().ok());
  {
    httplib::Client client("127.0.0.1", server.port());
    client.set_connection_timeout(std::chrono::seconds(5));
    client.set_read_timeout(std::chrono::seconds(5));
    auto orders = client.Post("/orders/7", R"({"event":"x","data":{}})",
                              "application/json");
    ASSERT_TRUE(orders);
    EXPECT_EQ(orders->status, 429);
    EXPECT_EQ(orders->get_header_value("Retry-After"), "2");
    auto other = client.Post("/hook", R"({"event":"x","data":{}})",
                             "application/json");
    ASSERT_TRUE(other);
    EXPECT_EQ(other->status, 200);
    auto journal = client.Get("/__hooksim/requests");
    ASSERT_TRUE(journal);
    const json entries = json::parse(journal->body);
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].at("route"), "orders");
    EXPECT_EQ(entries[1].at("route"), "default");
  }
  server.Stop();
}

TEST(RouteHttpTest, UnmatchedOverHttpIs404WithTheReason) {
  MockReceiver receiver(ReceiverOptions{"r", {}, nullptr}, Parse(R"({
      "routes": [{"name": "orders", "path": "/orders/*",
                  "behavior": {"status": 200}}]})"),
                        Random(1));
  HttpReceiverServer server(receiver, HttpReceiverOptions{});
  ASSERT_TRUE(server.Start().ok());
  {
    httplib::Client client("127.0.0.1", server.port());
    client.set_connection_timeout(std::chrono::seconds(5));
    client.set_read_timeout(std::chrono::seconds(5));
    auto miss = client.Post("/x", "{}", "application/json");
    ASSERT_TRUE(miss);
    EXPECT_EQ(miss->status, 404);
    const json body = json::parse(miss->body);
    EXPECT_EQ(body.at("why"), "route 'orders': path /x does not match /orders/*");
  }
  server.Stop();
  const JournalEntry e = LastEntry(receiver);
  EXPECT_EQ(e.closest_route, "orders");
  EXPECT_EQ(e.reply.answer.status, 404);
}

// Runs `hooksim receiver` in-process on a kernel-chosen port and stops it
// at once; returns its exit code, stdout and stderr.
testing::CliResult ServeAndStop(ReceiverCommandOptions options) {
  options.listen = "127.0.0.1:0";
  std::ostringstream out;
  std::ostringstream err;
  const int code = RunReceiverCommand(options, out, err, [] {});
  return {code, out.str(), err.str()};
}

TEST(RouteCliTest, UnreachableRouteIsWarnedAtStart) {
  ReceiverCommandOptions options;
  options.behavior = R"({"routes":[{"name":"all","behavior":{}},
      {"name":"orders","path":"/orders/*","behavior":{"status":429}}]})";
  const testing::CliResult r = ServeAndStop(options);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("hooksim receiver: warning: receiver default: "
                       "/routes/1 'orders' is unreachable: /routes/0 'all' "
                       "before it matches every request it matches"),
            std::string::npos)
      << r.err;
}

TEST(RouteCliTest, BadGlobOrPointerIsExit2WithItsPointer) {
  testing::CliResult r = testing::Cli(
      {"receiver", "--listen", "127.0.0.1:0", "--behavior",
       R"({"routes":[{"behavior":{}},{"behavior":{}},)"
       R"({"match":{"body":{"data":1}},"behavior":{}}]})"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("/routes/2/match/body/data: bad JSON pointer"),
            std::string::npos)
      << r.err;
  r = testing::Cli({"receiver", "--listen", "127.0.0.1:0", "--behavior",
                    R"({"routes":[{"path":"/a[b","behavior":{}}]})"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("/routes/0/path: bad path glob"), std::string::npos)
      << r.err;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(RouteDirTest, OneRoutePerFileInNameOrder) {
  std::optional<TempDir> dir;
  dir.emplace("routes");
  ASSERT_TRUE(dir->ok());
  const std::string d = dir->path();
  WriteFile(d + "/20-orders.json",
            R"({"path": "/orders/*", "behavior": {"status": 429}})");
  WriteFile(d + "/10-special.json",
            R"({"name": "special", "path": "/orders/1",
                "behavior": {"status": 202}})");
  WriteFile(d + "/99-rest.json", R"({"behavior": {"status": 200}})");
  WriteFile(d + "/notes.txt", "not a route");
  WriteFile(d + "/.hidden.json", "not even JSON");
  std::filesystem::create_directory(d + "/sub.json");

  Result<BehaviorDir> loaded = LoadBehaviorDir(d);
  ASSERT_TRUE(loaded.ok()) << loaded.error().ToString();
  ASSERT_EQ(loaded->spec.routes.size(), 3u);
  EXPECT_EQ(loaded->spec.routes[0].name, "special");
  EXPECT_EQ(loaded->spec.routes[1].name, "20-orders");
  EXPECT_EQ(loaded->spec.routes[2].name, "99-rest");
  EXPECT_EQ(loaded->files[1], d + "/20-orders.json");

  MockReceiver receiver(ReceiverOptions{"r", {}, nullptr}, loaded->spec,
                        Random(1));
  EXPECT_EQ(Send(receiver, Request("POST", "/orders/1")).status, 202);
  EXPECT_EQ(Send(receiver, Request("POST", "/orders/2")).status, 429);
  EXPECT_EQ(Send(receiver, Request("POST", "/x")).route, "99-rest");

  ReceiverCommandOptions options;
  options.behavior_dir = d;
  const testing::CliResult r = ServeAndStop(options);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // Specific, general, catch-all: nothing to warn.
}

TEST(RouteDirTest, ErrorsNameTheFileAndPointer) {
  std::optional<TempDir> dir;
  dir.emplace("routes");
  ASSERT_TRUE(dir->ok());
  const std::string d = dir->path();

  testing::CliResult r =
      testing::Cli({"receiver", "--behavior-dir", d + "/missing"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--behavior-dir: " + d + "/missing: no such directory"),
            std::string::npos)
      << r.err;

  r = testing::Cli({"receiver", "--behavior-dir", d});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(d + ": no *.json route files"), std::string::npos)
      << r.err;

  WriteFile(d + "/a.json", R"({"behavior": {"status": 200}})");
  WriteFile(d + "/b.json",
            R"({"match": {"body": {"/x~": 1}}, "behavior": {}})");
  r = testing::Cli({"receiver", "--behavior-dir", d});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--behavior-dir: " + d +
                       "/b.json: /match/body/~1x~0: bad JSON pointer"),
            std::string::npos)
      << r.err;

  WriteFile(d + "/b.json", "{ not json");
  r = testing::Cli({"receiver", "--behavior-dir", d});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(d + "/b.json: invalid JSON"), std::string::npos)
      << r.err;

  WriteFile(d + "/b.json", R"({"name": "a", "behavior": {}})");
  r = testing::Cli({"receiver", "--behavior-dir", d});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(d + "/b.json: /name: route name \"a\" is already the "
                           "name of " +
                       d + "/a.json's route"),
            std::string::npos)
      << r.err;

  r = testing::Cli({"receiver", "--behavior-dir", d + "/a.json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not a directory"), std::string::npos) << r.err;

  r = testing::Cli({"receiver", "--behavior-dir", d, "--behavior", "{}"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("at most one of"), std::string::npos) << r.err;
}

TEST(RouteDirTest, WarningsNameTheFiles) {
  std::optional<TempDir> dir;
  dir.emplace("routes");
  ASSERT_TRUE(dir->ok());
  const std::string d = dir->path();
  WriteFile(d + "/1-all.json", R"({"behavior": {"status": 200}})");
  WriteFile(d + "/2-orders.json",
            R"({"path": "/orders/*", "behavior": {"status": 429}})");
  ReceiverCommandOptions options;
  options.behavior_dir = d;
  const testing::CliResult r = ServeAndStop(options);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: receiver default: " + d +
                       "/2-orders.json '2-orders' is unreachable: " + d +
                       "/1-all.json '1-all' before it"),
            std::string::npos)
      << r.err;
}

TEST(RouteCliTest, RunWarnsAboutAScenariosUnreachableRoute) {
  std::optional<TempDir> dir;
  dir.emplace("routes");
  ASSERT_TRUE(dir->ok());
  const std::string file = dir->path() + "/s.json";
  WriteFile(file, R"({"name": "w", "events": {"count": 1},
    "receivers": {"r": {"behavior": {"routes": [
      {"name": "all", "behavior": {"status": 200}},
      {"name": "never", "path": "/x", "behavior": {"status": 500}}]}}}})");
  const testing::CliResult r = testing::Cli({"run", file});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("hooksim run: warning: " + file +
                       ": /receivers/r/behavior/routes/1 'never' is "
                       "unreachable"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace hooksim
