#include "mock-receivers/signature_check.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "mock-receivers/admin_api.h"
#include "mock-receivers/behavior_parser.h"
#include "mock-receivers/receiver.h"
#include "sim/contract/webhook_signature.h"

namespace hooksim {
namespace {

// The Standard Webhooks known-answer vector.
constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kId[] = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kTimestamp = 1614265330;
constexpr char kBody[] = R"({"test": 2432232314})";
constexpr char kSignature[] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

struct Signed {
  std::vector<std::pair<std::string, std::string>> text = {
      {"webhook-id", kId},
      {"webhook-timestamp", std::to_string(kTimestamp)},
      {"webhook-signature", kSignature}};
  std::string body = kBody;
  std::vector<Header> headers;

  Signed& Set(const std::string& name, std::string value) {
    for (auto& [n, v] : text) {
      if (n == name) v = std::move(value);
    }
    return *this;
  }
  Signed& Drop(const std::string& name) {
    std::erase_if(text, [&](const auto& h) { return h.first == name; });
    return *this;
  }
  HttpRequest View() {
    headers.clear();
    for (const auto& [n, v] : text) headers.push_back(Header{n, v});
    return HttpRequest{"POST", "/hook", headers, body};
  }
};

std::string Key() { return DecodeWebhookSecret(kSecret).value(); }
Duration At(int64_t unix_s) { return std::chrono::seconds(unix_s); }

TEST(SignatureCheckTest, AcceptsTheKnownAnswerVector) {
  Signed r;
  EXPECT_EQ(CheckSignature(r.View(), Key(), At(kTimestamp)),
            SignatureVerdict::kValid);
}

TEST(SignatureCheckTest, AcceptsAnyOfSeveralSignatures) {
  Signed r;
  r.Set("webhook-signature",
        std::string("v1,AAAA v1a,") + (kSignature + 3) + " " + kSignature);
  EXPECT_EQ(CheckSignature(r.View(), Key(), At(kTimestamp)),
            SignatureVerdict::kValid);
  // The right bytes under another version do not count.
  r.Set("webhook-signature", std::string("v2,") + (kSignature + 3));
  EXPECT_EQ(CheckSignature(r.View(), Key(), At(kTimestamp)),
            SignatureVerdict::kBad);
}

TEST(SignatureCheckTest, RejectsATamperedBodyIdOrKey) {
  Signed body;
  body.body = R"({"test": 2432232315})";
  EXPECT_EQ(CheckSignature(body.View(), Key(), At(kTimestamp)),
            SignatureVerdict::kBad);
  Signed id;
  id.Set("webhook-id", "msg_other");
  EXPECT_EQ(CheckSignature(id.View(), Key(), At(kTimestamp)),
            SignatureVerdict::kBad);
  Signed key;
  EXPECT_EQ(CheckSignature(key.View(), "another key", At(kTimestamp)),
            SignatureVerdict::kBad);
}

TEST(SignatureCheckTest, MissingHeadersAreMissing) {
  for (const char* name :
       {"webhook-id", "webhook-timestamp", "webhook-signature"}) {
    Signed r;
    r.Drop(name);
    EXPECT_EQ(CheckSignature(r.View(), Key(), At(kTimestamp)),
              SignatureVerdict::kMissing)
        << name;
    Signed empty;
    empty.Set(name, "");
    EXPECT_EQ(CheckSignature(empty.View(), Key(), At(kTimestamp)),
              SignatureVerdict::kMissing)
        << name;
  }
}

TEST(SignatureCheckTest, FiveMinutesToleranceBothWays) {
  Signed r;
  EXPECT_EQ(CheckSignature(r.View(), Key(), At(kTimestamp + 300)),
            SignatureVerdict::kValid);
  EXPECT_EQ(CheckSignature(r.View(), Key(), At(kTimestamp - 300)),
            SignatureVerdict::kValid);
  EXPECT_EQ(CheckSignature(r.View(), Key(), At(kTimestamp + 301)),
            SignatureVerdict::kStale);
  EXPECT_EQ(CheckSignature(r.View(), Key(), At(kTimestamp - 301)),
            SignatureVerdict::kStale);
  r.Set("webhook-timestamp", "16142653x0");
  EXPECT_EQ(CheckSignature(r.View(), Key(), At(kTimestamp)),
            SignatureVerdict::kStale);
}

// The behaviour answers 401 to anything not validly signed, at the
// receiver's Unix now (its origin plus the run time), and journals it.
TEST(SignatureCheckTest, VerifyingReceiverAnswers401AndJournalsTheVerdict) {
  Result<BehaviorSpec> spec = ParseBehavior(
      nlohmann::json{{"status", 200}, {"verify_signature", kSecret}}, "");
  ASSERT_TRUE(spec.ok());
  ReceiverOptions options;
  options.name = "verifier";
  options.unix_origin = At(kTimestamp - 10);  // Run time 10 s = kTimestamp.
  MockReceiver receiver(options, *spec, Random(1));
  Signed good;
  EXPECT_EQ(receiver.Handle(good.View(), AtMillis(10'000)).answer.status, 200);
  Signed bad;
  bad.Set("webhook-signature", "v1,AAAA");
  const Reply bad_reply = receiver.Handle(bad.View(), AtMillis(10'000));
  EXPECT_EQ(bad_reply.answer.status, 401);
  EXPECT_EQ(bad_reply.signature, SignatureVerdict::kBad);
  Signed stale;
  EXPECT_EQ(receiver.Handle(stale.View(), AtMillis(400'000)).signature,
            SignatureVerdict::kStale);
  Signed missing;
  missing.Drop("webhook-signature");
  EXPECT_EQ(receiver.Handle(missing.View(), AtMillis(10'000)).answer.status,
            401);
  receiver.WithJournal([](const Journal& j) {
    EXPECT_EQ(j.signatures_checked(), 4u);
    EXPECT_EQ(j.signature_failures(), 3u);
    const std::vector<JournalEntry> entries = j.Recent();
    ASSERT_EQ(entries.size(), 4u);
    EXPECT_EQ(entries[0].signature, SignatureVerdict::kValid);
    EXPECT_EQ(entries[3].signature, SignatureVerdict::kMissing);
    const nlohmann::json stats = JournalStatsToJson(j);
    EXPECT_EQ(stats.at("signature_failures"), 3);
    EXPECT_EQ(JournalRequestsToJson(j, 10)[1].at("signature"), "bad");
  });
}

TEST(SignatureCheckTest, AnOutageAnswersBeforeTheCheck) {
  Result<BehaviorSpec> spec = ParseBehavior(
      nlohmann::json::parse(
          R"({"verify_signature": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
              "outages": [{"from_ms": 0, "to_ms": 1000, "status": 503}]})"),
      "");
  ASSERT_TRUE(spec.ok());
  ReceiverBehavior behavior(*spec);
  Random rng(1);
  Signed missing;
  missing.Drop("webhook-signature");
  const Reply during = behavior.Decide(missing.View(), {}, AtMillis(10), rng);
  EXPECT_EQ(during.answer.status, 503);
  EXPECT_EQ(during.signature, SignatureVerdict::kNotChecked);
  const Reply after = behavior.Decide(missing.View(), {}, AtMillis(2000), rng);
  EXPECT_EQ(after.answer.status, 401);
}

}  // namespace
}  // namespace hooksim
