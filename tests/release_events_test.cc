#include "sim/contract/release_events.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/base/random.h"
#include "sim/contract/payload_validator.h"

namespace hooksim {
namespace {

using Json = nlohmann::json;

std::vector<ReleaseEvent> Generate(const ReleaseEventOptions& options,
                                   uint64_t seed, int count) {
  ReleaseEventGenerator generator(options, Random(seed));
  std::vector<ReleaseEvent> events;
  for (int i = 0; i < count; ++i) events.push_back(generator.Next());
  return events;
}

int EnvIndex(const std::string& env) {
  if (env == "development") return 0;
  if (env == "staging") return 1;
  if (env == "production") return 2;
  return -1;
}

TEST(ReleaseEventTest, KindNames) {
  EXPECT_EQ(ReleaseKindName(ReleaseKind::kDeploy), "deploy");
  EXPECT_EQ(ReleaseKindName(ReleaseKind::kPromotion), "promotion");
  EXPECT_EQ(ReleaseKindName(ReleaseKind::kRollback), "rollback");
}

TEST(ReleaseEventTest, SameSeedSameBytes) {
  const ReleaseEventOptions options;
  const auto a = Generate(options, 7, 500);
  const auto b = Generate(options, 7, 500);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].body, b[i].body) << i;
    EXPECT_EQ(a[i].kind, b[i].kind) << i;
  }
}

TEST(ReleaseEventTest, DifferentSeedDifferentBytes) {
  const ReleaseEventOptions options;
  const auto a = Generate(options, 7, 50);
  const auto b = Generate(options, 8, 50);
  int differing = 0;
  for (size_t i = 0; i < a.size(); ++i) differing += a[i].body != b[i].body;
  EXPECT_GT(differing, 40);
}

TEST(ReleaseEventTest, KnownFirstBodyShape) {
  // The first event is at start_timestamp, and keys are in spec order.
  ReleaseEventOptions options;
  options.apps = 1;
  const ReleaseEvent event = Generate(options, 1, 1)[0];
  EXPECT_EQ(event.kind, ReleaseKind::kDeploy);  // Nothing to promote yet.
  EXPECT_EQ(event.app, "acme-web");
  EXPECT_EQ(event.version, 1);
  const Json doc = Json::parse(event.body);
  const std::string id = doc["data"]["app"]["id"];
  const std::string author = doc["data"]["release"]["author"];
  const std::string source = doc["data"]["release"]["source"];
  const std::string url = event.env == "production"
                              ? "http://acme-web.divshot.io"
                              : "http://" + event.env + ".acme-web.divshot.io";
  EXPECT_EQ(event.body,
            R"({"event":"release","data":{"app":{"name":"acme-web","id":")" +
                id + R"("},"release":{"env":")" + event.env +
                R"(","version":1,"author":")" + author +
                R"(","rollback":false,"source":")" + source +
                R"(","timestamp":1417552837,"url":")" + url +
                R"(","permanent_url":"http://v1.acme-web.divshot.io"}}})");
  ASSERT_EQ(id.size(), 6u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(ReleaseEventTest, KeyOrderOfAPromotion) {
  ReleaseEventOptions options;
  options.apps = 1;
  for (const ReleaseEvent& event : Generate(options, 3, 200)) {
    if (event.kind != ReleaseKind::kPromotion) continue;
    const std::vector<std::string> want = {
        "env",        "version",   "author", "rollback",     "source",
        "source_env", "timestamp", "url",    "permanent_url"};
    size_t at = 0;
    for (const std::string& key : want) {
      const size_t found = event.body.find("\"" + key + "\":", at);
      ASSERT_NE(found, std::string::npos) << key << " in " << event.body;
      at = found;
    }
    return;
  }
  FAIL() << "no promotion in 200 events";
}

// The generator writes its bodies directly: each is exactly what
// nlohmann's dump() gives for the same ordered document (compact, keys in
// spec order), so reading one and dumping it again changes no byte. Every
// kind, many apps (suffixed names), rollbacks and promotions.
TEST(ReleaseEventTest, BodiesAreCanonicalJson) {
  ReleaseEventOptions options;
  options.apps = 40;
  options.mix = ReleaseMix{0.4, 0.35, 0.25};
  std::map<ReleaseKind, int> kinds;
  for (const ReleaseEvent& event : Generate(options, 17, 3000)) {
    ++kinds[event.kind];
    const nlohmann::ordered_json doc =
        nlohmann::ordered_json::parse(event.body);
    ASSERT_EQ(doc.dump(), event.body);
    EXPECT_EQ(doc["data"]["app"]["name"], event.app);
    EXPECT_EQ(doc["data"]["release"]["env"], event.env);
    EXPECT_EQ(doc["data"]["release"]["version"], event.version);
  }
  EXPECT_EQ(kinds.size(), 3u);
}

TEST(ReleaseEventTest, EachKindAppears) {
  std::map<ReleaseKind, int> counts;
  for (const ReleaseEvent& event : Generate(ReleaseEventOptions{}, 11, 1000)) {
    ++counts[event.kind];
  }
  EXPECT_GT(counts[ReleaseKind::kDeploy], 500);
  EXPECT_GT(counts[ReleaseKind::kPromotion], 100);
  EXPECT_GT(counts[ReleaseKind::kRollback], 30);
}

TEST(ReleaseEventTest, SequenceIsConsistent) {
  ReleaseEventOptions options;
  options.apps = 4;
  options.mix = ReleaseMix{0.4, 0.35, 0.25};
  options.min_gap_s = 0;  // Gaps still advance by at least 1 s.
  options.max_gap_s = 5;
  std::map<std::string, int64_t> last_version;
  std::map<std::string, std::string> app_id;
  // Versions released per (app, env).
  std::map<std::pair<std::string, std::string>, std::set<int64_t>> released;
  int64_t last_timestamp = -1;
  std::set<std::string> apps;
  for (const ReleaseEvent& event : Generate(options, 5, 3000)) {
    const Json doc = Json::parse(event.body);
    const Json& release = doc["data"]["release"];
    ASSERT_EQ(doc["data"]["app"]["name"], event.app);
    ASSERT_EQ(release["env"], event.env);
    ASSERT_EQ(release["version"], event.version);
    apps.insert(event.app);

    auto [id_it, first_seen] =
        app_id.emplace(event.app, doc["data"]["app"]["id"].get<std::string>());
    EXPECT_EQ(id_it->second, doc["data"]["app"]["id"]) << "id changed";

    const int64_t timestamp = release["timestamp"];
    EXPECT_GT(timestamp, last_timestamp);
    if (last_timestamp >= 0) {
      EXPECT_LE(timestamp - last_timestamp, 5);
    }
    last_timestamp = timestamp;

    EXPECT_GT(event.version, last_version[event.app]) << event.body;
    last_version[event.app] = event.version;

    switch (event.kind) {
      case ReleaseKind::kDeploy:
        EXPECT_EQ(release["rollback"], false);
        EXPECT_FALSE(release.contains("source_env"));
        break;
      case ReleaseKind::kPromotion: {
        EXPECT_EQ(release["rollback"], false);
        ASSERT_TRUE(release.contains("source_env")) << event.body;
        const std::string source_env = release["source_env"];
        EXPECT_EQ(EnvIndex(source_env) + 1, EnvIndex(event.env)) << event.body;
        const auto key = std::make_pair(event.app, source_env);
        EXPECT_FALSE(released[key].empty())
            << "promoted from an environment with no release: " << event.body;
        break;
      }
      case ReleaseKind::kRollback: {
        EXPECT_FALSE(release.contains("source_env"));
        ASSERT_TRUE(release["rollback"].is_number_integer()) << event.body;
        const int64_t target = release["rollback"];
        EXPECT_LT(target, event.version);
        const auto key = std::make_pair(event.app, event.env);
        EXPECT_EQ(released[key].count(target), 1u)
            << "rolled back to a version never released there: " << event.body;
        break;
      }
    }
    released[std::make_pair(event.app, event.env)].insert(event.version);
  }
  EXPECT_EQ(apps.size(), 4u);
  std::set<std::string> ids;
  for (const auto& [app, id] : app_id) ids.insert(id);
  EXPECT_EQ(ids.size(), 4u);
}

TEST(ReleaseEventTest, UrlsFollowTheEnvironment) {
  for (const ReleaseEvent& event : Generate(ReleaseEventOptions{}, 2, 300)) {
    const Json release = Json::parse(event.body)["data"]["release"];
    const std::string want =
        event.env == "production"
            ? "http://" + event.app + ".divshot.io"
            : "http://" + event.env + "." + event.app + ".divshot.io";
    EXPECT_EQ(release["url"], want);
    EXPECT_EQ(release["permanent_url"], "http://v" +
                                            std::to_string(event.version) +
                                            "." + event.app + ".divshot.io");
  }
}

TEST(ReleaseEventTest, ManyAppsGetSuffixedNames) {
  ReleaseEventOptions options;
  options.apps = 1000;
  std::set<std::string> names;
  for (const ReleaseEvent& event : Generate(options, 9, 20000)) {
    names.insert(event.app);
  }
  EXPECT_GT(names.size(), 900u);
  for (const std::string& name : names) {
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-"),
              std::string::npos)
        << name;
  }
}

TEST(ReleaseEventTest, EveryBodyPassesTheValidator) {
  auto validator = PayloadValidator::Bundled();
  ASSERT_TRUE(validator.ok()) << validator.error().ToString();
  ReleaseEventOptions options;
  options.apps = 20;  // More apps than names: suffixed names are checked too.
  options.mix = ReleaseMix{0.5, 0.3, 0.2};
  int checked = 0;
  for (const ReleaseEvent& event : Generate(options, 2024, 2000)) {
    const PayloadVerdict verdict = (*validator)->Validate(event.body);
    ASSERT_TRUE(verdict.valid()) << verdict.FirstIssue() << "\n" << event.body;
    ++checked;
  }
  EXPECT_EQ(checked, 2000);
}

TEST(ReleaseEventTest, OnlyDeploysWhenMixSaysSo) {
  ReleaseEventOptions options;
  options.mix = ReleaseMix{1, 0, 0};
  for (const ReleaseEvent& event : Generate(options, 4, 300)) {
    EXPECT_EQ(event.kind, ReleaseKind::kDeploy);
  }
}

TEST(ReleaseEventTest, DefaultOptionsAreValid) {
  EXPECT_TRUE(ValidateReleaseEventOptions(ReleaseEventOptions{}).ok());
}

TEST(ReleaseEventTest, OptionErrorsNameTheField) {
  struct Case {
    ReleaseEventOptions options;
    std::string path;
  };
  std::vector<Case> cases;
  auto add = [&](std::string path, auto edit) {
    ReleaseEventOptions options;
    edit(options);
    cases.push_back({options, std::move(path)});
  };
  add("/apps", [](ReleaseEventOptions& o) { o.apps = 0; });
  add("/apps", [](ReleaseEventOptions& o) { o.apps = 1001; });
  add("/mix/deploy", [](ReleaseEventOptions& o) { o.mix.deploy = -0.1; });
  add("/mix/rollback",
      [](ReleaseEventOptions& o) { o.mix.rollback = 0.0 / 0.0; });
  add("/mix", [](ReleaseEventOptions& o) { o.mix.promotion = 0.1; });
  add("/start_timestamp",
      [](ReleaseEventOptions& o) { o.start_timestamp = -1; });
  add("/min_gap_s", [](ReleaseEventOptions& o) { o.min_gap_s = -1; });
  add("/max_gap_s", [](ReleaseEventOptions& o) {
    o.min_gap_s = 10;
    o.max_gap_s = 9;
  });
  for (const Case& c : cases) {
    const Status status = ValidateReleaseEventOptions(c.options);
    ASSERT_FALSE(status.ok()) << c.path;
    EXPECT_EQ(status.path(), c.path) << status.ToString();
    EXPECT_FALSE(status.message().empty());
  }
  ReleaseEventOptions sum;
  sum.mix.promotion = 0.1;
  EXPECT_EQ(ValidateReleaseEventOptions(sum).message(),
            "probabilities sum to 0.9, expected 1");
}

TEST(ReleaseEventTest, InvalidOptionsAreClampedNotFatal) {
  ReleaseEventOptions options;
  options.apps = -5;
  options.mix = ReleaseMix{0, 0, 0};
  options.min_gap_s = 10;
  options.max_gap_s = 1;
  for (const ReleaseEvent& event : Generate(options, 1, 50)) {
    EXPECT_EQ(event.app, "acme-web");
    EXPECT_EQ(event.kind, ReleaseKind::kDeploy);
  }
}

}  // namespace
}  // namespace hooksim
