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
#include "sim/contract/embedded_schemas.h"
#include "sim/contract/payload_validator.h"
#include "sim/contract/release_events.h"
#include "tests/payload_test_util.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

std::shared_ptr<const PayloadValidator> Bundled() {
  auto validator = PayloadValidator::Bundled();
  EXPECT_TRUE(validator.ok()) << validator.error().ToString();
  return *validator;
}

// Expects Validate and ValidateFully to agree on `body`; returns whether
// the body is valid.
bool ExpectSameVerdict(const PayloadValidator& validator,
                       const std::string& body) {
  const PayloadVerdict fast = validator.Validate(body);
  const PayloadVerdict full = validator.ValidateFully(body);
  EXPECT_EQ(testing::DescribeVerdict(fast), testing::DescribeVerdict(full))
      << "body: " << body;
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
    testing::EditBytes(body, rng, alphabet, 3,
                       testing::ByteEdits::kReplaceInsertErase);
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

// Every constraint of the bundled release schema at and around its edge:
// the compiled pass (BundledSchemasAreCompiled) passes only what valijson
// passes, and fails what it fails.
TEST(PayloadFastPathTest, CompiledSchemaEdgesAgree) {
  const auto validator = Bundled();
  nlohmann::json base = nlohmann::json::parse(testing::kSpecExamplePayload);
  auto with = [&](const std::string& pointer, nlohmann::json value) {
    nlohmann::json doc = base;
    doc[nlohmann::json::json_pointer(pointer)] = std::move(value);
    return doc.dump();
  };
  auto without = [&](const std::string& pointer) {
    nlohmann::json doc = base;
    const nlohmann::json::json_pointer at(pointer);
    doc[at.parent_pointer()].erase(at.back());
    return doc.dump();
  };
  std::vector<std::string> bodies;
  for (const char* name :
       {"a", "a-", "-a", "a-b", "a--b", "A", "0", "a_b", "a.b", "a b", "a\n",
        "", "-"}) {
    bodies.push_back(with("/data/app/name", name));
  }
  bodies.push_back(with("/data/app/name", std::string(100, 'a')));
  bodies.push_back(with("/data/app/name", std::string(101, 'a')));
  for (const char* author :
       {"a@b", "@b", "a@", "@", "a@@b", "a@b@c", "a b@c", "a@b c", "a\tb@c",
        "a@b\n", "a\vb@c", "a\fb@c", "a\bb@c", "", "ab"}) {
    bodies.push_back(with("/data/release/author", author));
  }
  bodies.push_back(with("/data/release/author", std::string(250, 'a') + "@bcd"));
  bodies.push_back(
      with("/data/release/author", std::string(251, 'a') + "@bcd"));
  for (const char* url :
       {"http://x", "https://x", "http://", "https://", "http:///x",
        "http://?x", "http://#x", "http:// x", "http://\tx", "ftp://x",
        "HTTP://x", "http:/x", "https://x y", "http://x/\n", "x"}) {
    bodies.push_back(with("/data/release/url", url));
    bodies.push_back(with("/data/release/permanent_url", url));
  }
  bodies.push_back(with("/data/release/url",
                        "http://your-app." + std::string(2028, 'a')));
  bodies.push_back(with("/data/release/url",
                        "http://your-app." + std::string(2033, 'a')));
  for (const nlohmann::json& rollback :
       {nlohmann::json(false), nlohmann::json(true), nlohmann::json(0),
        nlohmann::json(1), nlohmann::json(-1), nlohmann::json(nullptr),
        nlohmann::json("false"), nlohmann::json::array()}) {
    nlohmann::json doc = base;
    doc["data"]["release"]["rollback"] = rollback;
    doc["data"]["release"].erase("source_env");
    bodies.push_back(doc.dump());
  }
  for (int64_t v : {-1, 0, 1, 2}) {
    bodies.push_back(with("/data/release/version", v));
    bodies.push_back(with("/data/release/timestamp", v));
  }
  bodies.push_back(with("/data/release/version", "12"));
  bodies.push_back(with("/data/release/timestamp", false));
  for (const char* field : {"env", "source", "source_env"}) {
    const std::string at = std::string("/data/release/") + field;
    bodies.push_back(with(at, ""));
    bodies.push_back(with(at, "x"));
    bodies.push_back(with(at, 7));
    bodies.push_back(with(at, std::string(64, 'x')));
    bodies.push_back(with(at, std::string(65, 'x')));
    bodies.push_back(with(at, std::string(256, 'x')));
    bodies.push_back(with(at, std::string(257, 'x')));
  }
  for (const char* id : {"", "x"}) bodies.push_back(with("/data/app/id", id));
  bodies.push_back(with("/data/app/id", std::string(64, 'x')));
  bodies.push_back(with("/data/app/id", std::string(65, 'x')));
  bodies.push_back(with("/data/app/id", 7));
  for (const char* pointer :
       {"/event", "/data", "/data/app", "/data/release", "/data/app/name",
        "/data/app/id", "/data/release/env", "/data/release/version",
        "/data/release/author", "/data/release/rollback",
        "/data/release/source", "/data/release/source_env",
        "/data/release/timestamp", "/data/release/url",
        "/data/release/permanent_url"}) {
    bodies.push_back(without(pointer));
  }
  for (const char* pointer : {"/extra", "/data/extra", "/data/app/extra",
                              "/data/release/extra"}) {
    bodies.push_back(with(pointer, 1));
  }
  for (const nlohmann::json& data :
       {nlohmann::json::object(), nlohmann::json::array(), nlohmann::json(1),
        nlohmann::json(nullptr)}) {
    bodies.push_back(with("/data", data));
    bodies.push_back(with("/data/app", data));
    bodies.push_back(with("/data/release", data));
  }
  for (const nlohmann::json& event :
       {nlohmann::json("release"), nlohmann::json("Release"),
        nlohmann::json("ping"), nlohmann::json(""), nlohmann::json(1),
        nlohmann::json(std::string(256, 'e')),
        nlohmann::json(std::string(257, 'e'))}) {
    bodies.push_back(with("/event", event));
    nlohmann::json ping = {{"event", event}, {"data", {{"x", 1}}}};
    bodies.push_back(ping.dump());
  }
  int valid = 0;
  for (const std::string& body : bodies) {
    valid += ExpectSameVerdict(*validator, body) ? 1 : 0;
  }
  // Both verdicts occur, so both were compared.
  EXPECT_GT(valid, 10);
  EXPECT_LT(valid, static_cast<int>(bodies.size()) - 10);
}

// The bundled schemas are the ones the compiled pass was written for
// (payload_validator.cc: kCompiledEnvelopeHash): when a schema file
// changes, this fails until the pass and its hashes are brought along
// (until then valijson checks every body, with the same verdicts).
TEST(PayloadFastPathTest, BundledSchemasAreCompiled) {
  EXPECT_TRUE(Bundled()->compiled())
      << std::hex << "envelope 0x"
      << Hash64(nlohmann::json::parse(EmbeddedEnvelopeSchema()).dump())
      << ", release 0x"
      << Hash64(nlohmann::json::parse(EmbeddedReleaseSchema()).dump());
  // The same schemas written differently are the same schemas.
  auto respaced = PayloadValidator::FromSchemaText(
      nlohmann::json::parse(EmbeddedEnvelopeSchema()).dump(2),
      nlohmann::json::parse(EmbeddedReleaseSchema()).dump());
  ASSERT_TRUE(respaced.ok()) << respaced.error().ToString();
  EXPECT_TRUE((*respaced)->compiled());
}

// Another schema is checked by valijson, not by the compiled pass for the
// bundled one: a release schema with a shorter env is enforced on the fast path.
TEST(PayloadFastPathTest, OtherSchemasAreNotCompiled) {
  nlohmann::json release = nlohmann::json::parse(EmbeddedReleaseSchema());
  release["properties"]["data"]["properties"]["release"]["properties"]["env"]
         ["maxLength"] = 3;
  auto validator = PayloadValidator::FromSchemaText(EmbeddedEnvelopeSchema(),
                                                    release.dump());
  ASSERT_TRUE(validator.ok()) << validator.error().ToString();
  EXPECT_FALSE((*validator)->compiled());
  nlohmann::json body = nlohmann::json::parse(testing::kSpecExamplePayload);
  body["data"]["release"]["source_env"] = "dev";
  const std::string long_env = body.dump();
  EXPECT_FALSE((*validator)->Validate(long_env).valid());
  EXPECT_TRUE(Bundled()->Validate(long_env).valid());
  body["data"]["release"]["env"] = "prd";
  EXPECT_TRUE((*validator)->Validate(body.dump()).valid());
  ExpectSameVerdict(**validator, long_env);
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
