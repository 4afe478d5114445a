// Contract files and the built-in profiles (issue 16 point 2 and 3).
#include "sim/contract/contract_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "sim/cli/cli.h"
#include "tests/test_util.h"

namespace hooksim {
namespace {

using nlohmann::json;
using testing::Cli;
using testing::CliResult;

json Minimal() {
  return json::parse(R"({"name":"mine","attempts":3,
    "schedule_ms":[100,200],"timeout_ms":1000})");
}

Status ErrorOf(const json& doc) {
  Result<Contract> r = ContractFromJson(doc);
  EXPECT_FALSE(r.ok()) << doc.dump();
  return r.ok() ? Status{} : r.error();
}

TEST(ContractFileTest, MinimalFileTakesDivshotLikeDefaults) {
  Result<Contract> r = ContractFromJson(Minimal());
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->profile, "mine");
  EXPECT_EQ(r->max_attempts(), 3);
  ASSERT_EQ(r->retry_schedule.size(), 2u);
  EXPECT_EQ(r->retry_schedule[1], std::chrono::milliseconds(200));
  EXPECT_EQ(r->jitter, 0.0);
  EXPECT_EQ(r->timeout, std::chrono::seconds(1));
  EXPECT_TRUE(r->IsSuccessStatus(204));
  EXPECT_FALSE(r->IsSuccessStatus(302));
  EXPECT_FALSE(r->StopsOn(410));
  EXPECT_FALSE(r->HonoursRetryAfter(429));
  EXPECT_EQ(r->signing, SigningScheme::kNone);
}

TEST(ContractFileTest, EveryBuiltinRoundTripsThroughTheFileFormat) {
  ASSERT_GE(BuiltinContracts().size(), 4u);
  EXPECT_EQ(BuiltinContracts()[0].profile, "divshot");
  for (const Contract& c : BuiltinContracts()) {
    const json doc = ContractToJson(c);
    Result<Contract> back = ContractFromJson(doc);
    ASSERT_TRUE(back.ok()) << c.profile << ": " << back.error().ToString();
    EXPECT_EQ(ContractToJson(*back), doc) << c.profile;
    EXPECT_FALSE(c.source.empty()) << c.profile;
  }
}

TEST(ContractFileTest, DivshotBuiltinIsTheSeedContract) {
  const Contract* d = FindBuiltinContract("divshot");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(ContractToJson(*d), ContractToJson(DivshotContract()));
  EXPECT_EQ(d->max_attempts(), 6);
}

TEST(ContractFileTest, BuiltinProfilesCarryTheProvidersFigures) {
  const Contract* sw = FindBuiltinContract("standard-webhooks");
  ASSERT_NE(sw, nullptr);
  EXPECT_EQ(sw->max_attempts(), 10);
  EXPECT_EQ(sw->retry_schedule.back(), std::chrono::hours(24));
  EXPECT_TRUE(sw->StopsOn(410));
  EXPECT_TRUE(sw->HonoursRetryAfter(429));
  EXPECT_TRUE(sw->HonoursRetryAfter(503));
  EXPECT_FALSE(sw->HonoursRetryAfter(500));
  EXPECT_EQ(sw->signing, SigningScheme::kStandardWebhooks);

  const Contract* svix = FindBuiltinContract("svix");
  ASSERT_NE(svix, nullptr);
  EXPECT_EQ(svix->max_attempts(), 8);
  EXPECT_EQ(svix->retry_schedule.size(), 7u);
  EXPECT_DOUBLE_EQ(svix->jitter, 0.2);
  EXPECT_EQ(svix->retry_after, RetryAfterMode::kClamp);
  EXPECT_EQ(svix->throttle_floor, std::chrono::seconds(60));

  const Contract* gh = FindBuiltinContract("github");
  ASSERT_NE(gh, nullptr);
  EXPECT_EQ(gh->max_attempts(), 1);
  EXPECT_TRUE(gh->retry_schedule.empty());
  EXPECT_EQ(gh->timeout, std::chrono::seconds(10));
  EXPECT_EQ(gh->signing, SigningScheme::kGithubSha256);
}

TEST(ContractFileTest, SchemaErrorsNameThePointer) {
  json doc = Minimal();
  doc["retry_after"] = {{"mode", "sometimes"}};
  EXPECT_EQ(ErrorOf(doc).path(), "/retry_after/mode");

  doc = Minimal();
  doc["schedule_ms"][1] = -5;
  EXPECT_EQ(ErrorOf(doc).path(), "/schedule_ms/1");

  doc = Minimal();
  doc["surprise"] = 1;
  EXPECT_FALSE(ContractFromJson(doc).ok());

  doc = Minimal();
  doc.erase("timeout_ms");
  EXPECT_FALSE(ContractFromJson(doc).ok());

  doc = Minimal();
  doc["attempts"] = "three";
  EXPECT_EQ(ErrorOf(doc).path(), "/attempts");
}

TEST(ContractFileTest, InconsistentSchedulesAreRefused) {
  json doc = Minimal();
  doc["schedule_ms"] = {1, 2, 3};  // 3 delays, 2 re-attempts.
  Status e = ErrorOf(doc);
  EXPECT_EQ(e.path(), "/schedule_ms/2");
  EXPECT_NE(e.message().find("more delays"), std::string::npos) << e.message();

  doc = Minimal();
  doc["schedule_ms"] = json::array();
  EXPECT_EQ(ErrorOf(doc).path(), "/schedule_ms");

  doc = Minimal();
  doc["jitter"] = 1.0;
  EXPECT_EQ(ErrorOf(doc).path(), "/jitter");
  doc["jitter"] = -0.1;
  EXPECT_EQ(ErrorOf(doc).path(), "/jitter");
  doc["jitter"] = 0.99;
  EXPECT_TRUE(ContractFromJson(doc).ok());

  doc = Minimal();
  doc["success"] = {299, 200};
  EXPECT_EQ(ErrorOf(doc).path(), "/success");

  doc = Minimal();
  doc["attempts"] = 1;
  doc["schedule_ms"] = json::array();
  EXPECT_TRUE(ContractFromJson(doc).ok());
}

TEST(ContractFileTest, ParseTextNamesTheFile) {
  Result<Contract> r = ParseContractText("{", "c.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().file(), "c.json");
  r = ParseContractText(std::string(kMaxContractFileBytes + 1, ' '), "big");
  EXPECT_FALSE(r.ok());
}

TEST(ContractFileTest, LoadByNameOrFile) {
  Result<Contract> r = LoadContract("svix");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->profile, "svix");
  r = LoadContract("nosuch");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(
      r.error().message().find("divshot, standard-webhooks, svix, github"),
      std::string::npos)
      << r.error().message();
  const std::string path = ::testing::TempDir() + "contract_load.json";
  {
    std::ofstream f(path);
    f << Minimal().dump();
  }
  r = LoadContract(path);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->profile, "mine");
  r = LoadContract(::testing::TempDir() + "missing_contract.json");
  EXPECT_FALSE(r.ok());
  std::remove(path.c_str());
}

TEST(ContractsCommandTest, ListAndShowPrintTheFileFormat) {
  CliResult r = Cli({"contracts", "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json list = json::parse(r.out);
  ASSERT_EQ(list.size(), BuiltinContracts().size());
  for (const json& profile : list) {
    EXPECT_TRUE(ContractFromJson(profile).ok()) << profile.dump();
  }
  r = Cli({"contracts", "show", "github"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["attempts"], 1);
  EXPECT_EQ(json::parse(r.out)["signing"], "github-sha256");
}

TEST(ContractsCommandTest, UnknownNameListsTheKnownOnesWithExit2) {
  CliResult r = Cli({"contracts", "show", "stripe"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("known: divshot, standard-webhooks, svix, github"),
            std::string::npos)
      << r.err;
  r = Cli({"contracts"});
  EXPECT_EQ(r.code, 2);
  r = Cli({"contracts", "--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("show NAME|FILE"), std::string::npos);
}

TEST(ContractsCommandTest, BadFileNamesThePointerWithExit2) {
  const std::string path = ::testing::TempDir() + "contract_bad.json";
  {
    std::ofstream f(path);
    f << R"({"name":"x","attempts":2,"schedule_ms":[1,2],"timeout_ms":5})";
  }
  CliResult r = Cli({"contracts", "show", path});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("/schedule_ms/1"), std::string::npos) << r.err;
  std::remove(path.c_str());
}

}  // namespace
}  // namespace hooksim
