// A seeded generator of realistic Divshot `release` webhook bodies.
//
// Several apps release to development -> staging -> production. Each app has
// one version counter shared by its environments, and every release takes
// the next number. A release is one of:
//   deploy     a new version in some environment (rollback false, no
//              source_env);
//   promotion  a release moved from one environment to the next
//              (source_env = the environment it came from, which had a
//              release of that app); falls back to a deploy when nothing can
//              be promoted yet;
//   rollback   a new version whose `rollback` is an earlier version released
//              in the same environment; falls back to a deploy when that
//              environment has no earlier version.
// Timestamps advance by a gap drawn from [min_gap_s, max_gap_s] (at least
// 1 s) after the first event, which is at start_timestamp.
//
// Bodies are compact JSON with the keys in the spec's order, and every body
// passes PayloadValidator (rules C3 and C4).
//
// Determinism: the same options and the same Random seed give byte-identical
// bodies on every platform (only Random's own draws are used).
// Thread: a ReleaseEventGenerator is not thread-safe; use one per thread.
#ifndef HOOKSIM_SIM_CONTRACT_RELEASE_EVENTS_H_
#define HOOKSIM_SIM_CONTRACT_RELEASE_EVENTS_H_

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/base/random.h"
#include "sim/base/result.h"

namespace hooksim {

enum class ReleaseKind { kDeploy, kPromotion, kRollback };

// "deploy", "promotion" or "rollback".
std::string_view ReleaseKindName(ReleaseKind kind);

// Probabilities of the kinds asked for; each >= 0, summing to 1.
struct ReleaseMix {
  double deploy = 0.7;
  double promotion = 0.2;
  double rollback = 0.1;
};

struct ReleaseEventOptions {
  int apps = 3;                          // 1..kMaxReleaseApps.
  ReleaseMix mix;                        // Each >= 0, sum 1 within 1e-6.
  int64_t start_timestamp = 1417552837;  // Unix seconds of the first event,
                                         // 0..kMaxReleaseStartTimestamp.
  int64_t min_gap_s = 30;                // Advance between events:
  int64_t max_gap_s = 3600;              // 0 <= min <= max <= kMaxReleaseGapS.
};

inline constexpr int kMaxReleaseApps = 1000;
inline constexpr int64_t kMaxReleaseStartTimestamp = 100'000'000'000;
inline constexpr int64_t kMaxReleaseGapS = 366 * 24 * 3600;

// Ok when options are usable; otherwise an invalid argument whose path names
// the field ("/apps", "/mix", "/mix/rollback", "/min_gap_s", ...) and whose
// message says what was found and what was expected, e.g. path "/mix",
// message "probabilities sum to 0.9, expected 1".
Status ValidateReleaseEventOptions(const ReleaseEventOptions& options);

struct ReleaseEvent {
  ReleaseKind kind = ReleaseKind::kDeploy;  // What was generated (after any
                                            // fallback to deploy).
  std::string app;                          // data.app.name
  std::string env;                          // data.release.env
  int64_t version = 0;                      // data.release.version
  std::string body;  // Compact JSON, keys in the spec example's order.
};

class ReleaseEventGenerator {
 public:
  // options should have passed ValidateReleaseEventOptions; out-of-range
  // values are clamped to the nearest valid ones (a mix that sums to 0
  // means deploys only) so the generator never misbehaves.
  ReleaseEventGenerator(ReleaseEventOptions options, Random rng);

  // The next event. Never fails; O(1) time and memory per call (each
  // environment remembers a bounded number of past versions).
  ReleaseEvent Next();

 private:
  static constexpr size_t kEnvCount = 3;
  // Past versions remembered per app and environment, as rollback targets.
  static constexpr size_t kMaxHistory = 32;

  struct AppState {
    std::string name;
    std::string id;
    int64_t last_version = 0;
    // Versions released in each environment, oldest first.
    std::array<std::deque<int64_t>, kEnvCount> history;
  };

  ReleaseKind DrawKind();
  size_t DrawDeployEnv();

  ReleaseEventOptions options_;
  Random rng_;
  std::vector<AppState> apps_;
  std::optional<int64_t> last_timestamp_;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_CONTRACT_RELEASE_EVENTS_H_
