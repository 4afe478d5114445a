// Helpers shared by the test suites.
#ifndef HOOKSIM_TESTS_TEST_UTIL_H_
#define HOOKSIM_TESTS_TEST_UTIL_H_

#include <sstream>
#include <string>
#include <vector>

#include "sim/cli/cli.h"

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

// What one in-process `hooksim ARGS...` call returned and printed.
struct CliResult {
  int code;
  std::string out;
  std::string err;
};

inline CliResult Cli(std::vector<std::string> args,
                     const std::string& stdin_text = "") {
  args.insert(args.begin(), "hooksim");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::istringstream in(stdin_text);
  std::ostringstream out, err;
  const int code =
      RunCli(static_cast<int>(argv.size()), argv.data(), in, out, err);
  return {code, out.str(), err.str()};
}

}  // namespace hooksim::testing

#endif  // HOOKSIM_TESTS_TEST_UTIL_H_
