// Helpers shared by the test suites.
#ifndef HOOKSIM_TESTS_TEST_UTIL_H_
#define HOOKSIM_TESTS_TEST_UTIL_H_

#include <string>

namespace hooksim::testing {

inline std::string SourcePath(const std::string& relative) {
  return std::string(HOOKSIM_SOURCE_DIR) + "/" + relative;
}

}  // namespace hooksim::testing

#endif  // HOOKSIM_TESTS_TEST_UTIL_H_
