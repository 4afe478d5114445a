// Strict reading of JSON objects with errors that name the JSON pointer.
//
// ObjectReader wraps one JSON object at a known path. Each Get* call reads a
// key (optional unless stated), checks its type and range, and on failure
// records the first error; Finish() also reports keys that were never read
// (unknown keys). Nothing throws.
#ifndef HOOKSIM_SIM_BASE_JSON_READER_H_
#define HOOKSIM_SIM_BASE_JSON_READER_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sim/base/result.h"

namespace hooksim {

// Appends a key to a JSON pointer, escaping '~' and '/' (RFC 6901).
std::string JoinPointer(std::string_view base, std::string_view key);
std::string JoinPointer(std::string_view base, size_t index);

// Nesting depth of JSON text counted on its bytes (strings skipped), so
// deep input is refused before a parser recurses over it: the byte offset
// where `max_depth` is first exceeded, or nullopt. Not a validity check.
std::optional<size_t> FindDepthOver(std::string_view text, int max_depth);

// "string \"abc\"", "number 1.5", "object", ... for error messages.
std::string DescribeJson(const nlohmann::json& value);

class ObjectReader {
 public:
  // Records an error at once when `value` is not an object.
  ObjectReader(const nlohmann::json& value, std::string path);

  bool ok() const { return error_.ok(); }
  const std::string& path() const { return path_; }

  // The raw value of a key (marks it read); nullptr when missing.
  const nlohmann::json* Get(std::string_view key);
  std::optional<std::string> GetString(std::string_view key,
                                       bool required = false);
  std::optional<int64_t> GetInt(std::string_view key, int64_t min,
                                int64_t max, bool required = false);
  std::optional<uint64_t> GetUint64(std::string_view key,
                                    bool required = false);
  std::optional<double> GetNumber(std::string_view key, double min,
                                  double max, bool required = false);
  std::optional<bool> GetBool(std::string_view key);

  // Records an error at path/key (first error wins).
  void Fail(std::string_view key, std::string message);
  void FailAt(std::string path, std::string message);

  // The first error, including unknown keys; ok when all is well.
  Status Finish();

 private:
  const nlohmann::json& value_;
  std::string path_;
  std::set<std::string, std::less<>> read_;
  Status error_;
};

}  // namespace hooksim

#endif  // HOOKSIM_SIM_BASE_JSON_READER_H_
