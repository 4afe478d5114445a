#include "sim/cli/hooks_command.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/test_util.h"

namespace hooksim {
namespace {

using testing::Cli;
using testing::CliResult;

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

class HooksCommandTest : public ::testing::Test {
 protected:
  HooksCommandTest() {
    char tmpl[] = "/tmp/hooksim_hooks_cli_XXXXXX";
    dir_ = mkdtemp(tmpl);
    state_ = dir_ + "/sub/state.db";
  }
  ~HooksCommandTest() override { std::filesystem::remove_all(dir_); }

  CliResult Hooks(std::vector<std::string> args) {
    args.insert(args.begin(), "hooks");
    args.push_back("--state");
    args.push_back(state_);
    return Cli(args);
  }
  std::string Add(const std::string& url) {
    const CliResult r = Hooks({"add", url});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.back(), '\n');
    return r.out.substr(0, r.out.size() - 1);
  }

  std::string dir_;
  std::string state_;
};

TEST_F(HooksCommandTest, AddPrintsTheIdAndListShowsIt) {
  const std::string a = Add("http://127.0.0.1:8080/a");
  EXPECT_EQ(a.rfind("hk_", 0), 0u);
  EXPECT_EQ(a.size(), 15u);
  const CliResult b = Hooks({"add", "http://localhost/b", "--secret", kSecret});
  ASSERT_EQ(b.code, 0) << b.err;
  const std::string b_id = b.out.substr(0, b.out.size() - 1);
  EXPECT_TRUE(std::filesystem::exists(state_)) << "directory created";

  const CliResult table = Hooks({"list"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find(a), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("http://127.0.0.1:8080/a"), std::string::npos);
  EXPECT_NE(table.out.find("active"), std::string::npos);
  EXPECT_NE(table.out.find("(signed)"), std::string::npos);
  EXPECT_EQ(table.out.find(kSecret), std::string::npos)
      << "the secret is never printed";

  const CliResult json = Hooks({"list", "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  const nlohmann::json hooks = nlohmann::json::parse(json.out);
  ASSERT_TRUE(hooks.is_array());
  ASSERT_EQ(hooks.size(), 2u);
  EXPECT_EQ(hooks[0]["id"], a);
  EXPECT_EQ(hooks[0]["url"], "http://127.0.0.1:8080/a");
  EXPECT_EQ(hooks[0]["state"], "active");
  EXPECT_EQ(hooks[0]["signed"], false);
  EXPECT_EQ(hooks[1]["id"], b_id);
  EXPECT_EQ(hooks[1]["signed"], true);
  EXPECT_EQ(hooks[1]["deliveries"]["pending"], 0);
  EXPECT_TRUE(hooks[0]["created_ms"].is_number_integer());
}

TEST_F(HooksCommandTest, PauseResumeRemoveAndTheirErrors) {
  const std::string id = Add("http://127.0.0.1:8080/a");
  CliResult r = Hooks({"pause", id});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("paused " + id), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(Hooks({"list", "--json"}).out)[0]["state"],
            "paused");
  r = Hooks({"pause", id});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("hook " + id + " is already paused"), std::string::npos)
      << r.err;
  EXPECT_EQ(Hooks({"resume", id}).code, 0);
  r = Hooks({"resume", id});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("is already active"), std::string::npos) << r.err;
  r = Hooks({"remove", id});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("removed " + id), std::string::npos);
  EXPECT_EQ(Hooks({"list", "--json"}).out, "[]\n");
  const nlohmann::json all =
      nlohmann::json::parse(Hooks({"list", "--json", "--all"}).out);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["state"], "removed");
  for (const char* sub : {"pause", "resume", "remove"}) {
    r = Hooks({sub, id});
    EXPECT_EQ(r.code, 2) << sub;
    EXPECT_NE(r.err.find("no hook \"" + id + "\""), std::string::npos) << r.err;
  }
}

TEST_F(HooksCommandTest, BadInputIsAUsageErrorNamingWhatIsWrong) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"add", "ftp://example.com/"}, "URL \"ftp://example.com/\""},
      {{"add", "not a url"}, "URL \"not a url\""},
      {{"add", "http://127.0.0.1:1/a", "--secret", "nope"}, "--secret: "},
      {{"add", "http://127.0.0.1:1/a", "--secret", "whsec_%%%"}, "--secret: "},
      {{"add"}, "give the hook's URL"},
      {{"add", "http://a/", "http://b/"}, "unexpected argument \"http://b/\""},
      {{"pause"}, "give the hook's id"},
      {{"pause", "hk_000000000000"}, "no state database at "},
      {{"list"}, "no state database at "},
      {{"frobnicate"}, "unknown subcommand \"frobnicate\""},
      {{"list", "--bogus"}, "bogus"},
      {{"pause", "x", "--secret", kSecret}, "--secret: only for hooks add"},
      {{"pause", "x", "--json"}, "only for hooks list"},
  };
  for (const Case& c : cases) {
    const CliResult r = Hooks(c.args);
    EXPECT_EQ(r.code, 2) << c.message << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos)
        << "want: " << c.message << "\ngot: " << r.err;
  }
  EXPECT_EQ(Cli({"hooks"}).code, 2);
  // A state path that cannot be a database (a directory).
  const CliResult dir = Cli({"hooks", "list", "--state", dir_});
  EXPECT_EQ(dir.code, 2);
  EXPECT_NE(dir.err.find(dir_), std::string::npos) << dir.err;
}

TEST_F(HooksCommandTest, HelpAndTheStateEnvironmentVariable) {
  const CliResult help = Cli({"hooks", "--help"});
  EXPECT_EQ(help.code, 0);
  for (const char* word : {"add URL", "list", "pause ID", "--state",
                           "HOOKSIM_STATE", "--secret", "--json"}) {
    EXPECT_NE(help.out.find(word), std::string::npos) << word;
  }
  EXPECT_EQ(Cli({"help", "hooks"}).out, help.out);
  EXPECT_EQ(Cli({"help", "worker"}).code, 0);
  EXPECT_NE(Cli({"--help"}).out.find("hooks SUBCOMMAND"), std::string::npos);

  const std::string env_state = dir_ + "/env.db";
  setenv("HOOKSIM_STATE", env_state.c_str(), 1);
  const CliResult added = Cli({"hooks", "add", "http://127.0.0.1:1/e"});
  unsetenv("HOOKSIM_STATE");
  EXPECT_EQ(added.code, 0) << added.err;
  EXPECT_TRUE(std::filesystem::exists(env_state));
  const CliResult listed = Cli({"hooks", "list", "--state", env_state});
  EXPECT_NE(listed.out.find("http://127.0.0.1:1/e"), std::string::npos);
}

// Finding 7: only `hooks add` creates a state; every other command says
// there is none at the path (exit 2) and creates nothing, and a zero-length
// file (a state lost to a bad copy or a full disk) is refused by all of
// them, `add` included, instead of being re-created empty.
TEST_F(HooksCommandTest, Finding7_OnlyAddCreatesAStateAndAnEmptyFileIsRefused) {
  const std::vector<std::vector<std::string>> others = {
      {"hooks", "list"}, {"hooks", "pause", "hk_000000000000"},
      {"deliver", "--resume"}, {"deliver", "--generate", "1"},
      {"worker", "--poll-ms", "10"}};
  for (std::vector<std::string> args : others) {
    args.push_back("--state");
    args.push_back(state_);
    const CliResult r = Cli(args);
    EXPECT_EQ(r.code, 2) << args[0] << " " << args[1] << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find("no state database at " + state_), std::string::npos)
        << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/sub")) << "nothing created";

  std::filesystem::create_directories(dir_ + "/sub");
  { std::ofstream touch(state_); }
  for (std::vector<std::string> args :
       {std::vector<std::string>{"hooks", "add", "http://127.0.0.1:1/a"},
        others[0], others[2], others[4]}) {
    args.push_back("--state");
    args.push_back(state_);
    const CliResult r = Cli(args);
    EXPECT_EQ(r.code, 2) << args[0] << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find(state_ + ": an empty file (0 bytes)"),
              std::string::npos)
        << r.err;
  }
  EXPECT_EQ(std::filesystem::file_size(state_), 0u) << "left as it was";
}

}  // namespace
}  // namespace hooksim
