#include "mock-receivers/journal.h"

#include "mock-receivers/journal_json.h"

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace hooksim {
namespace {

JournalEntry Entry(std::string key, int status = 200, int64_t at_ms = 0) {
  JournalEntry e;
  e.at = AtMillis(at_ms);
  e.method = "POST";
  e.target = "/hook";
  e.content_type = "application/json";
  e.delivery_key = std::move(key);
  e.has_delivery_id = true;
  e.event_type = "release";
  e.body_hash = 0x1234;
  e.body_size = 10;
  e.reply.answer = Answer{status, Fault::kNone};
  return e;
}

// An entry with every field set from `k` (two values of k differ in every
// field).
JournalEntry EveryFieldSet(int k) {
  const std::string n = std::to_string(k);
  JournalEntry e;
  e.index = 10 + k;
  e.at = AtMillis(20 + k);
  e.unix_time = Duration(30 + k);
  e.connection = 40 + k;
  e.route = "route-" + n;
  e.method = "METHOD" + n;
  e.target = "/target/" + n + std::string(40, 'x');  // On the heap.
  e.headers = {{"H" + n, "v" + n}, {"Long-Header-Name-" + n, "w"}};
  e.body = std::string(100 + k, 'b');
  e.body_truncated = k % 2 == 1;
  e.refusal = k % 2 == 1 ? Refusal::kTimeout : Refusal::kNone;
  e.refusal_reason = "why " + n;
  e.content_type = "type/" + n;
  e.delivery_key = "dlv_" + n;
  e.has_delivery_id = k % 2 == 1;
  e.event_type = "event" + n;
  e.sender_attempt = 50 + k;
  e.delivery_attempt = 60 + k;
  e.body_hash = 70 + k;
  e.body_size = 80 + k;
  e.schema_valid = k % 2 == 1;
  e.schema_issue = "issue " + n;
  e.reply.answer.status = 200 + k;
  e.reply.latency = Duration(90 + k);
  e.abandoned = k % 2 == 1;
  e.signature = k % 2 == 1 ? SignatureVerdict::kBad : SignatureVerdict::kValid;
  e.retry_after = n;
  e.retry_after_readable = k % 2 == 1;
  e.closest_route = "closest " + n;
  e.unmatched_why = "unmatched " + n;
  return e;
}

// RecordSwap hands the caller's entry to the ring and gives back the entry
// the slot held: the ring gets every field of the new entry, and the caller
// every field of the entry the slot held.
TEST(JournalTest, RecordSwapHandsBackEveryFieldOfTheSlot) {
  JournalLimits limits;
  limits.capacity = 1;
  Journal journal(limits);
  auto a = std::make_unique<JournalEntry>(EveryFieldSet(1));
  journal.RecordSwap(a, journal.Look(a->delivery_key));
  ASSERT_NE(a, nullptr);
  auto b = std::make_unique<JournalEntry>(EveryFieldSet(2));
  journal.RecordSwap(b, journal.Look(b->delivery_key));
  ASSERT_NE(b, nullptr);
  // What the journal numbered them.
  JournalEntry want_old = EveryFieldSet(1);
  want_old.index = 0;
  JournalEntry want_new = EveryFieldSet(2);
  want_new.index = 1;
  const JournalEntry* kept = journal.Find(1);
  ASSERT_NE(kept, nullptr);
  using Pair = std::pair<const JournalEntry*, const JournalEntry*>;
  for (const auto& [got, want] :
       {Pair{kept, &want_new}, Pair{b.get(), &want_old}}) {
    EXPECT_EQ(JournalEntryLine(*got, "r"), JournalEntryLine(*want, "r"));
    // Fields the line may not show.
    EXPECT_EQ(got->index, want->index);
    EXPECT_EQ(got->at, want->at);
    EXPECT_EQ(got->unix_time, want->unix_time);
    EXPECT_EQ(got->connection, want->connection);
    EXPECT_EQ(got->route, want->route);
    EXPECT_EQ(got->method, want->method);
    EXPECT_EQ(got->target, want->target);
    ASSERT_EQ(got->headers.size(), 2u);
    EXPECT_EQ(got->headers[1].name, want->headers[1].name);
    EXPECT_TRUE(got->headers == want->headers);
    EXPECT_EQ(got->body, want->body);
    EXPECT_EQ(got->body_truncated, want->body_truncated);
    EXPECT_EQ(got->refusal, want->refusal);
    EXPECT_EQ(got->refusal_reason, want->refusal_reason);
    EXPECT_EQ(got->content_type, want->content_type);
    EXPECT_EQ(got->delivery_key, want->delivery_key);
    EXPECT_EQ(got->has_delivery_id, want->has_delivery_id);
    EXPECT_EQ(got->event_type, want->event_type);
    EXPECT_EQ(got->sender_attempt, want->sender_attempt);
    EXPECT_EQ(got->delivery_attempt, want->delivery_attempt);
    EXPECT_EQ(got->body_hash, want->body_hash);
    EXPECT_EQ(got->body_size, want->body_size);
    EXPECT_EQ(got->schema_valid, want->schema_valid);
    EXPECT_EQ(got->schema_issue, want->schema_issue);
    EXPECT_EQ(got->reply.answer.status, want->reply.answer.status);
    EXPECT_EQ(got->reply.latency, want->reply.latency);
    EXPECT_EQ(got->abandoned, want->abandoned);
    EXPECT_EQ(got->signature, want->signature);
    EXPECT_EQ(got->retry_after, want->retry_after);
    EXPECT_EQ(got->retry_after_readable, want->retry_after_readable);
    EXPECT_EQ(got->closest_route, want->closest_route);
    EXPECT_EQ(got->unmatched_why, want->unmatched_why);
  }
}

TEST(JournalTest, RingKeepsNewestAndCountsDropped) {
  Journal journal(JournalLimits{.capacity = 4, .max_deliveries = 100});
  for (int i = 0; i < 10; ++i) {
    JournalEntry e = Entry("d" + std::to_string(i), 200, i);
    if (i % 2) {
      journal.Record(std::move(e));
    } else {
      journal.RecordCopy(e);
    }
  }
  EXPECT_EQ(journal.total_requests(), 10u);
  EXPECT_EQ(journal.dropped(), 6u);
  std::vector<JournalEntry> recent = journal.Recent();
  ASSERT_EQ(recent.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(recent[i].index, 6 + i);  // Oldest first, newest last.
    EXPECT_EQ(recent[i].delivery_key, "d" + std::to_string(6 + i));
  }
  std::vector<JournalEntry> last2 = journal.Recent(2);
  ASSERT_EQ(last2.size(), 2u);
  EXPECT_EQ(last2[0].index, 8u);
  EXPECT_EQ(last2[1].index, 9u);
  EXPECT_TRUE(journal.Recent(0).empty());
  EXPECT_EQ(journal.deliveries().size(), 10u);
}

TEST(JournalTest, RingBeforeFullAndZeroCapacity) {
  Journal journal(JournalLimits{.capacity = 4});
  journal.Record(Entry("a"));
  journal.Record(Entry("b"));
  std::vector<JournalEntry> recent = journal.Recent();
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].delivery_key, "a");
  EXPECT_EQ(recent[1].delivery_key, "b");
  EXPECT_EQ(journal.dropped(), 0u);

  Journal none(JournalLimits{.capacity = 0});
  none.Record(Entry("a"));
  EXPECT_TRUE(none.Recent().empty());
  EXPECT_EQ(none.dropped(), 1u);
  EXPECT_EQ(none.AttemptsSeen("a"), 1);  // Counters still kept.
}

TEST(JournalTest, MaxDeliveriesBound) {
  Journal journal(JournalLimits{.capacity = 8, .max_deliveries = 2});
  journal.Record(Entry("a"));
  journal.Record(Entry("b"));
  journal.Record(Entry("c"));  // Third distinct delivery: untracked.
  journal.Record(Entry("a"));  // Known deliveries keep counting.
  journal.Record(Entry("c"));
  EXPECT_EQ(journal.deliveries().size(), 2u);
  EXPECT_EQ(journal.AttemptsSeen("a"), 2);
  EXPECT_EQ(journal.AttemptsSeen("b"), 1);
  EXPECT_EQ(journal.AttemptsSeen("c"), 0);
  EXPECT_EQ(journal.untracked_requests(), 2u);
  EXPECT_EQ(journal.total_requests(), 5u);
  EXPECT_EQ(journal.Recent().size(), 5u);  // The ring still records them.
}

TEST(JournalTest, CountsAttemptsTimesAndAnswers) {
  Journal journal;
  journal.Record(Entry("d", 503, 100));
  journal.Record(Entry("d", 503, 200));
  journal.Record(Entry("d", 200, 400));
  const DeliveryCounters& c = journal.deliveries().at("d");
  EXPECT_EQ(c.attempts, 3);
  EXPECT_EQ(c.first_at, AtMillis(100));
  EXPECT_EQ(c.last_at, AtMillis(400));
  EXPECT_EQ(c.success_attempt(), 3);
  EXPECT_EQ(c.attempts_after_success(), 0);
  EXPECT_EQ(c.body_changes, 0);
  EXPECT_EQ(c.non_post, 0);
  EXPECT_EQ(c.bad_content_type, 0);
  // Per delivery: which attempts were answered 2xx (none a 410); the
  // answers themselves are counted per receiver.
  EXPECT_EQ(c.success_mask, 0b100u);
  EXPECT_EQ(c.first_gone_attempt(), 0);
  EXPECT_EQ(journal.answers().at("503"), 2u);
  EXPECT_EQ(journal.answers().at("200"), 1u);
}

TEST(JournalTest, AttemptsAfterSuccess) {
  Journal journal;
  journal.Record(Entry("d", 200));
  journal.Record(Entry("d", 500));
  journal.Record(Entry("d", 204));
  const DeliveryCounters& c = journal.deliveries().at("d");
  EXPECT_EQ(c.success_attempt(), 1);
  EXPECT_EQ(c.attempts_after_success(), 2);
}

TEST(JournalTest, BodyChanges) {
  Journal journal;
  JournalEntry e = Entry("d");
  journal.Record(e);
  journal.Record(e);
  e.body_hash = 0x9999;  // Other hash.
  journal.Record(e);
  e.body_hash = 0x1234;
  e.body_size = 11;  // Same hash, other size.
  journal.Record(e);
  EXPECT_EQ(journal.deliveries().at("d").body_changes, 2);
  EXPECT_EQ(journal.deliveries().at("d").first_body_hash, 0x1234u);
  EXPECT_EQ(journal.deliveries().at("d").first_body_size, 10u);
}

TEST(JournalTest, ContentTypeAndMethod) {
  Journal journal;
  const std::vector<std::pair<std::string, bool>> cases = {
      {"application/json", true},
      {"application/json; charset=utf-8", true},
      {"Application/JSON;charset=UTF-8", true},
      {" application/json ", true},
      {"", false},
      {"text/plain", false},
      {"application/jsonx", false},
      {"application/json-patch+json", false},
  };
  int bad = 0;
  for (const auto& [type, ok] : cases) {
    JournalEntry e = Entry("d");
    e.content_type = type;
    journal.Record(e);
    if (!ok) ++bad;
    EXPECT_EQ(journal.deliveries().at("d").bad_content_type, bad) << type;
  }
  JournalEntry get = Entry("d");
  get.method = "GET";
  journal.Record(get);
  get.method = "post";  // Methods are case-sensitive.
  journal.Record(get);
  EXPECT_EQ(journal.deliveries().at("d").non_post, 2);
}

TEST(JournalTest, SchemaFailures) {
  Journal journal;
  JournalEntry e = Entry("d");
  journal.Record(e);
  e.schema_valid = false;
  e.schema_issue = "/data: missing app";
  journal.Record(e);
  e.schema_issue = "/event: not a string";
  journal.Record(e);
  e = Entry("other");
  e.schema_valid = false;
  e.schema_issue = "x";
  journal.Record(e);
  EXPECT_EQ(journal.schema_failures(), 3u);
  const DeliveryCounters& c = journal.deliveries().at("d");
  EXPECT_EQ(c.schema_invalid, 2);
  EXPECT_EQ(c.first_schema_issue, "/data: missing app");
}

TEST(JournalTest, AttemptHeaderMismatches) {
  Journal journal;
  for (int sender : {1, 2, 2, 0, 7}) {  // Own counts are 1, 2, 3, 4, 5.
    JournalEntry e = Entry("d", 500);
    e.sender_attempt = sender;
    journal.Record(e);
  }
  EXPECT_EQ(journal.deliveries().at("d").attempt_header_mismatches, 2);
}

TEST(JournalTest, GoneAnswersAreTrackedForTheFirstAnswersOnly) {
  Journal journal;
  for (int i = 0; i < 40; ++i) {
    JournalEntry e = Entry("d", 500);
    e.reply.answer = i % 2 ? Answer{200, Fault::kReset} : Answer{500};
    // A 410 past the tracked answers is counted but not kept per delivery.
    if (i == static_cast<int>(DeliveryCounters::kMaxAnswers)) {
      e.reply.answer = Answer{410};
    }
    journal.Record(e);
  }
  EXPECT_EQ(journal.deliveries().at("d").first_gone_attempt(), 0);
  EXPECT_EQ(journal.deliveries().at("d").attempts, 40);
  EXPECT_EQ(journal.answers().at("reset"), 20u);
  EXPECT_EQ(journal.answers().at("500"), 19u);
  EXPECT_EQ(journal.answers().at("410"), 1u);

  // Within them: the first plain 410 (a 410 as a fault's status is not).
  JournalEntry e = Entry("g", 500);
  e.reply.answer = Answer{410, Fault::kReset};
  journal.Record(e);
  e.reply.answer = Answer{500};
  journal.Record(e);
  e.reply.answer = Answer{410};
  journal.Record(e);
  journal.Record(e);
  EXPECT_EQ(journal.deliveries().at("g").first_gone_attempt(), 3);
}

TEST(JournalTest, ResetClearsEverything) {
  Journal journal(JournalLimits{.capacity = 2, .max_deliveries = 1});
  for (int i = 0; i < 5; ++i) {
    JournalEntry e = Entry("d" + std::to_string(i));
    e.schema_valid = false;
    journal.Record(e);
  }
  journal.Reset();
  EXPECT_EQ(journal.total_requests(), 0u);
  EXPECT_EQ(journal.dropped(), 0u);
  EXPECT_EQ(journal.untracked_requests(), 0u);
  EXPECT_EQ(journal.schema_failures(), 0u);
  EXPECT_TRUE(journal.deliveries().empty());
  EXPECT_TRUE(journal.answers().empty());
  EXPECT_TRUE(journal.Recent().empty());
  journal.Record(Entry("x"));
  ASSERT_EQ(journal.Recent().size(), 1u);
  EXPECT_EQ(journal.Recent()[0].index, 0u);
  EXPECT_EQ(journal.AttemptsSeen("x"), 1);
}

}  // namespace
}  // namespace hooksim

namespace hooksim {
namespace {

// Over HTTP a slow 2xx is known to be abandoned only when its latency has
// passed, after the sender's next attempts may have arrived.
TEST(JournalTest, AbandonmentLearntAfterLaterAttempts) {
  Journal journal;
  journal.Record(Entry("d", 200));  // Attempt 1: a slow 2xx.
  journal.Record(Entry("d", 200));  // Attempt 2 arrives while 1 sleeps.
  journal.Record(Entry("d", 500));  // Attempt 3.
  EXPECT_EQ(journal.deliveries().at("d").attempts_after_success(), 2);
  journal.MarkAbandoned("d", 1);  // Attempt 1's answer was never seen.
  const DeliveryCounters& c = journal.deliveries().at("d");
  EXPECT_EQ(c.success_attempt(), 2);
  EXPECT_EQ(c.attempts_after_success(), 1);
  journal.MarkAbandoned("d", 2);
  EXPECT_EQ(journal.deliveries().at("d").success_attempt(), 0);
  EXPECT_EQ(journal.deliveries().at("d").attempts_after_success(), 0);
}

TEST(JournalTest, AnAbandoned2xxIsNotASuccess) {
  Journal journal;
  journal.Record(Entry("d", 200));
  journal.MarkAbandoned("d", 1);  // The sender timed out first.
  journal.Record(Entry("d", 200));
  const DeliveryCounters& c = journal.deliveries().at("d");
  EXPECT_EQ(c.success_attempt(), 2);
  EXPECT_EQ(c.attempts_after_success(), 0);
  EXPECT_EQ(c.abandoned, 1);
  EXPECT_EQ(journal.abandoned(), 1u);
  // Abandoning another attempt leaves the success alone.
  journal.MarkAbandoned("d", 1);
  EXPECT_EQ(journal.deliveries().at("d").success_attempt(), 2);
  journal.MarkAbandoned("unknown", 1);  // No crash, counted.
  EXPECT_EQ(journal.abandoned(), 3u);
}

TEST(JournalTest, AbandonedFlagsTheAttemptsEntryInTheRing) {
  Journal journal(JournalLimits{.capacity = 3, .max_deliveries = 100});
  for (int i = 0; i < 5; ++i) {  // Wraps the ring.
    JournalEntry e = Entry(i == 3 ? "d" : "o" + std::to_string(i));
    e.delivery_attempt = 1;
    journal.Record(std::move(e));
  }
  journal.MarkAbandoned("d", 1);
  journal.MarkAbandoned("o0", 1);  // Dropped from the ring: counted only.
  const std::vector<JournalEntry> recent = journal.Recent();
  ASSERT_EQ(recent.size(), 3u);
  EXPECT_FALSE(recent[0].abandoned);  // o2
  EXPECT_TRUE(recent[1].abandoned);   // d
  EXPECT_FALSE(recent[2].abandoned);  // o4
  EXPECT_EQ(journal.abandoned(), 2u);
}

}  // namespace
}  // namespace hooksim

namespace hooksim {
namespace {

TEST(JournalTest, OneLookupPerRequestCountsLikeRecord) {
  Journal journal;
  for (int i = 0; i < 3; ++i) {
    const JournalEntry e = Entry("d", i < 2 ? 503 : 200, i * 100);
    const DeliveryLookup lookup = journal.Look(e.delivery_key);
    EXPECT_EQ(lookup.attempts_seen, i);
    EXPECT_EQ(lookup.index.has_value(), i > 0);
    journal.RecordCopy(e, lookup);
  }
  const DeliveryCounters& c = journal.deliveries().at("d");
  EXPECT_EQ(c.attempts, 3);
  EXPECT_EQ(c.success_attempt(), 3);
  EXPECT_EQ(journal.AttemptsSeen("d"), 3);
}

TEST(JournalTest, ALookupOfAnotherKeyIsRedone) {
  Journal journal;
  journal.Record(Entry("a"));
  const DeliveryLookup for_a = journal.Look("a");
  journal.RecordCopy(Entry("b"), for_a);  // Must not count as "a".
  EXPECT_EQ(journal.AttemptsSeen("a"), 1);
  EXPECT_EQ(journal.AttemptsSeen("b"), 1);
  journal.Reset();
  journal.RecordCopy(Entry("c"), for_a);  // Stale after Reset.
  EXPECT_EQ(journal.deliveries().size(), 1u);
  EXPECT_EQ(journal.AttemptsSeen("c"), 1);
}

TEST(JournalTest, DeliveriesIterateInFirstRequestOrder) {
  Journal journal(JournalLimits{
      .capacity = 4, .max_deliveries = 3, .expected_deliveries = 1'000'000});
  for (const char* key : {"z", "a", "z", "m", "b", "a"}) {
    journal.Record(Entry(key));
  }
  std::vector<std::string> keys;
  std::vector<int> attempts;
  for (const auto& [key, c] : journal.deliveries()) {
    keys.emplace_back(key);
    attempts.push_back(c.attempts);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"z", "a", "m"}));
  EXPECT_EQ(attempts, (std::vector<int>{2, 2, 1}));
  EXPECT_EQ(journal.untracked_requests(), 1u);  // "b": over max_deliveries.
}

TEST(JournalHeadersTest, CopiesEachHeaderAndReadsLikeAVector) {
  JournalHeaders headers;
  EXPECT_TRUE(headers.empty());
  EXPECT_EQ(headers.begin(), headers.end());
  std::vector<std::string> text = {"Content-Type", "application/json", "",
                                   "nameless", "X-Empty", "",
                                   "X-Long", std::string(300, 'v')};
  std::vector<Header> views;
  for (size_t i = 0; i < text.size(); i += 2) {
    views.push_back(Header{text[i], text[i + 1]});
  }
  headers.Assign(views);
  // Copies, not views: the request's bytes may change or die.
  for (std::string& t : text) std::fill(t.begin(), t.end(), '#');
  ASSERT_EQ(headers.size(), 4u);
  EXPECT_EQ(headers[0].name, "Content-Type");
  EXPECT_EQ(headers[0].value, "application/json");
  EXPECT_EQ(headers[1].name, "");
  EXPECT_EQ(headers[1].value, "nameless");
  EXPECT_EQ(headers[2].name, "X-Empty");
  EXPECT_EQ(headers[2].value, "");
  EXPECT_EQ(headers[3].value, std::string(300, 'v'));
  EXPECT_EQ(headers.text_size(), 12u + 16 + 8 + 7 + 6 + 300);
  std::vector<std::string> seen;
  for (const JournalHeader& h : headers) {
    seen.push_back(std::string(h.name) + "=" + std::string(h.value));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"Content-Type=application/json",
                                            "=nameless", "X-Empty=",
                                            "X-Long=" + std::string(300, 'v')}));
  // A copy keeps its headers when the original is refilled.
  const JournalHeaders copy = headers;
  headers.Assign(std::vector<Header>{{"A", "b"}});
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers[0].name, "A");
  EXPECT_EQ(headers[0].value, "b");
  ASSERT_EQ(copy.size(), 4u);
  EXPECT_EQ(copy[2].name, "X-Empty");
  EXPECT_FALSE(copy == headers);
  headers.push_back({"C", "d"});
  EXPECT_TRUE(headers == (JournalHeaders{{"A", "b"}, {"C", "d"}}));
  headers.clear();
  EXPECT_TRUE(headers.empty());
  EXPECT_EQ(headers.text_size(), 0u);
}

// answers() counts plain statuses, faults and statuses outside the usual
// range alike, keyed as DescribeAnswer names them.
TEST(JournalTest, AnswersCountsEveryKindOfAnswer) {
  Journal journal(JournalLimits{.capacity = 4, .max_deliveries = 100});
  const std::vector<Answer> answers = {
      {200, Fault::kNone}, {200, Fault::kNone}, {599, Fault::kNone},
      {600, Fault::kNone}, {1000, Fault::kNone}, {0, Fault::kNone},
      {-1, Fault::kNone}, {200, Fault::kReset}, {0, Fault::kHang},
      {200, Fault::kDribble}, {200, Fault::kDribble}};
  for (size_t i = 0; i < answers.size(); ++i) {
    JournalEntry e = Entry("d" + std::to_string(i % 3));
    e.reply.answer = answers[i];
    journal.Record(std::move(e));
  }
  JournalEntry refused;
  refused.refusal = Refusal::kHeadTooLarge;
  refused.reply.answer.status = 431;
  journal.RecordRefused(std::move(refused));
  std::map<std::string, uint64_t> want;
  for (const Answer& a : answers) ++want[DescribeAnswer(a)];
  ++want["431"];
  EXPECT_EQ(journal.answers(), want);
  EXPECT_EQ(want.at("dribble"), 2u);
  EXPECT_EQ(want.at("-1"), 1u);
  journal.Reset();
  EXPECT_TRUE(journal.answers().empty());
}

// EntryBytes counts a header's name and value and 4 bytes besides.
TEST(JournalTest, EntryBytesCountsHeaders) {
  JournalEntry e = Entry("d");
  const size_t without = EntryBytes(e);
  e.headers = {{"Name", "value"}, {"X", ""}};
  EXPECT_EQ(EntryBytes(e), without + 4 + 5 + 4 + 1 + 0 + 4);
}

}  // namespace
}  // namespace hooksim
