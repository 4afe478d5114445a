// The payload check's fast path (RapidJSON + valijson, plain valid bodies
// only) gives the full path's verdict (nlohmann/json + valijson with every
// error collected) on generated release events, the bundled scenarios'
// payloads, the fuzz corpus, hand-made corner cases and seeded mutations
// of valid bodies.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "sim/base/random.h"
#include "sim/contract/payload_validator.h"
#include "sim/contract/release_events.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

std::shared_ptr<const PayloadValidator> Bundled() {
  auto validator = PayloadValidator::Bundled();
  EXPECT_TRUE(validator.ok()) << validator.error().ToString();
  return *validator;
}

std::string Describe(const PayloadVerdict& v) {
  std::string out = "event=" + v.event;
  for (const PayloadIssue& issue : v.issues) {
    out += "\n  " + std::string(RuleId(issue.rule)) + " " + issue.pointer +
           ": " + issue.message;
  }
  return out;
}

// Expects Validate and ValidateFully to agree on `body`; returns whether
// the body is valid.
bool ExpectSameVerdict(const PayloadValidator& validator,
                       const std::string& body) {
  const PayloadVerdict fast = validator.Validate(body);
  const PayloadVerdict full = validator.ValidateFully(body);
  EXPECT_EQ(Describe(fast), Describe(full)) << "body: " << body;
  return full.valid();
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

TEST(PayloadFastPathTest, GeneratedEventsAreValidAlike) {
  const auto validator = Bundled();
  ReleaseEventOptions options;
  ReleaseEventGenerator generator(options, Random(11));
  int valid = 0;
  for (int i = 0; i < 2000; ++i) {
    valid += ExpectSameVerdict(*validator, generator.Next().body) ? 1 : 0;
  }
  EXPECT_EQ(valid, 2000);  // The generator only makes valid events.
}

TEST(PayloadFastPathTest, SeededMutationsOfValidBodiesAgree) {
  const auto validator = Bundled();
  ReleaseEventGenerator generator(ReleaseEventOptions{}, Random(12));
  Random rng(13);
  const std::string alphabet = "{}[]\",:0123456789-.eEtrufalsn \\/@abzAZ\x7f\xc3";
  int valid = 0;
  int invalid = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string body = generator.Next().body;
    const int64_t edits = rng.UniformInt(1, 3);
    for (int64_t k = 0; k < edits && !body.empty(); ++k) {
      const size_t at = static_cast<size_t>(
          rng.UniformInt(0, static_cast<int64_t>(body.size()) - 1));
      const char c = alphabet[static_cast<size_t>(
          rng.UniformInt(0, static_cast<int64_t>(alphabet.size()) - 1))];
      switch (rng.UniformInt(0, 2)) {
        case 0:
          body[at] = c;
          break;
        case 1:
          body.insert(body.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          body.erase(at, 1);
          break;
      }
    }
    (ExpectSameVerdict(*validator, body) ? valid : invalid) += 1;
  }
  // Both kinds occur, so both paths were compared.
  EXPECT_GT(valid, 0);
  EXPECT_GT(invalid, 0);
}

TEST(PayloadFastPathTest, CornerCasesAgree) {
  const auto validator = Bundled();
  nlohmann::json base = nlohmann::json::parse(testing::kSpecExamplePayload);
  base["data"]["release"].erase("source_env");
  auto with = [&](const std::string& pointer, nlohmann::json value) {
    nlohmann::json doc = base;
    doc[nlohmann::json::json_pointer(pointer)] = std::move(value);
    return doc.dump();
  };
  const int64_t version = base["data"]["release"]["version"].get<int64_t>();
  const std::vector<std::string> bodies = {
      base.dump(),
      base.dump(2),
      testing::kSpecExamplePayload,  // A promotion, with source_env.
      with("/data/release/rollback", version),
      with("/data/release/rollback", version - 1),
      with("/data/release/rollback", true),
      with("/data/release/rollback", 1.0),
      with("/data/release/version", 1.0),
      with("/data/release/version", 18446744073709551615ULL),
      with("/data/release/version", -1),
      with("/data/release/timestamp", 1e3),
      with("/data/release/source_env", base["data"]["release"]["env"]),
      with("/data/release/permanent_url", "http://v999.example.com/"),
      with("/data/release/url", "http://nothing.example.com/"),
      with("/data/app/name", "Caf\xc3\xa9"),
      with("/data/app/name", "a\\u0041"),
      with("/data/app/name", std::string(5000, 'a')),
      with("/data/extra", 1),
      R"({"event":"ping","data":{}})",
      R"({"event":"ping","data":{},"event":"release"})",
      R"({"event":"release","data":{},"data":{}})",
      R"({"event":"ping","data":{"n":-0}})",
      R"({"event":"ping","data":{"s":"\u00e9"}})",
      R"({"event":"ping","data":{"s":"\udc00"}})",
      "\xef\xbb\xbf{\"event\":\"ping\",\"data\":{}}",
      R"({"event":"ping","data":{}} )",
      R"({"event":"ping","data":{}} x)",
      R"({"event":"","data":{}})",
      R"([1,2])",
      "",
      "null",
  };
  for (const std::string& body : bodies) ExpectSameVerdict(*validator, body);
}

TEST(PayloadFastPathTest, BundledScenarioPayloadsAndFuzzCorpusAgree) {
  const auto validator = Bundled();
  size_t checked = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(testing::SourcePath("scenarios"))) {
    if (entry.path().extension() != ".json") continue;
    const nlohmann::json scenario = nlohmann::json::parse(
        ReadFile(entry.path()), nullptr, /*allow_exceptions=*/false);
    if (!scenario.is_object() || !scenario.contains("events")) continue;
    const nlohmann::json& events = scenario["events"];
    if (!events.is_object() || !events.contains("payloads")) continue;
    for (const nlohmann::json& payload : events["payloads"]) {
      ExpectSameVerdict(*validator,
                        payload.is_string() ? payload.get<std::string>()
                                            : payload.dump());
      ++checked;
    }
  }
  for (const std::string kind : {"corpus", "regressions"}) {
    const std::filesystem::path dir =
        testing::SourcePath("fuzz/" + kind + "/payload_fuzz");
    if (!std::filesystem::is_directory(dir)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      ExpectSameVerdict(*validator, ReadFile(entry.path()));
      ++checked;
    }
  }
  EXPECT_GT(checked, 0u);
}

}  // namespace
}  // namespace hooksim
