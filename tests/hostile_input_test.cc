// Inputs the fuzz targets (fuzz/) found that made hooksim throw, each fed
// through the function that threw, at the module boundary that must turn
// it into an error value. The raw inputs are kept in fuzz/regressions/ too
// (replayed by fuzz_regression_test.cc).
#include <gtest/gtest.h>

#include <string>

#include "mock-receivers/admin_api.h"
#include "mock-receivers/receiver.h"
#include "sim/base/random.h"
#include "sim/contract/payload_validator.h"
#include "sim/scenario/scenario.h"

namespace hooksim {
namespace {

// nlohmann/json reports a number too large for a double as out_of_range,
// not parse_error; only parse_error was caught.
constexpr char kOverflowNumber[] = "3E1666";

TEST(HostileInputTest, ScenarioWithANumberOverflowIsAnError) {
  // The exact input scenario_fuzz found.
  const Result<Scenario> s = ParseScenarioText(" 3E1666\"4l");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("not valid JSON"), std::string::npos)
      << s.error().message();
  const Result<Scenario> valid_json_bad_number =
      ParseScenarioText(std::string("{\"seed\": ") + kOverflowNumber + "}");
  EXPECT_FALSE(valid_json_bad_number.ok());
}

TEST(HostileInputTest, PayloadWithANumberOverflowIsAC3Issue) {
  auto validator = PayloadValidator::Bundled();
  ASSERT_TRUE(validator.ok());
  const PayloadVerdict verdict =
      (*validator)
          ->Validate(std::string(R"({"event":"release","data":{"n":)") +
                     kOverflowNumber + "}}");
  ASSERT_FALSE(verdict.valid());
  EXPECT_EQ(RuleId(verdict.issues[0].rule), "C3");
  EXPECT_NE(verdict.FirstIssue().find("not JSON"), std::string::npos)
      << verdict.FirstIssue();
}

TEST(HostileInputTest, AdminBehaviorWithANumberOverflowIs400) {
  MockReceiver receiver(ReceiverOptions{"r", {}, nullptr}, BehaviorSpec{},
                        Random(1));
  AdminRequest request;
  request.method = "PUT";
  request.path = "/__hooksim/behavior";
  request.body = std::string(R"({"status":)") + kOverflowNumber + "}";
  const AdminResponse response = HandleAdminRequest(receiver, request);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("error"), std::string::npos) << response.body;
}

}  // namespace
}  // namespace hooksim
