#include "sim/base/check.h"

#include <gtest/gtest.h>

namespace hooksim {
namespace {

TEST(CheckTest, PassingCheckDoesNothing) {
  int evaluated = 0;
  HOOKSIM_CHECK(++evaluated == 1, "never printed");
  EXPECT_EQ(evaluated, 1);  // The condition is evaluated exactly once.
}

TEST(CheckDeathTest, FailingCheckAbortsNamingConditionAndMessage) {
  const int x = 5;
  EXPECT_DEATH(HOOKSIM_CHECK(x == 4, "x is %d", x),
               "check_test.cc:[0-9]+: check failed: x == 4: x is 5");
}

}  // namespace
}  // namespace hooksim
