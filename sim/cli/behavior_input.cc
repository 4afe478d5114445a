#include "sim/cli/behavior_input.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "mock-receivers/behavior_parser.h"
#include "mock-receivers/routes.h"

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

Result<BehaviorDir> LoadBehaviorDir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (ec || !fs::exists(status)) {
    return Status::InvalidArgument(dir + ": no such directory");
  }
  if (!fs::is_directory(status)) {
    return Status::InvalidArgument(
        dir + ": not a directory (give a folder of route files, one JSON "
              "route per *.json file)");
  }
  std::vector<std::string> names;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    return Status::IoError(dir + ": cannot read the directory: " +
                           ec.message());
  }
  // Bounded: stops past kMaxRoutes names.
  for (const fs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) {
      return Status::IoError(dir + ": cannot read the directory: " +
                             ec.message());
    }
    const std::string name = it->path().filename().string();
    if (name.empty() || name.front() == '.' || !name.ends_with(".json") ||
        name.size() == 5) {
      continue;
    }
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec) || type_ec) continue;
    names.push_back(name);
    if (names.size() > kMaxRoutes) {
      return Status::InvalidArgument(
          dir + ": more than " + std::to_string(kMaxRoutes) +
          " *.json route files");
    }
  }
  if (names.empty()) {
    return Status::InvalidArgument(
        dir + ": no *.json route files (one JSON route per file, e.g. "
              "10-orders.json: {\"path\": \"/orders/*\", \"behavior\": "
              "{\"status\": 429}})");
  }
  std::sort(names.begin(), names.end());
  BehaviorDir out;
  out.spec.routes.reserve(names.size());
  for (const std::string& name : names) {
    const std::string file = (fs::path(dir) / name).string();
    Result<std::string> text = ReadBehaviorFile(file);
    if (!text.ok()) return text.error();
    const nlohmann::json doc = nlohmann::json::parse(*text, nullptr, false);
    if (doc.is_discarded()) {
      return Status::InvalidArgument(file + ": invalid JSON");
    }
    Result<ReceiverRoute> route =
        ParseRoute(doc, "", name.substr(0, name.size() - 5));
    if (!route.ok()) {
      const Status& e = route.error();
      return Status::InvalidArgument(file + ": " +
                                     (e.path().empty() ? "/" : e.path()) +
                                     ": " + e.message());
    }
    for (size_t k = 0; k < out.spec.routes.size(); ++k) {
      if (out.spec.routes[k].name == route->name) {
        return Status::InvalidArgument(
            file + ": " + (doc.contains("name") ? "/name" : "/") +
            ": route name \"" + route->name + "\" is already the name of " +
            out.files[k] + "'s route; names must be unique");
      }
    }
    out.spec.routes.push_back(std::move(route).value());
    out.files.push_back(file);
  }
  return out;
}

}  // namespace hooksim
