// Signature schemes a receiver verifies (issue 15, point 7): Standard
// Webhooks, Stripe, GitHub, Shopify; and the wall clock a `hooksim
// receiver` judges timestamps by whatever --time-scale compresses.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "mock-receivers/behavior_parser.h"
#include "mock-receivers/http/http_receiver_server.h"
#include "mock-receivers/receiver.h"
#include "mock-receivers/signature_check.h"
#include "sim/cli/receiver_command.h"
#include "sim/contract/webhook_signature.h"

namespace hooksim {
namespace {

using nlohmann::json;

Duration At(int64_t unix_s) { return std::chrono::seconds(unix_s); }

HttpRequest Request(const std::vector<Header>& headers,
                    std::string_view body) {
  return HttpRequest{"POST", "/hook", headers, body};
}

// GitHub's published example ("Validating webhook deliveries": secret
// "It's a Secret to Everybody", payload "Hello, World!").
TEST(SignatureSchemesTest, GithubKnownAnswerFromItsDocs) {
  EXPECT_EQ(SignGithubSha256("It's a Secret to Everybody", "Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b0"
            "43e17");
  const std::string body = "Hello, World!";
  const std::vector<Header> good = {
      {"X-Hub-Signature-256",
       "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1"
       "7"}};
  EXPECT_EQ(CheckGithubSignature(Request(good, body),
                                 "It's a Secret to Everybody"),
            SignatureVerdict::kValid);
  EXPECT_EQ(CheckGithubSignature(Request(good, body), "another secret"),
            SignatureVerdict::kBad);
  EXPECT_EQ(CheckGithubSignature(Request({}, body), "x"),
            SignatureVerdict::kMissing);
}

// Stripe publishes no test vector; this one was computed with
//   printf '%s' '1700000000.{"id":"evt_1"}' |
//     openssl dgst -sha256 -hmac 'whsec_test_secret'
constexpr char kStripeKey[] = "whsec_test_secret";
constexpr int64_t kStripeT = 1700000000;
constexpr char kStripeBody[] = R"({"id":"evt_1"})";
constexpr char kStripeV1[] =
    "248a374f50f943a28b0f6ab50faf9a7e7e29b710fa26df9fb1618b9bf8ea9c9a";

TEST(SignatureSchemesTest, StripeKnownAnswerAndTolerance) {
  EXPECT_EQ(SignStripeV1(kStripeKey, kStripeT, kStripeBody), kStripeV1);
  const std::string header = StripeSignatureHeader(kStripeKey, kStripeT,
                                                   kStripeBody);
  EXPECT_EQ(header, std::string("t=1700000000,v1=") + kStripeV1);
  const std::vector<Header> good = {{"Stripe-Signature", header}};
  auto check = [&](const std::vector<Header>& h, int64_t now_s,
                   std::string_view body = kStripeBody) {
    return CheckStripeSignature(Request(h, body), kStripeKey, At(now_s));
  };
  EXPECT_EQ(check(good, kStripeT), SignatureVerdict::kValid);
  // 300 s either way; 301 is stale.
  EXPECT_EQ(check(good, kStripeT + 300), SignatureVerdict::kValid);
  EXPECT_EQ(check(good, kStripeT - 300), SignatureVerdict::kValid);
  EXPECT_EQ(check(good, kStripeT + 301), SignatureVerdict::kStale);
  EXPECT_EQ(check(good, kStripeT - 301), SignatureVerdict::kStale);
  // Any v1 of several (secret rotation); v0 and unknown schemes skipped.
  // Header holds views: the values live in named strings.
  const std::string several_text =
      std::string("t=1700000000,v0=abc,v1=00ff,v1=") + kStripeV1 + ",x=1";
  const std::vector<Header> several = {{"Stripe-Signature", several_text}};
  EXPECT_EQ(check(several, kStripeT), SignatureVerdict::kValid);
  EXPECT_EQ(check(good, kStripeT, R"({"id":"evt_2"})"),
            SignatureVerdict::kBad);
  const std::vector<Header> no_v1 = {{"Stripe-Signature", "t=1700000000"}};
  EXPECT_EQ(check(no_v1, kStripeT), SignatureVerdict::kBad);
  const std::string no_t_text = std::string("v1=") + kStripeV1;
  const std::vector<Header> no_t = {{"Stripe-Signature", no_t_text}};
  EXPECT_EQ(check(no_t, kStripeT), SignatureVerdict::kStale);
  EXPECT_EQ(check({}, kStripeT), SignatureVerdict::kMissing);
  EXPECT_EQ(CheckStripeSignature(Request(good, kStripeBody), "whsec_other",
                                 At(kStripeT)),
            SignatureVerdict::kBad);
}

// Shopify publishes no test vector; this one was computed with
//   printf '%s' '{"id":1}' | openssl dgst -sha256 -hmac hush -binary | base64
TEST(SignatureSchemesTest, ShopifyKnownAnswer) {
  EXPECT_EQ(SignShopify("hush", R"({"id":1})"),
            "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY=");
  const std::vector<Header> good = {
      {"X-Shopify-Hmac-SHA256",
       "VnKUjZsLuN5iZWjn5EntcBVCF9kMN43LglzCE1/GSeY="}};
  EXPECT_EQ(CheckShopifySignature(Request(good, R"({"id":1})"), "hush"),
            SignatureVerdict::kValid);
  EXPECT_EQ(CheckShopifySignature(Request(good, R"({"id":2})"), "hush"),
            SignatureVerdict::kBad);
  EXPECT_EQ(CheckShopifySignature(Request({}, R"({"id":1})"), "hush"),
            SignatureVerdict::kMissing);
}

TEST(SignatureSchemesTest, NamesReasonsAndParsing) {
  for (SignatureScheme s :
       {SignatureScheme::kStandardWebhooks, SignatureScheme::kStripe,
        SignatureScheme::kGithub, SignatureScheme::kShopify}) {
    EXPECT_EQ(ParseSignatureScheme(SignatureSchemeName(s)), s);
    EXPECT_NE(SignatureReason(s, SignatureVerdict::kMissing), "");
    EXPECT_EQ(SignatureReason(s, SignatureVerdict::kValid), "");
  }
  EXPECT_EQ(ParseSignatureScheme("svix"), std::nullopt);
  EXPECT_NE(SignatureReason(SignatureScheme::kStripe,
                            SignatureVerdict::kMissing)
                .find("Stripe-Signature"),
            std::string_view::npos);
}

TEST(SignatureSchemesTest, BehaviourNamesItsScheme) {
  Result<BehaviorSpec> spec = ParseBehavior(
      json::parse(R"({"verify_signature":{"scheme":"stripe",
                                          "secret":"whsec_test_secret"}})"),
      "");
  ASSERT_TRUE(spec.ok()) << spec.error().ToString();
  EXPECT_EQ(spec->verify_scheme, SignatureScheme::kStripe);
  EXPECT_EQ(spec->verify_key, "whsec_test_secret");  // The text, as is.
  Result<BehaviorSpec> again = ParseBehavior(BehaviorToJson(*spec), "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->verify_scheme, SignatureScheme::kStripe);
  EXPECT_EQ(again->verify_key, spec->verify_key);
  // The plain string is Standard Webhooks, as before.
  spec = ParseBehavior(
      json::parse(R"({"verify_signature":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})"),
      "");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->verify_scheme, SignatureScheme::kStandardWebhooks);
  EXPECT_EQ(BehaviorToJson(*spec)["verify_signature"],
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  // Bad input names the field.
  auto path_of = [](const char* text) {
    Result<BehaviorSpec> r = ParseBehavior(json::parse(text), "");
    return r.ok() ? std::string("ok") : r.error().path();
  };
  EXPECT_EQ(path_of(R"({"verify_signature":{"scheme":"svix","secret":"s"}})"),
            "/verify_signature/scheme");
  EXPECT_EQ(path_of(R"({"verify_signature":{"scheme":"github"}})"),
            "/verify_signature/secret");
  EXPECT_EQ(path_of(R"({"verify_signature":{"scheme":"github","secret":""}})"),
            "/verify_signature/secret");
  EXPECT_EQ(path_of(R"({"verify_signature":{"scheme":"standard-webhooks",
                                            "secret":"nope"}})"),
            "/verify_signature/secret");
  EXPECT_EQ(path_of(R"({"verify_signature":{"secret":"s","x":1}})"),
            "/verify_signature/x");
}

// A receiver verifying each scheme answers 200 to a request signed by it
// and 401 to one signed by another.
TEST(SignatureSchemesTest, ReceiverVerifiesEachScheme) {
  const std::string body = R"({"id":"evt_1"})";
  const int64_t now_s = 1700000000;
  struct Case {
    const char* behavior;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  const std::string std_key =
      DecodeWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").value();
  const std::vector<Case> cases = {
      {R"({"verify_signature":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})",
       {{"webhook-id", "msg_1"},
        {"webhook-timestamp", std::to_string(now_s)},
        {"webhook-signature", SignWebhook(std_key, "msg_1", now_s, body)}}},
      {R"({"verify_signature":{"scheme":"stripe","secret":"whsec_s"}})",
       {{"Stripe-Signature", StripeSignatureHeader("whsec_s", now_s, body)}}},
      {R"({"verify_signature":{"scheme":"github","secret":"gh"}})",
       {{"X-Hub-Signature-256", SignGithubSha256("gh", body)}}},
      {R"({"verify_signature":{"scheme":"shopify","secret":"shop"}})",
       {{"X-Shopify-Hmac-SHA256", SignShopify("shop", body)}}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    Result<BehaviorSpec> spec = ParseBehavior(json::parse(cases[i].behavior), "");
    ASSERT_TRUE(spec.ok()) << spec.error().ToString();
    ReceiverOptions options;
    options.unix_origin = At(now_s);
    MockReceiver receiver(options, *spec, Random(1));
    for (size_t j = 0; j < cases.size(); ++j) {
      std::vector<Header> headers;
      for (const auto& [n, v] : cases[j].headers) headers.push_back({n, v});
      const Reply reply =
          receiver.Handle(Request(headers, body), TimePoint{});
      EXPECT_EQ(reply.answer.status, i == j ? 200 : 401)
          << cases[i].behavior << " <- " << cases[j].headers[0].first;
      if (i != j) {
        EXPECT_EQ(reply.signature, SignatureVerdict::kMissing);
      }
    }
  }
}

// The receiver judges timestamps by its signature clock, not by the run
// timeline: with the timeline an hour ahead (as --time-scale 0.01 makes it
// after 36 s), a signature made now is still fresh.
TEST(SignatureSchemesTest, SignatureClockIsNotTheRunTimeline) {
  Result<BehaviorSpec> spec = ParseBehavior(
      json::parse(R"({"verify_signature":{"scheme":"stripe","secret":"k"}})"),
      "");
  ASSERT_TRUE(spec.ok());
  const int64_t now_s = 1700000000;
  const std::string body = "{}";
  const std::string signature = StripeSignatureHeader("k", now_s, body);
  const std::vector<Header> headers = {{"Stripe-Signature", signature}};
  const TimePoint an_hour_later{std::chrono::hours(1)};
  ReceiverOptions timeline;
  timeline.unix_origin = At(now_s);
  MockReceiver on_timeline(timeline, *spec, Random(1));
  EXPECT_EQ(on_timeline.Handle(Request(headers, body), an_hour_later).signature,
            SignatureVerdict::kStale);
  ReceiverOptions wall = timeline;
  wall.signature_clock = [now_s] { return At(now_s); };
  MockReceiver on_wall(wall, *spec, Random(1));
  EXPECT_EQ(on_wall.Handle(Request(headers, body), an_hour_later).signature,
            SignatureVerdict::kValid);
}

// `hooksim receiver --time-scale 0.001`: half a wall second is 500 s of
// run time, past the 300 s tolerance; a request signed with the wall
// clock now is still valid (it was stale before the fix).
TEST(SignatureSchemesTest, ReceiverCommandJudgesByTheWallClock) {
  ReceiverCommandOptions options;
  options.listen = "127.0.0.1:0";
  options.time_scale = 0.001;
  options.behavior =
      R"({"verify_signature":{"scheme":"stripe","secret":"whsec_k"}})";
  std::ostringstream out;
  std::ostringstream err;
  int status = 0;
  std::string verdict;
  const int code = RunReceiverCommand(options, out, err, [&] {
    const std::string text = out.str();
    const std::string marker = "http://127.0.0.1:";
    const size_t at = text.find(marker);
    ASSERT_NE(at, std::string::npos) << text;
    const int port = std::stoi(text.substr(at + marker.size()));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const std::string body = R"({"id":"evt_1"})";
    const int64_t now_s =
        std::chrono::duration_cast<std::chrono::seconds>(UnixTimeNow())
            .count();
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(std::chrono::seconds(5));
    client.set_read_timeout(std::chrono::seconds(5));
    auto r = client.Post(
        "/hook",
        {{"Stripe-Signature", StripeSignatureHeader("whsec_k", now_s, body)}},
        body, "application/json");
    ASSERT_TRUE(r);
    status = r->status;
    verdict = r->body;
  });
  EXPECT_EQ(code, 0) << err.str();
  EXPECT_EQ(status, 200) << verdict;
}

}  // namespace
}  // namespace hooksim
