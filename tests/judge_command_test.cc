// `hooksim judge FILE`: a journal file judged by the contract's rules, with
// exit codes 0 (pass), 1 (a rule failed), 2 (usage, unreadable, bad line).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "mock-receivers/journal_json.h"
#include "mock-receivers/receiver.h"
#include "sim/cli/judge_command.h"
#include "sim/judge/journal_judge.h"
#include "sim/os/temp_dir.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

using nlohmann::json;

// A receiver answering `statuses` in turn per delivery; `sends` lists the
// delivery ids in arrival order. Returns the journal file's text.
std::string Record(const std::vector<int>& statuses,
                   const std::vector<std::string>& sends,
                   const std::string& content_type = "application/json") {
  SequenceAnswer seq;
  for (int s : statuses) seq.answers.push_back(Answer{s, Fault::kNone});
  BehaviorSpec spec;
  spec.answers = seq;
  MockReceiver receiver(ReceiverOptions{"r", {}, nullptr}, spec, Random(1));
  const std::string body = R"({"event":"ping","data":{}})";
  int64_t at = 0;
  for (const std::string& id : sends) {
    const Header headers[] = {{"Content-Type", content_type},
                              {kDeliveryIdHeader, id}};
    receiver.Handle(HttpRequest{"POST", "/hook", headers, body},
                    AtMillis(at += 10));
  }
  std::string text;
  receiver.WithJournal([&](const Journal& j) {
    for (const JournalEntry& e : j.Recent()) {
      text += JournalEntryLine(e, "r") + "\n";
    }
  });
  return text;
}

class JudgeCommandTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_.File(name);
    std::ofstream(path) << text;
    return path;
  }
  TempDir dir_{"judge-test"};
};

TEST_F(JudgeCommandTest, PassingJournalExits0AndWritesJunit) {
  // d1: 503, 200 (2 attempts); d2: 200.
  const std::string file =
      Write("ok.jsonl", Record({503, 200}, {"d1", "d1", "d2", "d2x"}));
  const std::string junit = dir_.File("judge.xml");
  const std::string report = dir_.File("judge.json");
  // d2 and d2x got 503 once only: give them their 200 too.
  const std::string file2 = Write(
      "ok2.jsonl", Record({503, 200}, {"d1", "d1", "d2", "d2"}));
  testing::CliResult r = testing::Cli(
      {"judge", file2, "--junit", junit, "--report-json", report});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("PASS"), std::string::npos);
  EXPECT_NE(r.out.find("pass  no-retry-after-success (C5)"), std::string::npos)
      << r.out;
  std::ifstream x(junit);
  std::stringstream xml;
  xml << x.rdbuf();
  EXPECT_NE(xml.str().find("<testcase"), std::string::npos);
  EXPECT_NE(xml.str().find("attempts (C6)"), std::string::npos);
  EXPECT_EQ(xml.str().find("<failure"), std::string::npos);
  std::ifstream j(report);
  const json doc = json::parse(j);
  EXPECT_EQ(doc["passed"], true);
  EXPECT_EQ(doc["requests"], 4);
  EXPECT_EQ(doc["deliveries"], 2);
  (void)file;
}

TEST_F(JudgeCommandTest, RetryAfterSuccessExits1WithTheReason) {
  // d1 answered 200 at once, yet sent again.
  const std::string file = Write("bad.jsonl", Record({200}, {"d1", "d1"}));
  const std::string junit = dir_.File("bad.xml");
  testing::CliResult r = testing::Cli({"judge", file, "--junit", junit});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAIL"), std::string::npos);
  EXPECT_NE(r.out.find("delivery d1 got 1 attempt after the 2xx of attempt 1"),
            std::string::npos)
      << r.out;
  std::ifstream x(junit);
  std::stringstream xml;
  xml << x.rdbuf();
  EXPECT_NE(xml.str().find("<failure"), std::string::npos);
}

TEST_F(JudgeCommandTest, GaveUpEarlyFailsC6AndWrongContentTypeFailsC2) {
  // 503 forever, only 2 attempts: divshot wants 6.
  std::string file = Write("short.jsonl", Record({503}, {"d1", "d1"}));
  testing::CliResult r = testing::Cli({"judge", file});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("fail  attempts (C6)"), std::string::npos) << r.out;
  file = Write("ct.jsonl", Record({200}, {"d1"}, "text/plain"));
  r = testing::Cli({"judge", file});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("fail  content-type (C2)"), std::string::npos) << r.out;
}

TEST_F(JudgeCommandTest, ContractChangesTheVerdict) {
  // 503 twice then nothing: 2 attempts. A contract allowing 2 attempts
  // passes it (a FILE profile with max_reattempts 1).
  const std::string file = Write("two.jsonl", Record({503}, {"d1", "d1"}));
  testing::CliResult r = testing::Cli({"judge", file});
  EXPECT_EQ(r.code, 1);
  testing::CliResult shown = testing::Cli({"contracts", "show", "divshot"});
  ASSERT_EQ(shown.code, 0) << shown.err;
  json two = json::parse(shown.out);
  two["name"] = "two";
  two["attempts"] = 2;
  two["schedule_ms"] = json::array({1000});
  const std::string contract = Write("c.json", two.dump());
  r = testing::Cli({"judge", file, "--contract", contract});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
}

TEST_F(JudgeCommandTest, BadInputExits2NamingTheLine) {
  std::string text = Record({200}, {"d1"});
  text += "{\"index\": 1, \"cut off\n";
  const std::string file = Write("cut.jsonl", text);
  testing::CliResult r = testing::Cli({"judge", file});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(file + ":2:"), std::string::npos) << r.err;

  const std::string missing_field = Write("field.jsonl", "{\"index\": 0}\n");
  r = testing::Cli({"judge", missing_field});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(":1: /time_ms"), std::string::npos) << r.err;

  r = testing::Cli({"judge", dir_.File("absent.jsonl")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("cannot open"), std::string::npos);

  r = testing::Cli({"judge", Write("empty.jsonl", "\n")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no journal entry"), std::string::npos);

  r = testing::Cli({"judge"});
  EXPECT_EQ(r.code, 2);
}

TEST_F(JudgeCommandTest, AmendmentMarksAnAttemptAbandoned) {
  // 200 abandoned (the sender timed out), then 200 again: no C5 breach.
  std::string text = Record({200}, {"d1", "d1"});
  const size_t second = text.find('\n') + 1;
  text.insert(second, "{\"receiver\":\"r\",\"amend\":0,\"abandoned\":true}\n");
  std::istringstream in(text);
  Result<std::vector<RecordedEntry>> entries = ReadJournalLines(in, "t");
  ASSERT_TRUE(entries.ok()) << entries.error().ToString();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_TRUE((*entries)[0].entry.abandoned);
  const JournalJudgement j = JudgeJournal(*entries, DivshotContract());
  EXPECT_TRUE(j.passed());
}

}  // namespace
}  // namespace hooksim
