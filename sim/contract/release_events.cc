#include "sim/contract/release_events.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

namespace hooksim {
namespace {

constexpr std::array<std::string_view, 3> kEnvs = {"development", "staging",
                                                   "production"};
// Weights of the environment a plain deploy goes to.
constexpr std::array<double, 3> kDeployEnvWeights = {0.5, 0.3, 0.2};

constexpr std::string_view kAppNames[] = {
    "acme-web",    "docs-portal", "shop-front",  "blog",
    "status-page", "landing",     "admin-panel", "marketing-site",
    "help-center", "api-docs",    "careers",     "dashboard-ui",
};
constexpr size_t kAppNameCount = sizeof(kAppNames) / sizeof(kAppNames[0]);

constexpr std::string_view kAuthors[] = {
    "alice@example.com", "bob@example.com",   "carol@example.org",
    "dave@acme.test",    "erin@docs.example", "deploy-bot@ci.example",
};
constexpr size_t kAuthorCount = sizeof(kAuthors) / sizeof(kAuthors[0]);

constexpr std::string_view kSources[] = {"Divshot CLI", "Dashboard", "GitHub"};
constexpr size_t kSourceCount = sizeof(kSources) / sizeof(kSources[0]);

// Bound on redraws of an app id that collides with an earlier app's.
constexpr int kMaxIdDraws = 16;

std::string FormatNumber(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.9g", value);
  return buffer;
}

template <typename T>
T Pick(Random& rng, const T* items, size_t count) {
  return items[static_cast<size_t>(
      rng.UniformInt(0, static_cast<int64_t>(count) - 1))];
}

// `text` as a JSON string, escaped as nlohmann's dump() escapes it
// (ensure_ascii off: bytes from 0x80 are copied; the generator's strings
// are ASCII anyway).
void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  auto plain = [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && c != '"' && c != '\\';
  };
  if (std::all_of(text.begin(), text.end(), plain)) {  // The usual case.
    out.append(text);
    out += '"';
    return;
  }
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void AppendInteger(std::string& out, int64_t value) {
  char buffer[24];
  const std::to_chars_result r =
      std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, r.ptr);
}

std::string AppName(size_t index) {
  std::string name(kAppNames[index % kAppNameCount]);
  if (index >= kAppNameCount) {
    name += "-" + std::to_string(index / kAppNameCount + 1);
  }
  return name;
}

std::string HexId(Random& rng) {
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "%06llx",
                static_cast<unsigned long long>(rng.Next() & 0xffffffULL));
  return buffer;
}

ReleaseEventOptions Clamp(ReleaseEventOptions options) {
  options.apps = std::clamp(options.apps, 1, kMaxReleaseApps);
  ReleaseMix& mix = options.mix;
  for (double* p : {&mix.deploy, &mix.promotion, &mix.rollback}) {
    if (!std::isfinite(*p) || *p < 0) *p = 0;
  }
  const double sum = mix.deploy + mix.promotion + mix.rollback;
  if (sum <= 0) {
    mix = ReleaseMix{1.0, 0.0, 0.0};
  } else {
    mix.deploy /= sum;
    mix.promotion /= sum;
    mix.rollback /= sum;
  }
  options.start_timestamp = std::clamp<int64_t>(options.start_timestamp, 0,
                                                kMaxReleaseStartTimestamp);
  options.min_gap_s =
      std::clamp<int64_t>(options.min_gap_s, 0, kMaxReleaseGapS);
  options.max_gap_s = std::clamp<int64_t>(options.max_gap_s, options.min_gap_s,
                                          kMaxReleaseGapS);
  return options;
}

}  // namespace

std::string_view ReleaseKindName(ReleaseKind kind) {
  switch (kind) {
    case ReleaseKind::kDeploy:
      return "deploy";
    case ReleaseKind::kPromotion:
      return "promotion";
    case ReleaseKind::kRollback:
      return "rollback";
  }
  return "unknown";
}

Status ValidateReleaseEventOptions(const ReleaseEventOptions& options) {
  if (options.apps < 1 || options.apps > kMaxReleaseApps) {
    return Status::InvalidArgument("is " + std::to_string(options.apps) +
                                       ", expected 1.." +
                                       std::to_string(kMaxReleaseApps),
                                   "/apps");
  }
  const std::pair<const char*, double> parts[] = {
      {"deploy", options.mix.deploy},
      {"promotion", options.mix.promotion},
      {"rollback", options.mix.rollback},
  };
  for (const auto& [name, p] : parts) {
    if (!std::isfinite(p) || p < 0 || p > 1) {
      return Status::InvalidArgument(
          "is " + FormatNumber(p) + ", expected a probability in [0, 1]",
          std::string("/mix/") + name);
    }
  }
  const double sum =
      options.mix.deploy + options.mix.promotion + options.mix.rollback;
  if (std::fabs(sum - 1.0) > 1e-6) {
    return Status::InvalidArgument(
        "probabilities sum to " + FormatNumber(sum) + ", expected 1", "/mix");
  }
  if (options.start_timestamp < 0 ||
      options.start_timestamp > kMaxReleaseStartTimestamp) {
    return Status::InvalidArgument(
        "is " + std::to_string(options.start_timestamp) +
            ", expected unix seconds in 0.." +
            std::to_string(kMaxReleaseStartTimestamp),
        "/start_timestamp");
  }
  if (options.min_gap_s < 0 || options.min_gap_s > kMaxReleaseGapS) {
    return Status::InvalidArgument("is " + std::to_string(options.min_gap_s) +
                                       ", expected 0.." +
                                       std::to_string(kMaxReleaseGapS),
                                   "/min_gap_s");
  }
  if (options.max_gap_s < options.min_gap_s ||
      options.max_gap_s > kMaxReleaseGapS) {
    return Status::InvalidArgument(
        "is " + std::to_string(options.max_gap_s) + ", expected " +
            std::to_string(options.min_gap_s) + " (min_gap_s).." +
            std::to_string(kMaxReleaseGapS),
        "/max_gap_s");
  }
  return Status::Ok();
}

ReleaseEventGenerator::ReleaseEventGenerator(ReleaseEventOptions options,
                                             Random rng)
    : options_(Clamp(options)), rng_(std::move(rng)) {
  // Ids come from their own stream, so the event stream does not depend on
  // how many redraws the ids needed.
  Random id_rng = rng_.Fork("release_events/app_ids");
  apps_.resize(static_cast<size_t>(options_.apps));
  for (size_t i = 0; i < apps_.size(); ++i) {
    apps_[i].name = AppName(i);
    std::string id = HexId(id_rng);
    for (int draw = 1; draw < kMaxIdDraws; ++draw) {
      bool taken = false;
      for (size_t j = 0; j < i && !taken; ++j) taken = apps_[j].id == id;
      if (!taken) break;
      id = HexId(id_rng);
    }
    apps_[i].id = std::move(id);
  }
}

ReleaseKind ReleaseEventGenerator::DrawKind() {
  const double u = rng_.NextDouble();
  if (u < options_.mix.deploy) return ReleaseKind::kDeploy;
  if (u < options_.mix.deploy + options_.mix.promotion) {
    return ReleaseKind::kPromotion;
  }
  // Guard against a rounding gap when rollback is 0.
  return options_.mix.rollback > 0    ? ReleaseKind::kRollback
         : options_.mix.promotion > 0 ? ReleaseKind::kPromotion
                                      : ReleaseKind::kDeploy;
}

size_t ReleaseEventGenerator::DrawDeployEnv() {
  double u = rng_.NextDouble();
  for (size_t i = 0; i + 1 < kEnvCount; ++i) {
    if (u < kDeployEnvWeights[i]) return i;
    u -= kDeployEnvWeights[i];
  }
  return kEnvCount - 1;
}

ReleaseEvent ReleaseEventGenerator::Next() {
  // The fixed order of draws below is part of the output's determinism.
  int64_t timestamp = options_.start_timestamp;
  if (last_timestamp_) {
    const int64_t gap = std::max<int64_t>(
        1, rng_.UniformInt(options_.min_gap_s, options_.max_gap_s));
    timestamp = *last_timestamp_ + gap;
  }
  last_timestamp_ = timestamp;

  AppState& app = apps_[static_cast<size_t>(
      rng_.UniformInt(0, static_cast<int64_t>(apps_.size()) - 1))];
  ReleaseKind kind = DrawKind();
  size_t env = 0;
  std::optional<size_t> source_env;
  std::optional<int64_t> rollback;

  if (kind == ReleaseKind::kPromotion) {
    size_t candidates[kEnvCount];
    size_t count = 0;
    for (size_t i = 0; i + 1 < kEnvCount; ++i) {
      if (!app.history[i].empty()) candidates[count++] = i;
    }
    if (count == 0) {
      kind = ReleaseKind::kDeploy;
    } else {
      source_env = Pick(rng_, candidates, count);
      env = *source_env + 1;
    }
  } else if (kind == ReleaseKind::kRollback) {
    // An environment with a version before its current one.
    size_t candidates[kEnvCount];
    size_t count = 0;
    for (size_t i = 0; i < kEnvCount; ++i) {
      if (app.history[i].size() >= 2) candidates[count++] = i;
    }
    if (count == 0) {
      kind = ReleaseKind::kDeploy;
    } else {
      env = Pick(rng_, candidates, count);
      const std::deque<int64_t>& past = app.history[env];
      rollback = past[static_cast<size_t>(
          rng_.UniformInt(0, static_cast<int64_t>(past.size()) - 2))];
    }
  }
  if (kind == ReleaseKind::kDeploy) env = DrawDeployEnv();

  const int64_t version = ++app.last_version;
  std::deque<int64_t>& history = app.history[env];
  history.push_back(version);
  if (history.size() > kMaxHistory) history.pop_front();

  const std::string_view author = Pick(rng_, kAuthors, kAuthorCount);
  const std::string_view source = Pick(rng_, kSources, kSourceCount);
  const std::string_view env_name = kEnvs[env];

  // The body written directly, byte for byte what nlohmann's dump() of the
  // same ordered object gives (compact, keys in this order, integers in
  // decimal, strings escaped alike: ReleaseEventTest.BodiesAreCanonicalJson):
  // building the object and dumping it was most of an event's cost.
  std::string body;
  body.reserve(320);
  body += R"({"event":"release","data":{"app":{"name":)";
  AppendJsonString(body, app.name);
  body += R"(,"id":)";
  AppendJsonString(body, app.id);
  body += R"(},"release":{"env":)";
  AppendJsonString(body, env_name);
  body += R"(,"version":)";
  AppendInteger(body, version);
  body += R"(,"author":)";
  AppendJsonString(body, author);
  body += R"(,"rollback":)";
  if (rollback) {
    AppendInteger(body, *rollback);
  } else {
    body += "false";
  }
  body += R"(,"source":)";
  AppendJsonString(body, source);
  if (source_env) {
    body += R"(,"source_env":)";
    AppendJsonString(body, kEnvs[*source_env]);
  }
  body += R"(,"timestamp":)";
  AppendInteger(body, timestamp);
  // url: http://[<env>.]<app>.divshot.io (production has no env part).
  std::string url = "http://";
  if (env + 1 != kEnvCount) {
    url += env_name;
    url += '.';
  }
  url += app.name;
  url += ".divshot.io";
  body += R"(,"url":)";
  AppendJsonString(body, url);
  std::string permanent_url = "http://v";
  AppendInteger(permanent_url, version);
  permanent_url += '.';
  permanent_url += app.name;
  permanent_url += ".divshot.io";
  body += R"(,"permanent_url":)";
  AppendJsonString(body, permanent_url);
  body += "}}}";

  return ReleaseEvent{kind, app.name, std::string(env_name), version,
                      std::move(body)};
}

}  // namespace hooksim
