#include "sim/base/json_reader.h"

#include <cmath>

namespace hooksim {

std::string JoinPointer(std::string_view base, std::string_view key) {
  std::string out(base);
  out += '/';
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string JoinPointer(std::string_view base, size_t index) {
  return std::string(base) + "/" + std::to_string(index);
}

std::optional<size_t> FindDepthOver(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
  }
  return std::nullopt;
}

std::string DescribeJson(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::string: {
      std::string s = value.get<std::string>();
      if (s.size() > 40) s = s.substr(0, 40) + "...";
      return "string \"" + s + "\"";
    }
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "number " + value.dump();
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    default:
      return "an unsupported value";
  }
}

ObjectReader::ObjectReader(const nlohmann::json& value, std::string path)
    : value_(value), path_(std::move(path)) {
  if (!value_.is_object()) {
    error_ = Status::InvalidArgument(
        "expected an object, got " + DescribeJson(value_),
        path_.empty() ? "/" : path_);
  }
}

const nlohmann::json* ObjectReader::Get(std::string_view key) {
  if (!value_.is_object()) return nullptr;
  auto it = value_.find(key);
  if (it == value_.end()) return nullptr;
  read_.emplace(key);
  return &*it;
}

void ObjectReader::Fail(std::string_view key, std::string message) {
  FailAt(JoinPointer(path_, key), std::move(message));
}

void ObjectReader::FailAt(std::string path, std::string message) {
  if (error_.ok())
    error_ = Status::InvalidArgument(std::move(message), std::move(path));
}

std::optional<std::string> ObjectReader::GetString(std::string_view key,
                                                   bool required) {
  const nlohmann::json* v = Get(key);
  if (!v) {
    if (required && value_.is_object()) Fail(key, "required string is missing");
    return std::nullopt;
  }
  if (!v->is_string()) {
    Fail(key, "expected a string, got " + DescribeJson(*v));
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<int64_t> ObjectReader::GetInt(std::string_view key, int64_t min,
                                            int64_t max, bool required) {
  const nlohmann::json* v = Get(key);
  if (!v) {
    if (required && value_.is_object()) {
      Fail(key, "required integer is missing");
    }
    return std::nullopt;
  }
  const std::string range =
      std::to_string(min) + ".." + std::to_string(max);
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (std::floor(d) != d) {
      Fail(key, "expected an integer " + range + ", got " + DescribeJson(*v));
      return std::nullopt;
    }
  } else if (!v->is_number_integer()) {
    Fail(key, "expected an integer " + range + ", got " + DescribeJson(*v));
    return std::nullopt;
  }
  if (v->is_number_unsigned() &&
      v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    Fail(key, "expected an integer " + range + ", got " + DescribeJson(*v));
    return std::nullopt;
  }
  const double as_double = v->get<double>();
  if (as_double < static_cast<double>(min) ||
      as_double > static_cast<double>(max)) {
    Fail(key, "expected an integer " + range + ", got " + DescribeJson(*v));
    return std::nullopt;
  }
  return v->is_number_float() ? static_cast<int64_t>(as_double)
                              : v->get<int64_t>();
}

std::optional<uint64_t> ObjectReader::GetUint64(std::string_view key,
                                                bool required) {
  const nlohmann::json* v = Get(key);
  if (!v) {
    if (required && value_.is_object()) {
      Fail(key, "required integer is missing");
    }
    return std::nullopt;
  }
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  if (v->is_number_integer() && v->get<int64_t>() >= 0) {
    return static_cast<uint64_t>(v->get<int64_t>());
  }
  Fail(key, "expected an integer 0..18446744073709551615, got " +
                DescribeJson(*v));
  return std::nullopt;
}

std::optional<double> ObjectReader::GetNumber(std::string_view key,
                                              double min, double max,
                                              bool required) {
  const nlohmann::json* v = Get(key);
  if (!v) {
    if (required && value_.is_object()) Fail(key, "required number is missing");
    return std::nullopt;
  }
  auto fmt = [](double d) {
    nlohmann::json j = d;
    return j.dump();
  };
  if (!v->is_number()) {
    Fail(key, "expected a number " + fmt(min) + ".." + fmt(max) + ", got " +
                  DescribeJson(*v));
    return std::nullopt;
  }
  const double d = v->get<double>();
  if (!(d >= min && d <= max)) {
    Fail(key, "expected a number " + fmt(min) + ".." + fmt(max) + ", got " +
                  DescribeJson(*v));
    return std::nullopt;
  }
  return d;
}

std::optional<bool> ObjectReader::GetBool(std::string_view key) {
  const nlohmann::json* v = Get(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    Fail(key, "expected true or false, got " + DescribeJson(*v));
    return std::nullopt;
  }
  return v->get<bool>();
}

Status ObjectReader::Finish() {
  if (!error_.ok()) return error_;
  if (value_.is_object()) {
    for (auto it = value_.begin(); it != value_.end(); ++it) {
      if (!read_.count(it.key())) {
        return Status::InvalidArgument("unknown key \"" + it.key() + "\"",
                                       JoinPointer(path_, it.key()));
      }
    }
  }
  return Status::Ok();
}

}  // namespace hooksim
