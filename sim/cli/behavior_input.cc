#include "sim/cli/behavior_input.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "mock-receivers/behavior_parser.h"

namespace hooksim {

Result<BehaviorSpec> ParseBehaviorText(const std::string& text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded()) return Status::InvalidArgument("invalid JSON");
  Result<BehaviorSpec> spec = ParseBehavior(doc, "");
  if (!spec.ok()) {
    const Status& e = spec.error();
    return Status::InvalidArgument((e.path().empty() ? "/" : e.path()) + ": " +
                                   e.message());
  }
  return spec;
}

Result<std::string> ReadBehaviorFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot open the file");
  std::string text;
  char buf[65536];
  // Bounded by kMaxBehaviorFileBytes.
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxBehaviorFileBytes) {
      return Status::InvalidArgument(path + ": larger than " +
                                     std::to_string(kMaxBehaviorFileBytes) +
                                     " bytes");
    }
  }
  if (in.bad()) return Status::IoError(path + ": cannot read the file");
  return text;
}

}  // namespace hooksim
