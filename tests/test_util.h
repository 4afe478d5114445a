// Helpers shared by the test suites.
#ifndef HOOKSIM_TESTS_TEST_UTIL_H_
#define HOOKSIM_TESTS_TEST_UTIL_H_

#include <string>

namespace hooksim::testing {

// The example payload of spec/divshot-webhooks.md, verbatim.
inline constexpr char kSpecExamplePayload[] = R"({
  "event":"release",
  "data": {
    "app": {
      "name":"your-app",
      "id":"abc123"
    },
    "release": {
      "env":"production",
      "version":12,
      "author":"someone@example.com",
      "rollback":false,
      "source":"Divshot CLI",
      "source_env":"staging",
      "timestamp": 1417552837,
      "url":"http://your-app.divshot.io",
      "permanent_url":"http://v12.your-app.divshot.io"
    }
  }
})";

inline std::string SourcePath(const std::string& relative) {
  return std::string(HOOKSIM_SOURCE_DIR) + "/" + relative;
}

}  // namespace hooksim::testing

#endif  // HOOKSIM_TESTS_TEST_UTIL_H_
