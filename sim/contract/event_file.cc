#include "sim/contract/event_file.h"

#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

namespace hooksim {
namespace {

Status LineError(std::string_view name, size_t line, const std::string& what) {
  Status e =
      Status::InvalidArgument("line " + std::to_string(line) + ": " + what);
  e.set_file(std::string(name));
  return e;
}

}  // namespace

Result<std::vector<FileEvent>> ParseEventFile(std::string_view text,
                                              std::string_view name) {
  if (text.size() > kMaxEventFileBytes) {
    Status e = Status::InvalidArgument(
        "larger than " + std::to_string(kMaxEventFileBytes) + " bytes");
    e.set_file(std::string(name));
    return e;
  }
  std::vector<FileEvent> events;
  size_t line_no = 0;
  size_t start = 0;
  // Bounded: each round consumes one line of a file of bounded size.
  while (start < text.size()) {
    ++line_no;
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (events.size() == kMaxEventFileEvents) {
      return LineError(name, line_no,
                       "more than " + std::to_string(kMaxEventFileEvents) +
                           " events");
    }
    nlohmann::json doc = nlohmann::json::parse(line, nullptr, false);
    if (doc.is_discarded()) {
      return LineError(name, line_no, "not a JSON document");
    }
    if (!doc.is_object()) {
      return LineError(name, line_no,
                       std::string("expected a JSON object, got ") +
                           doc.type_name());
    }
    FileEvent event;
    const auto type = doc.find("event");
    event.type = type != doc.end() && type->is_string()
                     ? type->get<std::string>()
                     : std::string("unknown");
    event.body = std::string(line);
    events.push_back(std::move(event));
  }
  if (events.empty()) {
    Status e =
        Status::InvalidArgument("holds no event (one JSON document per line)");
    e.set_file(std::string(name));
    return e;
  }
  return events;
}

Result<std::vector<FileEvent>> ReadEventFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    Status e = Status::IoError("cannot open the file");
    e.set_file(path);
    return e;
  }
  std::string text;
  text.reserve(4096);
  char buffer[65536];
  // Bounded: stops once the file is read or exceeds the size limit.
  while (file.read(buffer, sizeof(buffer)) || file.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(file.gcount()));
    if (text.size() > kMaxEventFileBytes) break;
  }
  if (file.bad()) {
    Status e = Status::IoError("read error");
    e.set_file(path);
    return e;
  }
  return ParseEventFile(text, path);
}

Status WriteEventFile(const std::string& path,
                      const std::vector<std::string>& bodies) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) return Status::IoError(path + ": cannot create the file");
  for (const std::string& body : bodies) {
    if (body.find('\n') != std::string::npos) {
      return Status::InvalidArgument(path + ": a body holds a newline");
    }
    file << body << '\n';
  }
  file.flush();
  if (!file) return Status::IoError(path + ": write error");
  return Status::Ok();
}

}  // namespace hooksim
