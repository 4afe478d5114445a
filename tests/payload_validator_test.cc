#include "sim/contract/payload_validator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "sim/base/random.h"
#include "sim/contract/embedded_schemas.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

using Json = nlohmann::json;

constexpr const char* kSpecExample = testing::kSpecExamplePayload;

std::shared_ptr<const PayloadValidator> Bundled() {
  auto validator = PayloadValidator::Bundled();
  EXPECT_TRUE(validator.ok()) << validator.error().ToString();
  return *validator;
}

Json Example() { return Json::parse(kSpecExample); }

// A plain deploy: the example without source_env.
Json Deploy() {
  Json doc = Example();
  doc["data"]["release"].erase("source_env");
  return doc;
}

std::string Describe(const PayloadVerdict& verdict) {
  std::string out;
  for (const PayloadIssue& issue : verdict.issues) {
    out += std::string(RuleId(issue.rule)) + " " + issue.pointer + ": " +
           issue.message + "\n";
  }
  return out;
}

// Expects exactly one issue, with this rule and pointer.
void ExpectOneIssue(const PayloadVerdict& verdict, const std::string& rule,
                    const std::string& pointer) {
  ASSERT_EQ(verdict.issues.size(), 1u) << Describe(verdict);
  EXPECT_EQ(RuleId(verdict.issues[0].rule), rule) << Describe(verdict);
  EXPECT_EQ(verdict.issues[0].pointer, pointer) << Describe(verdict);
  EXPECT_FALSE(verdict.issues[0].message.empty());
}

TEST(PayloadValidatorTest, BundledSchemasAreTheRepoFiles) {
  EXPECT_NE(EmbeddedEnvelopeSchema().find("\"event\""), std::string::npos);
  EXPECT_NE(EmbeddedReleaseSchema().find("permanent_url"), std::string::npos);
  EXPECT_TRUE(PayloadValidator::Bundled().ok());
}

TEST(PayloadValidatorTest, SpecExampleIsValid) {
  const PayloadVerdict verdict = Bundled()->Validate(kSpecExample);
  EXPECT_TRUE(verdict.valid()) << Describe(verdict);
  EXPECT_EQ(verdict.event, "release");
  EXPECT_EQ(verdict.FirstIssue(), "");
}

TEST(PayloadValidatorTest, DeployRollbackAndHttpsAreValid) {
  auto validator = Bundled();
  EXPECT_TRUE(validator->Validate(Deploy().dump()).valid());
  Json rollback = Deploy();
  rollback["data"]["release"]["rollback"] = 9;
  EXPECT_TRUE(validator->Validate(rollback.dump()).valid());
  Json https = Deploy();
  https["data"]["release"]["url"] = "https://your-app.divshot.io/";
  https["data"]["release"]["permanent_url"] =
      "https://v12.your-app.divshot.io/index.html";
  EXPECT_TRUE(validator->Validate(https.dump()).valid());
}

TEST(PayloadValidatorTest, OtherEventsOnlyNeedTheEnvelope) {
  const PayloadVerdict verdict =
      Bundled()->Validate(R"({"event":"domain.added","data":{"x":[1]}})");
  EXPECT_TRUE(verdict.valid()) << Describe(verdict);
  EXPECT_EQ(verdict.event, "domain.added");
}

TEST(PayloadValidatorTest, MissingEvent) {
  Json doc = Example();
  doc.erase("event");
  const PayloadVerdict verdict = Bundled()->Validate(doc.dump());
  ExpectOneIssue(verdict, "C3", "/event");
  EXPECT_NE(verdict.issues[0].message.find("missing"), std::string::npos);
}

TEST(PayloadValidatorTest, EventNotString) {
  const PayloadVerdict verdict =
      Bundled()->Validate(R"({"event":7,"data":{}})");
  ExpectOneIssue(verdict, "C3", "/event");
  EXPECT_EQ(verdict.issues[0].message,
            "expected non-empty string of at most 256 characters, got "
            "integer 7");
}

TEST(PayloadValidatorTest, DataNotObject) {
  const PayloadVerdict verdict =
      Bundled()->Validate(R"({"event":"release","data":[]})");
  ExpectOneIssue(verdict, "C3", "/data");
  EXPECT_EQ(verdict.issues[0].message, "expected object, got array");
  EXPECT_EQ(verdict.FirstIssue(), "/data: expected object, got array");
}

TEST(PayloadValidatorTest, NotJsonGivesParsePosition) {
  const PayloadVerdict verdict =
      Bundled()->Validate("{\"event\":\"release\",\n \"data\": {,}}");
  ExpectOneIssue(verdict, "C3", "");
  EXPECT_NE(verdict.issues[0].message.find("line 2"), std::string::npos)
      << verdict.issues[0].message;
  EXPECT_EQ(verdict.FirstIssue().substr(0, 3), "/: ");
}

TEST(PayloadValidatorTest, VersionAsStringIsOneIssue) {
  Json doc = Example();
  doc["data"]["release"]["version"] = "12";
  const PayloadVerdict verdict = Bundled()->Validate(doc.dump());
  ExpectOneIssue(verdict, "C4", "/data/release/version");
  EXPECT_EQ(verdict.issues[0].message,
            "expected integer >= 1, got string \"12\"");
}

TEST(PayloadValidatorTest, VersionZero) {
  Json doc = Deploy();
  doc["data"]["release"]["version"] = 0;
  doc["data"]["release"]["permanent_url"] = "http://v0.your-app.divshot.io";
  const PayloadVerdict verdict = Bundled()->Validate(doc.dump());
  ExpectOneIssue(verdict, "C4", "/data/release/version");
}

TEST(PayloadValidatorTest, ExtraKeys) {
  auto validator = Bundled();
  Json release_extra = Example();
  release_extra["data"]["release"]["branch"] = "main";
  ExpectOneIssue(validator->Validate(release_extra.dump()), "C4",
                 "/data/release/branch");

  Json app_extra = Example();
  app_extra["data"]["app"]["owner"] = "me";
  ExpectOneIssue(validator->Validate(app_extra.dump()), "C4",
                 "/data/app/owner");

  Json root_extra = Example();
  root_extra["delivery"] = 1;
  ExpectOneIssue(validator->Validate(root_extra.dump()), "C4", "/delivery");
}

TEST(PayloadValidatorTest, ExtraAndMissingKeysInOneObject) {
  Json doc = Example();
  doc["data"]["release"].erase("timestamp");
  doc["data"]["release"]["time"] = 1417552837;
  const PayloadVerdict verdict = Bundled()->Validate(doc.dump());
  ASSERT_EQ(verdict.issues.size(), 2u) << Describe(verdict);
  std::vector<std::string> pointers = {verdict.issues[0].pointer,
                                       verdict.issues[1].pointer};
  std::sort(pointers.begin(), pointers.end());
  EXPECT_EQ(pointers, (std::vector<std::string>{"/data/release/time",
                                                "/data/release/timestamp"}));
}

TEST(PayloadValidatorTest, ExtraKeyPointerIsEscaped) {
  Json doc = Example();
  doc["data"]["release"]["a/b~c"] = 1;
  ExpectOneIssue(Bundled()->Validate(doc.dump()), "C4",
                 "/data/release/a~1b~0c");
}

TEST(PayloadValidatorTest, MissingReleaseField) {
  Json doc = Example();
  doc["data"]["release"].erase("timestamp");
  const PayloadVerdict verdict = Bundled()->Validate(doc.dump());
  ExpectOneIssue(verdict, "C4", "/data/release/timestamp");
}

TEST(PayloadValidatorTest, RollbackMustBeFalseOrPositive) {
  auto validator = Bundled();
  for (const Json& bad : {Json(true), Json(0), Json("11"), Json(nullptr)}) {
    Json doc = Deploy();
    doc["data"]["release"]["rollback"] = bad;
    const PayloadVerdict verdict = validator->Validate(doc.dump());
    ExpectOneIssue(verdict, "C4", "/data/release/rollback");
    EXPECT_NE(verdict.issues[0].message.find("expected false or integer >= 1"),
              std::string::npos)
        << verdict.issues[0].message;
  }
}

TEST(PayloadValidatorTest, RollbackToLaterVersion) {
  auto validator = Bundled();
  for (int rollback : {12, 13}) {
    Json doc = Deploy();
    doc["data"]["release"]["rollback"] = rollback;
    ExpectOneIssue(validator->Validate(doc.dump()), "C4",
                   "/data/release/rollback");
  }
}

TEST(PayloadValidatorTest, SourceEnvEqualToEnv) {
  Json doc = Example();
  doc["data"]["release"]["source_env"] = "production";
  ExpectOneIssue(Bundled()->Validate(doc.dump()), "C4",
                 "/data/release/source_env");
}

TEST(PayloadValidatorTest, RollbackIsNotAPromotion) {
  Json doc = Example();
  doc["data"]["release"]["rollback"] = 11;
  ExpectOneIssue(Bundled()->Validate(doc.dump()), "C4",
                 "/data/release/source_env");
}

TEST(PayloadValidatorTest, PermanentUrlWithWrongVersion) {
  auto validator = Bundled();
  for (const char* url :
       {"http://v11.your-app.divshot.io", "http://v120.your-app.divshot.io",
        "http://your-app.divshot.io", "http://v12.other-app.divshot.io"}) {
    Json doc = Example();
    doc["data"]["release"]["permanent_url"] = url;
    ExpectOneIssue(validator->Validate(doc.dump()), "C4",
                   "/data/release/permanent_url");
  }
}

TEST(PayloadValidatorTest, PermanentUrlNotAUrl) {
  Json doc = Example();
  doc["data"]["release"]["permanent_url"] = "v12.your-app.divshot.io";
  ExpectOneIssue(Bundled()->Validate(doc.dump()), "C4",
                 "/data/release/permanent_url");
}

TEST(PayloadValidatorTest, UrlWithoutApp) {
  Json doc = Example();
  doc["data"]["release"]["url"] = "http://someone-else.divshot.io";
  const PayloadVerdict verdict = Bundled()->Validate(doc.dump());
  ExpectOneIssue(verdict, "C4", "/data/release/url");
  EXPECT_NE(verdict.issues[0].message.find("your-app"), std::string::npos);
}

TEST(PayloadValidatorTest, BadAppNameIsOneIssue) {
  Json doc = Example();
  doc["data"]["app"]["name"] = "Your App";
  ExpectOneIssue(Bundled()->Validate(doc.dump()), "C4", "/data/app/name");
}

TEST(PayloadValidatorTest, TwoBadFieldsAreTwoIssues) {
  Json doc = Example();
  doc["data"]["release"]["version"] = "12";
  doc["data"]["release"]["timestamp"] = -5;
  const PayloadVerdict verdict = Bundled()->Validate(doc.dump());
  ASSERT_EQ(verdict.issues.size(), 2u) << Describe(verdict);
  std::vector<std::string> pointers = {verdict.issues[0].pointer,
                                       verdict.issues[1].pointer};
  std::sort(pointers.begin(), pointers.end());
  EXPECT_EQ(pointers, (std::vector<std::string>{"/data/release/timestamp",
                                                "/data/release/version"}));
  for (const PayloadIssue& issue : verdict.issues) {
    EXPECT_EQ(RuleId(issue.rule), "C4");
  }
}

TEST(PayloadValidatorTest, GarbageDoesNotCrash) {
  auto validator = Bundled();
  Random rng(42);
  std::string random_bytes(1 << 16, '\0');
  for (char& c : random_bytes) c = static_cast<char>(rng.Next() & 0xff);
  const std::vector<std::string> inputs = {
      "",
      "   ",
      "[]",
      "null",
      "42",
      "\"release\"",
      "{",
      std::string(10 << 20, '['),
      std::string(1000, '[') + std::string(1000, ']'),
      std::string(1000, '{'),
      random_bytes,
      std::string("{\"event\":\"release\"\0,\"data\":{}}", 31),
      "{\"event\":\"\xff\xfe\",\"data\":{}}",
  };
  for (const std::string& input : inputs) {
    const PayloadVerdict verdict = validator->Validate(input);
    ASSERT_FALSE(verdict.valid()) << input.substr(0, 40);
    EXPECT_EQ(RuleId(verdict.issues[0].rule), "C3") << input.substr(0, 40);
    EXPECT_EQ(verdict.issues[0].pointer, "") << input.substr(0, 40);
  }
}

TEST(PayloadValidatorTest, DeepButLegalNestingInDataIsChecked) {
  const std::string deep = R"({"event":"x","data":{"a":)" +
                           std::string(100, '[') + std::string(100, ']') + "}}";
  EXPECT_TRUE(Bundled()->Validate(deep).valid());
}

TEST(PayloadValidatorTest, HugeStringsAreBoundedNotFatal) {
  auto validator = Bundled();
  for (const char* field : {"author", "url", "permanent_url", "env"}) {
    Json doc = Example();
    doc["data"]["release"][field] = std::string(4 << 20, 'a');
    const PayloadVerdict verdict = validator->Validate(doc.dump());
    ASSERT_FALSE(verdict.valid()) << field;
    EXPECT_EQ(verdict.issues[0].pointer, std::string("/data/release/") + field)
        << Describe(verdict);
    EXPECT_LT(verdict.issues[0].message.size(), 400u);
  }
}

TEST(PayloadValidatorTest, ManyExtraKeysAreBounded) {
  Json doc = Example();
  for (int i = 0; i < 5000; ++i) {
    doc["data"]["release"]["k" + std::to_string(i)] = i;
  }
  const PayloadVerdict verdict = Bundled()->Validate(doc.dump());
  EXPECT_FALSE(verdict.valid());
  EXPECT_LE(verdict.issues.size(), 100u);
}

TEST(PayloadValidatorTest, FromSchemaTextReportsBadSchemas) {
  auto not_json = PayloadValidator::FromSchemaText("{", "{}");
  ASSERT_FALSE(not_json.ok());
  EXPECT_NE(not_json.error().message().find("envelope"), std::string::npos);
  auto not_object = PayloadValidator::FromSchemaText("{}", "[]");
  ASSERT_FALSE(not_object.ok());
  EXPECT_NE(not_object.error().message().find("release"), std::string::npos);
  auto permissive = PayloadValidator::FromSchemaText("{}", "{}");
  ASSERT_TRUE(permissive.ok());
  // Semantic C4 checks still apply under a permissive schema.
  Json doc = Example();
  doc["data"]["release"]["url"] = "http://nope.divshot.io";
  ExpectOneIssue((*permissive)->Validate(doc.dump()), "C4",
                 "/data/release/url");
}

TEST(PayloadValidatorTest, ConcurrentValidateAgrees) {
  auto validator = Bundled();
  Json bad = Example();
  bad["data"]["release"]["version"] = "12";
  const std::string good_body = Example().dump();
  const std::string bad_body = bad.dump();
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (!validator->Validate(good_body).valid()) ++failures[t];
        if (validator->Validate(bad_body).issues.size() != 1) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST(PayloadValidatorCacheTest, SameVerdictAsUncached) {
  auto validator = Bundled();
  CachedPayloadValidator cached(validator, 8);
  Json bad = Example();
  bad["data"]["release"]["version"] = "12";
  for (const std::string& body :
       {Example().dump(), bad.dump(), std::string("[]")}) {
    const PayloadVerdict direct = validator->Validate(body);
    auto first = cached.Validate(body, Hash64(body));
    auto second = cached.Validate(body, Hash64(body));
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first, second);  // The second answer came from the cache.
    EXPECT_EQ(first->valid(), direct.valid());
    EXPECT_EQ(Describe(*first), Describe(direct));
  }
}

TEST(PayloadValidatorCacheTest, ClearsWhenFull) {
  CachedPayloadValidator cached(Bundled(), 2);
  const std::string a = R"({"event":"a","data":{}})";
  const std::string b = R"({"event":"b","data":{}})";
  const std::string c = R"({"event":"c","data":{}})";
  auto a1 = cached.Validate(a, Hash64(a));
  EXPECT_EQ(cached.Validate(a, Hash64(a)), a1);
  cached.Validate(b, Hash64(b));
  cached.Validate(c, Hash64(c));  // Full: cleared, then c stored.
  auto a2 = cached.Validate(a, Hash64(a));
  EXPECT_NE(a2, a1);  // Re-validated: a was dropped by the clear.
  EXPECT_EQ(a2->event, "a");
  EXPECT_TRUE(a2->valid());
}

// Check, the receiver's hot path, gives the cached verdict's gist: valid,
// or the first issue worded with its rule, before and after the body is
// cached, and across a clear.
TEST(PayloadValidatorCacheTest, CheckGivesTheVerdictsGist) {
  auto validator = Bundled();
  CachedPayloadValidator cached(validator, 3);
  Json bad = Example();
  bad["data"]["release"]["version"] = "12";
  const std::vector<std::string> bodies = {Example().dump(), bad.dump(), "[]",
                                           R"({"event":"x","data":{}})"};
  for (int round = 0; round < 3; ++round) {
    for (const std::string& body : bodies) {
      const PayloadVerdict direct = validator->Validate(body);
      std::string issue = "untouched";
      const bool valid = cached.Check(body, Hash64(body), &issue);
      EXPECT_EQ(valid, direct.valid()) << body;
      if (valid) {
        EXPECT_EQ(issue, "untouched");
      } else {
        EXPECT_EQ(issue, std::string(RuleId(direct.issues.front().rule)) +
                             " " + direct.FirstIssue());
      }
      EXPECT_EQ(cached.Validate(body, Hash64(body))->valid(), valid);
    }
  }
  CachedPayloadValidator missing(nullptr, 4);
  std::string issue;
  EXPECT_FALSE(missing.Check("{}", Hash64("{}"), &issue));
  EXPECT_NE(issue.find("not checked"), std::string::npos) << issue;
}

// Many distinct bodies: the flat cache grows past its first size and
// keeps every verdict apart (no two bodies share one).
TEST(PayloadValidatorCacheTest, ManyBodiesKeepTheirOwnVerdicts) {
  CachedPayloadValidator cached(Bundled(), 100000);
  std::vector<std::shared_ptr<const PayloadVerdict>> first;
  for (int i = 0; i < 3000; ++i) {
    const std::string body = R"({"event":"e)" + std::to_string(i) +
                             R"(","data":{}})";
    first.push_back(cached.Validate(body, Hash64(body)));
    ASSERT_EQ(first.back()->event, "e" + std::to_string(i));
  }
  for (int i = 0; i < 3000; ++i) {
    const std::string body = R"({"event":"e)" + std::to_string(i) +
                             R"(","data":{}})";
    EXPECT_EQ(cached.Validate(body, Hash64(body)), first[i]) << i;
  }
}

TEST(PayloadValidatorCacheTest, SizeIsPartOfTheKey) {
  CachedPayloadValidator cached(Bundled(), 16);
  const std::string good = R"({"event":"a","data":{}})";
  const std::string bad = "[]";
  // Same (deliberately wrong) hash, different sizes: no shared verdict.
  EXPECT_TRUE(cached.Validate(good, 7)->valid());
  EXPECT_FALSE(cached.Validate(bad, 7)->valid());
}

TEST(PayloadValidatorCacheTest, NullValidatorGivesAnIssue) {
  CachedPayloadValidator cached(nullptr, 4);
  EXPECT_FALSE(cached.Validate("{}", Hash64("{}"))->valid());
}

}  // namespace
}  // namespace hooksim
