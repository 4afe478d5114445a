// Replays the fuzz targets' inputs through the targets' own checks (the
// fuzz/*_fuzz.cc files, compiled in as HooksimFuzz_<target>): the seed
// corpora in fuzz/corpus/<target>/ and every input a fuzzer once crashed
// or hung on, kept in fuzz/regressions/<target>/. A check that fails
// aborts (as under libFuzzer), which fails this test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_util.h"

extern "C" int HooksimFuzz_scenario_fuzz(const uint8_t* data, size_t size);
extern "C" int HooksimFuzz_behavior_fuzz(const uint8_t* data, size_t size);
extern "C" int HooksimFuzz_payload_fuzz(const uint8_t* data, size_t size);
extern "C" int HooksimFuzz_receiver_request_fuzz(const uint8_t* data,
                                                 size_t size);

namespace hooksim {
namespace {

using FuzzFunction = int (*)(const uint8_t*, size_t);

// The files of fuzz/<kind>/<target>/, sorted (none when it does not exist).
std::vector<std::filesystem::path> Inputs(const std::string& kind,
                                          const std::string& target) {
  std::vector<std::filesystem::path> files;
  const std::filesystem::path dir =
      testing::SourcePath("fuzz/" + kind + "/" + target);
  if (!std::filesystem::is_directory(dir)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

size_t Replay(const std::string& target, FuzzFunction fn) {
  size_t replayed = 0;
  for (const std::string kind : {"corpus", "regressions"}) {
    for (const auto& path : Inputs(kind, target)) {
      std::ifstream in(path, std::ios::binary);
      std::stringstream bytes;
      bytes << in.rdbuf();
      const std::string input = bytes.str();
      SCOPED_TRACE(path.string());
      EXPECT_EQ(
          fn(reinterpret_cast<const uint8_t*>(input.data()), input.size()), 0);
      ++replayed;
    }
  }
  return replayed;
}

TEST(FuzzRegressionTest, ScenarioInputs) {
  EXPECT_GT(Replay("scenario_fuzz", HooksimFuzz_scenario_fuzz), 0u);
}

TEST(FuzzRegressionTest, BehaviorInputs) {
  EXPECT_GT(Replay("behavior_fuzz", HooksimFuzz_behavior_fuzz), 0u);
}

TEST(FuzzRegressionTest, PayloadInputs) {
  EXPECT_GT(Replay("payload_fuzz", HooksimFuzz_payload_fuzz), 0u);
}

TEST(FuzzRegressionTest, ReceiverRequestInputs) {
  EXPECT_GT(Replay("receiver_request_fuzz", HooksimFuzz_receiver_request_fuzz),
            0u);
}

}  // namespace
}  // namespace hooksim
