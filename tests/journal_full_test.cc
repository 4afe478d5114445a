// The full journal (every header, the body up to a cap, refusals, a byte
// bound) and the admin API's queries, verify and reset over it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mock-receivers/admin_api.h"
#include "mock-receivers/journal.h"
#include "mock-receivers/journal_json.h"
#include "mock-receivers/receiver.h"

namespace hooksim {
namespace {

using nlohmann::json;

BehaviorSpec Sequence(std::vector<int> statuses) {
  SequenceAnswer seq;
  for (int s : statuses) seq.answers.push_back(Answer{s, Fault::kNone});
  BehaviorSpec spec;
  spec.answers = seq;
  return spec;
}

class FullJournalTest : public ::testing::Test {
 protected:
  void Make(JournalLimits limits, BehaviorSpec spec = Sequence({503, 200})) {
    ReceiverOptions options{"full", limits, nullptr};
    receiver_ = std::make_unique<MockReceiver>(options, spec, Random(5));
  }

  // Sends one webhook; returns its status.
  int Send(const std::string& delivery, const std::string& body,
           int64_t at_ms, const std::string& path = "/hook",
           uint64_t connection = 0) {
    const std::string extra = "x-value-" + delivery;  // Dies after the call.
    const Header headers[] = {{"Content-Type", "application/json"},
                              {kDeliveryIdHeader, delivery},
                              {"User-Agent", "test-sender/1"},
                              {"X-Extra", extra}};
    const Reply reply = receiver_->Handle(
        HttpRequest{"POST", path, headers, body}, AtMillis(at_ms), nullptr,
        nullptr, nullptr, connection);
    return reply.answer.status;
  }

  AdminResponse Call(std::string method, std::string path,
                     std::map<std::string, std::string> query = {},
                     std::string body = "") {
    AdminResponse r = HandleAdminRequest(
        *receiver_, AdminRequest{std::move(method), std::move(path),
                                 std::move(query), std::move(body)});
    if (r.stream) {
      std::string part;
      while (r.stream(part)) {
      }
      r.body = part;
    }
    return r;
  }

  std::vector<JournalEntry> Entries() {
    std::vector<JournalEntry> out;
    receiver_->WithJournal([&](const Journal& j) { out = j.Recent(); });
    return out;
  }

  std::unique_ptr<MockReceiver> receiver_;
};

TEST_F(FullJournalTest, KeepsEveryHeaderBodyConnectionAndRoute) {
  Make({});
  Send("d1", R"({"event":"x","data":{}})", 10, "/hook?a=1&b=2", 7);
  const std::vector<JournalEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 1u);
  const JournalEntry& e = entries[0];
  ASSERT_EQ(e.headers.size(), 4u);
  EXPECT_EQ(e.headers[2].name, "User-Agent");
  EXPECT_EQ(e.headers[2].value, "test-sender/1");
  EXPECT_EQ(e.headers[3].value, "x-value-d1");  // Copied, not a view.
  EXPECT_EQ(e.body, R"({"event":"x","data":{}})");
  EXPECT_FALSE(e.body_truncated);
  EXPECT_EQ(e.connection, 7u);
  EXPECT_EQ(e.route, "default");
  const json j = JournalEntryToJson(e);
  EXPECT_EQ(j["path"], "/hook");
  EXPECT_EQ(j["query"], "a=1&b=2");
  EXPECT_EQ(j["route"], "default");
  EXPECT_EQ(j["connection"], 7);
  EXPECT_EQ(j["headers"][2][0], "User-Agent");
  EXPECT_EQ(j["body"]["text"], R"({"event":"x","data":{}})");
  EXPECT_EQ(j["body"]["encoding"], "utf-8");
  EXPECT_EQ(j["reply"]["status"], 503);
  EXPECT_FALSE(j["unix_ms"].is_null());
}

TEST_F(FullJournalTest, BodyOverTheCapIsTruncatedWithFullSizeAndHash) {
  JournalLimits limits;
  limits.body_cap = 8;
  Make(limits);
  const std::string body = "0123456789abcdef";
  Send("d1", body, 1);
  Send("d2", "1234567", 2);  // Under the cap.
  const std::vector<JournalEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].body, "01234567");
  EXPECT_TRUE(entries[0].body_truncated);
  EXPECT_EQ(entries[0].body_size, body.size());
  EXPECT_EQ(entries[0].body_hash, Hash64(body));
  EXPECT_FALSE(entries[1].body_truncated);
  const json j = JournalEntryToJson(entries[0]);
  EXPECT_EQ(j["body"]["truncated"], true);
  EXPECT_EQ(j["body"]["kept"], 8);
  EXPECT_EQ(j["body"]["size"], 16);
}

TEST_F(FullJournalTest, NonUtf8BodyIsBase64) {
  Make({});
  Send("d1", std::string("\xff\xfe\x00\x01", 4), 1);
  const json j = JournalEntryToJson(Entries()[0]);
  EXPECT_EQ(j["body"]["encoding"], "base64");
  EXPECT_EQ(j["body"]["text"], "//4AAQ==");
}

TEST_F(FullJournalTest, ByteBoundDropsOldEntriesAndStatsStillCount) {
  JournalLimits limits;
  limits.capacity = 1000;
  limits.max_bytes = 8 * 1024;
  Make(limits, Sequence({200}));
  const std::string body(1000, 'a');
  for (int i = 0; i < 40; ++i) Send("d" + std::to_string(i), body, i);
  receiver_->WithJournal([&](const Journal& j) {
    EXPECT_LE(j.kept_bytes(), limits.max_bytes);
    EXPECT_LT(j.kept(), 40u);
    EXPECT_GT(j.kept(), 0u);
    EXPECT_EQ(j.dropped(), 40u - j.kept());
    EXPECT_EQ(j.total_requests(), 40u);
    EXPECT_EQ(j.deliveries().size(), 40u);
    // The kept ones are the newest.
    EXPECT_EQ(j.first_index(), 40u - j.kept());
    EXPECT_NE(j.Find(39), nullptr);
    EXPECT_EQ(j.Find(0), nullptr);
  });
  const json stats = json::parse(Call("GET", "/__hooksim/stats").body);
  EXPECT_EQ(stats["requests"], 40);
  EXPECT_EQ(stats["deliveries"], 40);
  EXPECT_GT(stats["journal_dropped"].get<int>(), 0);
  EXPECT_LE(stats["journal_bytes"].get<size_t>(), limits.max_bytes);
}

TEST_F(FullJournalTest, OneEntryLargerThanTheBoundIsStillKept) {
  JournalLimits limits;
  limits.max_bytes = 1024;
  Make(limits, Sequence({200}));
  Send("d1", std::string(2000, 'a'), 1);
  Send("d2", std::string(3000, 'b'), 2);
  const std::vector<JournalEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].delivery_key, "d2");
}

TEST_F(FullJournalTest, CountBoundStillWrapsInOrder) {
  JournalLimits limits;
  limits.capacity = 3;
  Make(limits, Sequence({200}));
  for (int i = 0; i < 7; ++i) Send("d" + std::to_string(i), "{}", i);
  const std::vector<JournalEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].index, 4u);
  EXPECT_EQ(entries[2].index, 6u);
  EXPECT_EQ(entries[2].delivery_key, "d6");
}

TEST_F(FullJournalTest, RefusedRequestIsJournaledAndCounted) {
  Make({});
  JournalEntry refused;
  refused.refusal = Refusal::kTooLarge;
  refused.refusal_reason = "request body larger than 10 bytes";
  refused.reply.answer.status = 413;
  refused.method = "POST";
  refused.target = "/hook";
  receiver_->RecordRefused(refused, AtMillis(5));
  Send("d1", "{}", 6);
  const std::vector<JournalEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].refusal, Refusal::kTooLarge);
  EXPECT_EQ(entries[0].index, 0u);
  EXPECT_EQ(entries[1].index, 1u);
  const json j = JournalEntryToJson(entries[0]);
  EXPECT_EQ(j["refused"]["reason"], "too_large");
  EXPECT_EQ(j["reply"]["status"], 413);
  const json stats = json::parse(Call("GET", "/__hooksim/stats").body);
  EXPECT_EQ(stats["requests"], 2);
  EXPECT_EQ(stats["refused"], 1);
  EXPECT_EQ(stats["answers"]["413"], 1);
  EXPECT_EQ(stats["deliveries"], 1);  // The refused one is no delivery.
}

TEST_F(FullJournalTest, JsonRoundTripsWhatTheJudgeReads) {
  Make({});
  Send("d1", R"({"event":"x","data":{}})", 10);
  const JournalEntry e = Entries()[0];
  Result<JournalEntry> back = JournalEntryFromJson(JournalEntryToJson(e));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->index, e.index);
  EXPECT_EQ(back->method, e.method);
  EXPECT_EQ(back->target, e.target);
  EXPECT_EQ(back->delivery_key, "d1");
  EXPECT_TRUE(back->has_delivery_id);
  EXPECT_EQ(back->body_hash, e.body_hash);
  EXPECT_EQ(back->body_size, e.body_size);
  EXPECT_EQ(back->reply.answer.status, 503);
  EXPECT_EQ(back->headers.size(), 4u);
  json broken = JournalEntryToJson(e);
  broken["body"]["hash"] = "xyz";
  Result<JournalEntry> bad = JournalEntryFromJson(broken);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("/body/hash"), std::string::npos);
}

// --- Admin queries -------------------------------------------------------

TEST_F(FullJournalTest, RequestsFilterByStatusDeliveryAndSince) {
  Make({});
  Send("d1", "{}", 10);   // 503
  Send("d1", "{}", 20);   // 200
  Send("d2", "{}", 30);   // 503
  Send("d2", "{}", 40);   // 200
  json page = json::parse(
      Call("GET", "/__hooksim/requests", {{"status", "503"}}).body);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0]["index"], 0);
  EXPECT_EQ(page[1]["index"], 2);
  page = json::parse(
      Call("GET", "/__hooksim/requests", {{"status", "2xx"}}).body);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0]["reply"]["status"], 200);
  page = json::parse(
      Call("GET", "/__hooksim/requests", {{"delivery", "d2"}}).body);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0]["delivery"]["key"], "d2");
  page = json::parse(
      Call("GET", "/__hooksim/requests", {{"since", "20"}}).body);
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(page[0]["time_ms"], 20);
  page = json::parse(Call("GET", "/__hooksim/requests",
                          {{"route", "default"}, {"limit", "1"},
                           {"status", "503"}})
                         .body);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0]["index"], 2);  // The newest matching one.
  page = json::parse(
      Call("GET", "/__hooksim/requests", {{"route", "other"}}).body);
  EXPECT_TRUE(page.empty());
  page = json::parse(Call("GET", "/__hooksim/requests",
                          {{"from", "1"}, {"status", "503"}})
                         .body);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0]["index"], 2);
  AdminResponse bad =
      Call("GET", "/__hooksim/requests", {{"status", "teapot"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("status"), std::string::npos);
}

TEST_F(FullJournalTest, RequestsJsonlIsOneDocumentPerLine) {
  Make({});
  for (int i = 0; i < 300; ++i) Send("d" + std::to_string(i), "{}", i);
  AdminResponse r = HandleAdminRequest(
      *receiver_, AdminRequest{"GET", "/__hooksim/requests.jsonl", {}, ""});
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.stream);  // Always streamed.
  EXPECT_EQ(r.content_type, "application/x-ndjson");
  std::string all;
  std::string part;
  while (r.stream(part)) {
  }
  all = part;
  size_t lines = 0;
  size_t start = 0;
  while (start < all.size()) {
    const size_t end = all.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    const json doc = json::parse(all.substr(start, end - start));
    EXPECT_EQ(doc["index"], lines);
    ++lines;
    start = end + 1;
  }
  EXPECT_EQ(lines, 300u);
}

TEST_F(FullJournalTest, VerifyPassesAndFailsWithReasons) {
  Make({});
  Send("d1", "{}", 10);  // 503
  Send("d1", "{}", 20);  // 200
  Send("d2", "{}", 30);  // 503
  Send("d2", "{}", 40);  // 200
  Send("d2", "{}", 50);  // 200 again: after a 2xx.
  AdminResponse pass = Call("POST", "/__hooksim/verify", {},
                            R"({"expect": [
      {"request": {"method": "POST", "path": "/ho*",
                   "headers": {"User-Agent": "test-sender/1"}}, "count": 5},
      {"request": {"status": "503"}, "at_least": 2},
      {"attempts_per_delivery": {"at_least": 2, "at_most": 3}}]})");
  ASSERT_EQ(pass.status, 200) << pass.body;
  json out = json::parse(pass.body);
  EXPECT_EQ(out["passed"], true);
  ASSERT_EQ(out["results"].size(), 3u);
  EXPECT_NE(out["results"][0]["reason"].get<std::string>().find("saw 5"),
            std::string::npos);

  AdminResponse fail = Call("POST", "/__hooksim/verify", {},
                            R"({"expect": [
      {"request": {"headers": {"X-Missing": "*"}}, "count": 1},
      {"attempts_per_delivery": 2},
      {"no_request_after_2xx": true}]})");
  ASSERT_EQ(fail.status, 417) << fail.body;
  out = json::parse(fail.body);
  EXPECT_EQ(out["passed"], false);
  EXPECT_EQ(out["results"][0]["passed"], false);
  EXPECT_NE(out["results"][0]["reason"].get<std::string>().find("saw 0"),
            std::string::npos);
  EXPECT_EQ(out["results"][1]["passed"], false);
  EXPECT_NE(out["results"][1]["reason"].get<std::string>().find(
                "delivery d2 had 3 attempts"),
            std::string::npos)
      << out["results"][1]["reason"];
  EXPECT_EQ(out["results"][2]["passed"], false);
  EXPECT_NE(out["results"][2]["reason"].get<std::string>().find(
                "delivery d2 got 1 request after the 2xx of attempt 2"),
            std::string::npos)
      << out["results"][2]["reason"];

  AdminResponse bad = Call("POST", "/__hooksim/verify", {},
                           R"({"expect": [{"request": {}, "count": -1}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("/expect/0/count"), std::string::npos) << bad.body;
  EXPECT_EQ(Call("POST", "/__hooksim/verify", {}, "{").status, 400);
}

TEST_F(FullJournalTest, ResetWithAndWithoutBody) {
  Make({});
  Send("d1", "{}", 10);
  AdminResponse plain = Call("POST", "/__hooksim/reset");
  EXPECT_EQ(plain.status, 200);
  EXPECT_TRUE(Entries().empty());
  EXPECT_EQ(Send("d1", "{}", 20), 503);  // The behaviour stayed.

  AdminResponse empty_object = Call("POST", "/__hooksim/reset", {}, "{}");
  EXPECT_EQ(empty_object.status, 200);
  EXPECT_TRUE(Entries().empty());

  AdminResponse with_behavior =
      Call("POST", "/__hooksim/reset", {}, R"({"behavior": {"status": 418}})");
  ASSERT_EQ(with_behavior.status, 200) << with_behavior.body;
  EXPECT_EQ(json::parse(with_behavior.body)["behavior_replaced"], true);
  EXPECT_EQ(Send("d9", "{}", 30), 418);

  AdminResponse unknown = Call("POST", "/__hooksim/reset", {}, R"({"x": 1})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("/x"), std::string::npos);
  AdminResponse bad_behavior = Call("POST", "/__hooksim/reset", {},
                                    R"({"behavior": {"status": "no"}})");
  EXPECT_EQ(bad_behavior.status, 400);
  EXPECT_NE(bad_behavior.body.find("/behavior"), std::string::npos);
  // A refused reset leaves the journal as it was.
  EXPECT_EQ(Entries().size(), 1u);
}

TEST_F(FullJournalTest, WrongMethodIs405WithAllow) {
  Make({});
  AdminResponse r = Call("GET", "/__hooksim/verify");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "POST");
  r = Call("DELETE", "/__hooksim/requests.jsonl");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.allow, "GET");
  EXPECT_EQ(AdminAllow("/__hooksim/reset"), "POST");
}

}  // namespace
}  // namespace hooksim
