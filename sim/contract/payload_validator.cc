#include "sim/contract/payload_validator.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <locale>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
// RapidJSON's SIMD scans of strings and whitespace (used by the compiled
// fast path's in-place SAX parse). Only this file includes RapidJSON.
#if defined(__SSE2__) && !defined(RAPIDJSON_SSE2)
#define RAPIDJSON_SSE2
#endif
#include <rapidjson/document.h>
#include <rapidjson/reader.h>
#include <string>
#include <string_view>
#include <utility>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/adapters/rapidjson_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>
#include <vector>

#include "sim/base/json_reader.h"
#include "sim/base/random.h"
#include "sim/contract/embedded_schemas.h"

namespace hooksim {
namespace {

using Json = nlohmann::json;
using Path = std::vector<std::string>;  // Unescaped JSON pointer segments.

// Bodies larger than this are refused without parsing.
constexpr size_t kMaxBodyBytes = size_t{64} << 20;
// Deeper nesting is refused before parsing: valijson and the helpers below
// recurse once per level, and a webhook body is a few levels deep.
constexpr int kMaxDepth = 128;
// Strings are cut to this many bytes before schema validation: valijson
// matches 'pattern' with std::regex, whose libstdc++ matcher recurses per
// character and can overflow the stack on long input. The cut copies stay
// longer than every maxLength in the schemas, so those still fire.
constexpr size_t kMaxCheckedStringBytes = 4096;
// At most this many issues per verdict; the last one says how many were cut.
constexpr size_t kMaxIssues = 64;
// At most this many valijson errors are looked at per schema; a hostile
// body (or a permissive custom schema) cannot make reporting quadratic.
constexpr size_t kMaxSchemaErrors = 4 * kMaxIssues;
// Idle valijson::Validator objects kept for reuse (each caches its regexes).
constexpr size_t kMaxPooledValidators = 16;
// Longest quoted value in a message.
constexpr size_t kMaxQuotedBytes = 80;

constexpr Rule kRuleEnvelope = Rule::kC3Envelope;
constexpr Rule kRuleRelease = Rule::kC4ReleaseSchema;

// --- Small helpers ---------------------------------------------------------

std::string ToPointer(const Path& path) {
  std::string out;
  for (const std::string& segment : path) out = JoinPointer(out, segment);
  return out;
}

// valijson's context: {"<root>", "[data]", "[release]", "[0]"}.
Path PathFromContext(const std::vector<std::string>& context) {
  Path path;
  for (const std::string& entry : context) {
    if (entry == "<root>") continue;
    if (entry.size() >= 2 && entry.front() == '[' && entry.back() == ']') {
      path.push_back(entry.substr(1, entry.size() - 2));
    } else {
      path.push_back(entry);
    }
  }
  return path;
}

bool IsPrefix(const Path& prefix, const Path& path) {
  return prefix.size() <= path.size() &&
         std::equal(prefix.begin(), prefix.end(), path.begin());
}

// The value at path in doc, or nullptr.
const Json* Find(const Json& doc, const Path& path) {
  const Json* node = &doc;
  for (const std::string& segment : path) {
    if (node->is_object()) {
      auto it = node->find(segment);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (node->is_array()) {
      if (segment.empty() || segment.size() > 9 ||
          segment.find_first_not_of("0123456789") != std::string::npos) {
        return nullptr;
      }
      const size_t index = std::stoul(segment);
      if (index >= node->size()) return nullptr;
      node = &(*node)[index];
    } else {
      return nullptr;
    }
  }
  return node;
}

// The subschema that applies to the value at path, following "properties",
// "additionalProperties" and "items" only; nullptr when unknown.
const Json* FindSchema(const Json& schema, const Path& path) {
  const Json* node = &schema;
  for (const std::string& segment : path) {
    if (!node->is_object()) return nullptr;
    auto props = node->find("properties");
    if (props != node->end() && props->is_object() &&
        props->contains(segment)) {
      node = &(*props)[segment];
      continue;
    }
    auto additional = node->find("additionalProperties");
    if (additional != node->end() && additional->is_object()) {
      node = &*additional;
      continue;
    }
    auto items = node->find("items");
    if (items != node->end() && items->is_object()) {
      node = &*items;
      continue;
    }
    return nullptr;
  }
  return node;
}

std::string Quote(const std::string& text) {
  std::string cut = text;
  bool truncated = false;
  if (cut.size() > kMaxQuotedBytes) {
    size_t end = kMaxQuotedBytes;
    // Do not split a UTF-8 sequence.
    while (end > 0 && (static_cast<unsigned char>(cut[end]) & 0xC0) == 0x80) {
      --end;
    }
    cut.resize(end);
    truncated = true;
  }
  std::string out =
      Json(cut).dump(-1, ' ', false, Json::error_handler_t::replace);
  if (truncated) out.insert(out.size() - 1, "...");
  return out;
}

std::string DumpShort(const Json& value) {
  if (value.is_string()) return Quote(value.get<std::string>());
  std::string out = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (out.size() > kMaxQuotedBytes)
    out = out.substr(0, kMaxQuotedBytes) + "...";
  return out;
}

// "string \"12\"", "integer 12", "object", ...
std::string DescribeValue(const Json* value) {
  if (value == nullptr) return "nothing";
  switch (value->type()) {
    case Json::value_t::string: {
      const auto& text = value->get_ref<const std::string&>();
      if (text.size() > kMaxQuotedBytes) {
        return "string of " + std::to_string(text.size()) + " bytes " +
               Quote(text);
      }
      return "string " + Quote(text);
    }
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer " + value->dump();
    case Json::value_t::number_float:
      return "number " + value->dump();
    case Json::value_t::boolean:
      return std::string("boolean ") + (value->get<bool>() ? "true" : "false");
    case Json::value_t::null:
      return "null";
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    default:
      return "a value of unknown type";
  }
}

std::string JoinTypes(const Json& type) {
  if (type.is_string()) return type.get<std::string>();
  std::string out;
  if (type.is_array()) {
    for (const Json& t : type) {
      if (!t.is_string()) continue;
      if (!out.empty()) out += " or ";
      out += t.get<std::string>();
    }
  }
  return out;
}

// What a subschema accepts, in words: "integer >= 1", "false or integer >= 1".
std::string DescribeSchema(const Json& schema, int depth = 0) {
  if (schema.is_boolean()) {
    return schema.get<bool>() ? "anything" : "nothing (not allowed)";
  }
  if (!schema.is_object() || depth > 8) return "a value matching the schema";
  if (auto it = schema.find("const"); it != schema.end()) return DumpShort(*it);
  if (auto it = schema.find("enum"); it != schema.end() && it->is_array()) {
    std::string out = "one of ";
    for (size_t i = 0; i < it->size(); ++i) {
      if (i > 0) out += ", ";
      out += DumpShort((*it)[i]);
    }
    return out;
  }
  for (const char* key : {"oneOf", "anyOf"}) {
    auto it = schema.find(key);
    if (it == schema.end() || !it->is_array() || it->empty()) continue;
    std::string out;
    for (const Json& alternative : *it) {
      if (!out.empty()) out += " or ";
      out += DescribeSchema(alternative, depth + 1);
    }
    return out;
  }
  auto type_it = schema.find("type");
  if (type_it == schema.end()) return "a value matching the schema";
  std::string type = JoinTypes(*type_it);
  std::string out = type;
  auto number = [&](const char* key, const char* op) {
    auto it = schema.find(key);
    if (it != schema.end() && it->is_number()) {
      out += std::string(" ") + op + " " + it->dump();
    }
  };
  if (type == "integer" || type == "number") {
    number("minimum", ">=");
    number("exclusiveMinimum", ">");
    number("maximum", "<=");
    number("exclusiveMaximum", "<");
  } else if (type == "string") {
    auto min_length = schema.find("minLength");
    auto max_length = schema.find("maxLength");
    auto pattern = schema.find("pattern");
    if (min_length != schema.end() && min_length->is_number_integer() &&
        min_length->get<int64_t>() == 1) {
      out = "non-empty string";
    } else if (min_length != schema.end() && min_length->is_number_integer()) {
      out += " of at least " + min_length->dump() + " characters";
    }
    if (pattern != schema.end() && pattern->is_string()) {
      out += " matching /" + pattern->get<std::string>() + "/";
    }
    if (max_length != schema.end() && max_length->is_number_integer()) {
      out += " of at most " + max_length->dump() + " characters";
    }
  }
  return out;
}

// A copy of doc whose strings are cut to kMaxCheckedStringBytes, or nullopt
// when no string is that long. depth is bounded by the pre-parse check.
bool HasLongString(const Json& doc) {
  if (doc.is_string()) {
    return doc.get_ref<const std::string&>().size() > kMaxCheckedStringBytes;
  }
  if (doc.is_structured()) {
    for (const auto& child : doc) {
      if (HasLongString(child)) return true;
    }
  }
  return false;
}

Json CutLongStrings(const Json& doc) {
  if (doc.is_string()) {
    const auto& text = doc.get_ref<const std::string&>();
    if (text.size() <= kMaxCheckedStringBytes) return doc;
    size_t end = kMaxCheckedStringBytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
      --end;
    }
    return Json(text.substr(0, end));
  }
  if (doc.is_object()) {
    Json out = Json::object();
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      out[it.key()] = CutLongStrings(it.value());
    }
    return out;
  }
  if (doc.is_array()) {
    Json out = Json::array();
    for (const Json& child : doc) out.push_back(CutLongStrings(child));
    return out;
  }
  return doc;
}

std::optional<size_t> FindTooDeep(std::string_view text) {
  return FindDepthOver(text, kMaxDepth);
}

// "[json.exception.parse_error.101] parse error at line 1, column 2: ..." ->
// "parse error at line 1, column 2: ...".
std::string StripExceptionTag(const std::string& what) {
  if (!what.empty() && what.front() == '[') {
    const size_t end = what.find("] ");
    if (end != std::string::npos) return what.substr(end + 2);
  }
  return what;
}

bool StartsWith(const std::string& text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         text.compare(0, prefix.size(), prefix) == 0;
}

// The host part of an http(s) URL, or "" when it has no such scheme.
std::string UrlHost(const std::string& url) {
  size_t start;
  if (StartsWith(url, "http://")) {
    start = 7;
  } else if (StartsWith(url, "https://")) {
    start = 8;
  } else {
    return "";
  }
  const size_t end = url.find_first_of("/:?#", start);
  return url.substr(start,
                    end == std::string::npos ? std::string::npos : end - start);
}

// --- Collecting issues -----------------------------------------------------

struct Candidate {
  Path path;
  std::string message;
};

// Issues of one verdict: at most one per pointer, at most kMaxIssues.
class IssueList {
 public:
  explicit IssueList(PayloadVerdict* verdict) : verdict_(verdict) {}

  bool Has(const std::string& pointer) const {
    for (const PayloadIssue& issue : verdict_->issues) {
      if (issue.pointer == pointer) return true;
    }
    return false;
  }

  // Some issues were never looked at (see kMaxSchemaErrors).
  void NoteTruncated() { truncated_ = true; }

  void Add(Rule rule, std::string pointer, std::string message) {
    if (Has(pointer)) return;
    if (verdict_->issues.size() >= kMaxIssues) {
      ++dropped_;
      return;
    }
    verdict_->issues.push_back(
        PayloadIssue{rule, std::move(pointer), std::move(message)});
  }

  void Finish() {
    if (verdict_->issues.empty() || (dropped_ == 0 && !truncated_)) return;
    std::string count = truncated_ ? "" : std::to_string(dropped_) + " ";
    verdict_->issues.push_back(PayloadIssue{verdict_->issues.back().rule, "",
                                            count + "more issues not shown"});
  }

 private:
  PayloadVerdict* verdict_;
  size_t dropped_ = 0;
  bool truncated_ = false;
};

bool IsCascade(const std::string& description) {
  static constexpr std::string_view kCascades[] = {
      "Failed to validate against schema associated with property name",
      "Failed to validate against schema associated with pattern",
      "Failed to validate against additional properties schema",
      "Failed to validate item #",
      "Failed to validate against a conditional schema",
      "Failed to validate against dependent schema",
  };
  for (std::string_view prefix : kCascades) {
    if (StartsWith(description, prefix)) return true;
  }
  return false;
}

bool IsAlternatives(const std::string& description) {
  return StartsWith(description,
                    "Failed to validate against any schemas "
                    "allowed by anyOf") ||
         StartsWith(description,
                    "Failed to validate against any child "
                    "schemas allowed by oneOf") ||
         StartsWith(description, "Failed to validate against exactly one");
}

// "additionalProperties": false. valijson names only the first extra key,
// so the caller lists them all.
bool IsAdditionalProperty(const std::string& description) {
  return StartsWith(description, "Object contains a property that could not");
}

// Turns valijson's errors into one readable issue per bad field: the leaves
// are kept, and the parents' "a child failed" errors are dropped.
void ReportSchemaErrors(const valijson::ValidationResults& results,
                        const Json& doc, const Json& schema, Rule rule,
                        IssueList& issues) {
  std::vector<Candidate> leaves;
  std::vector<Candidate> cascades;
  auto add_leaf = [&](Path path, std::string message) {
    for (const Candidate& leaf : leaves) {
      if (leaf.path == path) return;
    }
    if (leaves.size() >= kMaxSchemaErrors) {
      issues.NoteTruncated();
      return;
    }
    leaves.push_back(Candidate{std::move(path), std::move(message)});
  };
  std::vector<Path> objects_with_extras;
  size_t seen = 0;
  for (const auto& error : results) {
    if (++seen > kMaxSchemaErrors) {
      issues.NoteTruncated();
      break;
    }
    Path path = PathFromContext(error.context);
    const std::string& description = error.description;
    if (IsCascade(description)) {
      cascades.push_back(Candidate{std::move(path), description});
      continue;
    }
    if (StartsWith(description, "Missing required property '")) {
      const size_t start = description.find('\'') + 1;
      const size_t end = description.rfind('\'');
      const std::string name = description.substr(start, end - start);
      Path child = path;
      child.push_back(name);
      add_leaf(std::move(child), "missing required property \"" + name + "\"");
      continue;
    }
    if (IsAdditionalProperty(description)) {
      if (std::find(objects_with_extras.begin(), objects_with_extras.end(),
                    path) != objects_with_extras.end()) {
        continue;
      }
      objects_with_extras.push_back(path);
      const Json* object = Find(doc, path);
      const Json* object_schema = FindSchema(schema, path);
      const Json* props = nullptr;
      if (object_schema != nullptr && object_schema->is_object()) {
        auto it = object_schema->find("properties");
        if (it != object_schema->end() && it->is_object()) props = &*it;
      }
      if (object == nullptr || !object->is_object() || props == nullptr) {
        add_leaf(std::move(path), description);
        continue;
      }
      std::string allowed;
      for (auto it = props->begin(); it != props->end(); ++it) {
        if (!allowed.empty()) allowed += ", ";
        allowed += it.key();
      }
      size_t reported = 0;
      for (auto it = object->begin(); it != object->end(); ++it) {
        if (props->contains(it.key())) continue;
        if (++reported > kMaxIssues) {
          issues.NoteTruncated();
          break;
        }
        Path child = path;
        child.push_back(it.key());
        add_leaf(std::move(child), "unexpected property " + Quote(it.key()) +
                                       "; allowed: " + allowed);
      }
      continue;
    }
    const Json* value = Find(doc, path);
    const Json* subschema = FindSchema(schema, path);
    std::string expected =
        subschema != nullptr ? DescribeSchema(*subschema) : description;
    std::string message =
        "expected " + expected + ", got " + DescribeValue(value);
    if (IsAlternatives(description)) {
      // The alternatives' own failures were reported just before, at this
      // path or below; one line about the whole field replaces them.
      leaves.erase(std::remove_if(leaves.begin(), leaves.end(),
                                  [&](const Candidate& leaf) {
                                    return IsPrefix(path, leaf.path);
                                  }),
                   leaves.end());
    }
    add_leaf(std::move(path), std::move(message));
  }
  for (const Candidate& leaf : leaves) {
    issues.Add(rule, ToPointer(leaf.path), leaf.message);
  }
  // A parent's "child failed" is kept only when no child explains it.
  for (Candidate& cascade : cascades) {
    bool explained = false;
    for (const Candidate& leaf : leaves) {
      if (IsPrefix(cascade.path, leaf.path)) {
        explained = true;
        break;
      }
    }
    if (!explained) {
      issues.Add(rule, ToPointer(cascade.path), cascade.message);
    }
  }
}

// C4 rules a schema cannot express. Runs on a body that passed the release
// schema, but still checks each type it relies on.
void CheckReleaseSemantics(const Json& doc, IssueList& issues) {
  const Json* name = Find(doc, {"data", "app", "name"});
  const Json* release = Find(doc, {"data", "release"});
  if (release == nullptr || !release->is_object()) return;
  const Json* env = Find(*release, {"env"});
  const Json* version = Find(*release, {"version"});
  const Json* rollback = Find(*release, {"rollback"});
  const Json* source_env = Find(*release, {"source_env"});
  const Json* url = Find(*release, {"url"});
  const Json* permanent_url = Find(*release, {"permanent_url"});
  // A field that already has an issue is not used again, so one bad field
  // gives one line.
  const bool have_name =
      name != nullptr && name->is_string() && !issues.Has("/data/app/name");
  const bool have_version = version != nullptr &&
                            version->is_number_integer() &&
                            !issues.Has("/data/release/version");
  const std::string app = have_name ? name->get<std::string>() : "";

  if (permanent_url != nullptr && permanent_url->is_string() && have_version) {
    const std::string text = permanent_url->get<std::string>();
    const std::string host = UrlHost(text);
    const std::string want = "v" + version->dump() + ".";
    if (!StartsWith(host, want) ||
        (have_name && host.find(app) == std::string::npos)) {
      issues.Add(kRuleRelease, "/data/release/permanent_url",
                 "expected a host starting with " + Quote(want) +
                     (have_name ? " and naming app " + Quote(app) : "") +
                     " (version " + version->dump() + "), got " + Quote(text));
    }
  }
  if (url != nullptr && url->is_string() && have_name) {
    const std::string text = url->get<std::string>();
    if (UrlHost(text).find(app) == std::string::npos) {
      issues.Add(
          kRuleRelease, "/data/release/url",
          "expected a host naming app " + Quote(app) + ", got " + Quote(text));
    }
  }
  if (rollback != nullptr && rollback->is_number_integer() && have_version &&
      rollback->get<int64_t>() >= version->get<int64_t>()) {
    issues.Add(kRuleRelease, "/data/release/rollback",
               "expected an earlier version than this release's " +
                   version->dump() + ", got " + rollback->dump());
  }
  if (source_env != nullptr && source_env->is_string()) {
    if (env != nullptr && env->is_string() && *env == *source_env) {
      issues.Add(kRuleRelease, "/data/release/source_env",
                 "expected an environment other than env " +
                     Quote(env->get<std::string>()) +
                     " (a promotion comes from another environment), got " +
                     Quote(source_env->get<std::string>()));
    } else if (rollback != nullptr &&
               !(rollback->is_boolean() && !rollback->get<bool>()) &&
               !issues.Has("/data/release/rollback")) {
      issues.Add(kRuleRelease, "/data/release/source_env",
                 "expected no source_env on a rollback (rollback is " +
                     DumpShort(*rollback) +
                     "; a rollback is not a promotion)"
                     ", got " +
                     Quote(source_env->get<std::string>()));
    }
  }
}


// --- The fast path -----------------------------------------------------------
//
// Most bodies a run sees are valid. For them the full path's work (an
// nlohmann tree, valijson collecting every error's context, the cut copy)
// buys nothing: the verdict is "valid, event E". The fast path reads the
// body with RapidJSON and runs the same valijson schemas on it without
// collecting errors, then the same cross-field rules. It answers only
// "valid" and only for bodies both readers are sure to read alike:
// printable ASCII without \u escapes (no UTF-8 or surrogate corner cases),
// integers that fit int64 and no other numbers, no duplicate key, no
// string longer than kMaxCheckedStringBytes (the full path cuts those) and
// at most kMaxFastMembers keys per object. Anything else, and every body
// that fails a check, takes the full path, which words the issues.

constexpr size_t kMaxFastMembers = 64;

using FastJson = rapidjson::Value;

bool FastPathBytes(std::string_view body) {
  for (const char c : body) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x7f) return false;
    if (u < 0x20 && u != '\t' && u != '\n' && u != '\r') return false;
  }
  return body.find("\\u") == std::string_view::npos;
}

// Every value as the full path would read it (see above).
bool FastPathTree(const FastJson& value) {
  if (value.IsNumber()) return value.IsInt64() && !value.IsDouble();
  if (value.IsString()) {
    return value.GetStringLength() <= kMaxCheckedStringBytes;
  }
  if (value.IsArray()) {
    for (const FastJson& item : value.GetArray()) {
      if (!FastPathTree(item)) return false;
    }
    return true;
  }
  if (value.IsObject()) {
    if (value.MemberCount() > kMaxFastMembers) return false;
    for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it) {
      for (auto other = value.MemberBegin(); other != it; ++other) {
        if (other->name == it->name) return false;  // A duplicate key.
      }
      if (!FastPathTree(it->value)) return false;
    }
    return true;
  }
  return true;  // null, true, false.
}

const FastJson* FastFind(const FastJson& doc,
                         std::initializer_list<const char*> path) {
  const FastJson* node = &doc;
  for (const char* segment : path) {
    if (!node->IsObject()) return nullptr;
    auto it = node->FindMember(segment);
    if (it == node->MemberEnd()) return nullptr;
    node = &it->value;
  }
  return node;
}

std::string FastString(const FastJson& value) {
  return std::string(value.GetString(), value.GetStringLength());
}

// CheckReleaseSemantics' rules on a body that passed the release schema:
// true when none of them would add an issue.
bool FastReleaseSemanticsHold(const FastJson& doc) {
  const FastJson* name = FastFind(doc, {"data", "app", "name"});
  const FastJson* release = FastFind(doc, {"data", "release"});
  if (release == nullptr || !release->IsObject()) return true;
  const FastJson* env = FastFind(*release, {"env"});
  const FastJson* version = FastFind(*release, {"version"});
  const FastJson* rollback = FastFind(*release, {"rollback"});
  const FastJson* source_env = FastFind(*release, {"source_env"});
  const FastJson* url = FastFind(*release, {"url"});
  const FastJson* permanent_url = FastFind(*release, {"permanent_url"});
  const bool have_name = name != nullptr && name->IsString();
  const bool have_version = version != nullptr && version->IsInt64();
  const std::string app = have_name ? FastString(*name) : "";
  if (permanent_url != nullptr && permanent_url->IsString() && have_version) {
    const std::string host = UrlHost(FastString(*permanent_url));
    const std::string want = "v" + std::to_string(version->GetInt64()) + ".";
    if (!StartsWith(host, want) ||
        (have_name && host.find(app) == std::string::npos)) {
      return false;
    }
  }
  if (url != nullptr && url->IsString() && have_name &&
      UrlHost(FastString(*url)).find(app) == std::string::npos) {
    return false;
  }
  if (rollback != nullptr && rollback->IsInt64() && have_version &&
      rollback->GetInt64() >= version->GetInt64()) {
    return false;
  }
  if (source_env != nullptr && source_env->IsString()) {
    if (env != nullptr && env->IsString() && *env == *source_env) return false;
    if (rollback != nullptr && !(rollback->IsBool() && !rollback->GetBool())) {
      return false;
    }
  }
  return true;
}

// --- The bundled schemas, compiled into one pass ---------------------------
//
// For the bundled schemas (scenarios/schemas/, exactly as compiled into the
// binary: see kCompiledEnvelopeHash) the fast path builds no tree and runs
// no valijson: RapidJSON's SAX reader parses a copy of the body in place
// (no allocation; SIMD string and whitespace scans where the CPU has them)
// and CompiledCheck, its handler, checks envelope.schema.json,
// release.schema.json and the release's cross-field rules on the reader's
// events as they come, remembering only the few values the rules compare.
// It also applies the fast path's limits (above) on the way: nesting no
// deeper than kMaxDepth, bodies of ASCII without DEL and without \u
// escapes (looked for before parsing), strings no longer than
// kMaxCheckedStringBytes, integers that fit int64 and no other numbers, no
// duplicate key where a schema looks.
// It is sound, not complete: "valid" only when valijson would pass the
// body too; for anything it is unsure of (a pattern-checked string with a
// space or control byte, a duplicate key in the release's objects, say) it
// gives up, and the full path decides and words the issues as before. So a
// verdict never depends on which path ran (PayloadFastPathTest,
// PayloadCompiledPassTest, the payload fuzz target).

// Hash64 of nlohmann's dump() of each bundled schema the pass was written
// for. A schema edited since no longer matches: valijson checks it again
// (PayloadFastPathTest.BundledSchemasAreCompiled says so).
constexpr uint64_t kCompiledEnvelopeHash = 0x253a3227adc5cfccULL;
constexpr uint64_t kCompiledReleaseHash = 0x4e94018c6e6401beULL;

// A visible ASCII byte: not a space, not a control byte.
bool Visible(char c) { return c > 0x20 && c < 0x7f; }

// ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$
bool CompiledAppName(std::string_view name) {
  if (name.empty() || name.front() == '-' || name.back() == '-') return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

// ^[^@\s]+@[^@\s]+$, for visible ASCII only (else unsure: false).
bool CompiledAuthor(std::string_view author) {
  const size_t at = author.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == author.size() ||
      author.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  return std::all_of(author.begin(), author.end(), Visible);
}

// ^https?://[^\s/?#]+ (a search: only the first host byte matters), for a
// visible ASCII first host byte only (else unsure: false).
bool CompiledUrl(std::string_view url) {
  size_t host = 0;
  if (url.substr(0, 7) == "http://") {
    host = 7;
  } else if (url.substr(0, 8) == "https://") {
    host = 8;
  } else {
    return false;
  }
  if (host >= url.size()) return false;
  const char c = url[host];
  return Visible(c) && c != '/' && c != '?' && c != '#';
}

// UrlHost without copies: a view into url.
std::string_view UrlHostView(std::string_view url) {
  size_t start;
  if (url.substr(0, 7) == "http://") {
    start = 7;
  } else if (url.substr(0, 8) == "https://") {
    start = 8;
  } else {
    return {};
  }
  // A loop, not find_first_of: that looks for each byte of the set with
  // its own call.
  size_t end = start;
  while (end < url.size() && url[end] != '/' && url[end] != ':' &&
         url[end] != '?' && url[end] != '#') {
    ++end;
  }
  return url.substr(start, end - start);
}

// Every byte of text is below 0x7f (ASCII without DEL). Eight bytes at a
// time: adding 1 to each byte sets its top bit exactly when it is 0x7f, and
// a byte >= 0x80 has it already (a carry only leaves such a byte).
bool BelowDel(std::string_view text_view) {
  const char* text = text_view.data();
  const size_t size = text_view.size();
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kTops = 0x8080808080808080ULL;
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t word;
    std::memcpy(&word, text + i, 8);
    if (((word + kOnes) | word) & kTops) return false;
  }
  for (; i < size; ++i) {
    if (static_cast<unsigned char>(text[i]) >= 0x7f) return false;
  }
  return true;
}

// Whether body has a \u escape (or looks like it might: the fast path then
// gives up). Each backslash starts a two-byte escape, so an escaped
// backslash before a 'u' is not one.
bool HasUnicodeEscape(std::string_view body) {
  for (size_t i = body.find('\\'); i != std::string_view::npos;
       i = body.find('\\', i + 2)) {
    if (i + 1 < body.size() && body[i + 1] == 'u') return true;
  }
  return false;
}

// The places in a body the bundled schemas name: one each, so one bit each
// in a body's set of seen keys.
enum class Field : uint8_t {
  kNone,  // A value no schema looks at.
  kEvent,  // /event
  kData,   // /data
  kApp,    // /data/app
  kRelease,  // /data/release
  kName,     // /data/app/name
  kId,       // /data/app/id
  kEnv,      // /data/release/...
  kVersion,
  kAuthor,
  kRollback,
  kSource,
  kSourceEnv,
  kTimestamp,
  kUrl,
  kPermanentUrl,
};

constexpr uint32_t Bit(Field field) {
  return uint32_t{1} << static_cast<unsigned>(field);
}

// What an open object or array is.
enum class Scope : uint8_t {
  kRoot,     // The body's object.
  kData,     // /data
  kApp,      // /data/app
  kRelease,  // /data/release
  kOther,    // Any other object or array: no schema looks inside.
};

// The RapidJSON SAX handler of the compiled pass (see above). Each event
// returns false to stop the reader when the body is surely not for the
// fast path (the envelope fails, or a limit is crossed); a failure of the
// release schema only clears release_ok_, since until the end the event
// may be another one, for which /data's insides do not matter.
class CompiledCheck {
 public:
  using Ch = char;

  bool Null() { return Mismatch(); }
  bool Bool(bool value) {
    if (field_ == Field::kRollback && !value) {  // {"const": false}
      rollback_false_ = true;
      field_ = Field::kNone;
      return true;
    }
    return Mismatch();
  }
  bool Int(int value) { return Integer(value); }
  bool Uint(unsigned value) { return Integer(value); }
  bool Int64(int64_t value) { return Integer(value); }
  bool Uint64(uint64_t value) {
    return value <= static_cast<uint64_t>(INT64_MAX) &&
           Integer(static_cast<int64_t>(value));
  }
  bool Double(double) { return false; }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return false; }

  bool String(const char* text, rapidjson::SizeType size, bool) {
    if (size > kMaxCheckedStringBytes) return false;
    const std::string_view value(text, size);
    switch (field_) {
      case Field::kNone:
        return true;
      case Field::kEvent:  // {"type": "string", "minLength": 1, "maxLength": 256}
        field_ = Field::kNone;
        event_ = value;
        return size >= 1 && size <= 256;
      case Field::kName:
        name_ = value;
        return Release(size >= 1 && size <= 100 && CompiledAppName(value));
      case Field::kId:
        return Release(size >= 1 && size <= 64);
      case Field::kEnv:
        env_ = value;
        return Release(size >= 1 && size <= 64);
      case Field::kAuthor:
        return Release(size <= 254 && CompiledAuthor(value));
      case Field::kSource:
        return Release(size >= 1 && size <= 256);
      case Field::kSourceEnv:
        source_env_ = value;
        return Release(size >= 1 && size <= 64);
      case Field::kUrl:
        url_ = value;
        return Release(size <= 2048 && CompiledUrl(value));
      case Field::kPermanentUrl:
        permanent_url_ = value;
        return Release(size <= 2048 && CompiledUrl(value));
      default:
        return Mismatch();
    }
  }

  bool StartObject() {
    Scope scope = Scope::kOther;
    switch (field_) {
      case Field::kNone:
        if (depth_ == 0) scope = Scope::kRoot;
        break;
      case Field::kData:
        scope = Scope::kData;
        break;
      case Field::kApp:
        scope = Scope::kApp;
        break;
      case Field::kRelease:
        scope = Scope::kRelease;
        break;
      default:
        if (!Mismatch()) return false;
        break;
    }
    field_ = Field::kNone;
    return Open(scope);
  }

  bool Key(const char* text, rapidjson::SizeType size, bool) {
    const std::string_view key(text, size);
    Field field = Field::kNone;
    switch (scopes_[depth_ - 1]) {
      case Scope::kRoot:
        if (key == "event") {
          field = Field::kEvent;
        } else if (key == "data") {
          field = Field::kData;
        }
        break;
      case Scope::kData:
        if (key == "app") {
          field = Field::kApp;
        } else if (key == "release") {
          field = Field::kRelease;
        }
        break;
      case Scope::kApp:
        if (key == "name") {
          field = Field::kName;
        } else if (key == "id") {
          field = Field::kId;
        }
        break;
      case Scope::kRelease:
        field = ReleaseField(key);
        break;
      case Scope::kOther:
        return true;
    }
    if (field == Field::kNone) {
      // additionalProperties false, in every object of the release schema
      // (the envelope allows other keys).
      release_ok_ = false;
      return true;
    }
    if (seen_ & Bit(field)) {
      // A duplicate key: the full path reads the last one.
      if (field == Field::kEvent || field == Field::kData) return false;
      release_ok_ = false;
      field = Field::kNone;
    }
    seen_ |= Bit(field);
    field_ = field;
    return true;
  }

  bool EndObject(rapidjson::SizeType) {
    --depth_;
    return true;
  }

  bool StartArray() {
    if (depth_ == 0) return false;  // The envelope wants an object.
    if (field_ != Field::kNone && !Mismatch()) return false;
    field_ = Field::kNone;
    return Open(Scope::kOther);
  }

  bool EndArray(rapidjson::SizeType) {
    --depth_;
    return true;
  }

  // After a whole body was read: envelope.schema.json holds.
  bool EnvelopePasses() const {
    constexpr uint32_t kRequired = Bit(Field::kEvent) | Bit(Field::kData);
    return (seen_ & kRequired) == kRequired;
  }

  // The "event" value (valid while the parsed copy lives).
  std::string_view event() const { return event_; }

  // After a whole body was read: release.schema.json and the cross-field
  // rules (FastReleaseSemanticsHold) hold.
  bool ReleasePasses() const {
    constexpr uint32_t kRequired =
        Bit(Field::kEvent) | Bit(Field::kData) | Bit(Field::kApp) |
        Bit(Field::kRelease) | Bit(Field::kName) | Bit(Field::kId) |
        Bit(Field::kEnv) | Bit(Field::kVersion) | Bit(Field::kAuthor) |
        Bit(Field::kRollback) | Bit(Field::kSource) |
        Bit(Field::kTimestamp) | Bit(Field::kUrl) | Bit(Field::kPermanentUrl);
    if (!release_ok_ || (seen_ & kRequired) != kRequired ||
        event_ != "release") {
      return false;
    }
    // permanent_url's host starts with "v<version>." and names the app.
    char want[24] = {'v'};
    char* end = std::to_chars(want + 1, want + sizeof(want) - 1, version_).ptr;
    *end++ = '.';
    const std::string_view host = UrlHostView(permanent_url_);
    if (host.substr(0, static_cast<size_t>(end - want)) !=
            std::string_view(want, static_cast<size_t>(end - want)) ||
        host.find(name_) == std::string_view::npos) {
      return false;
    }
    if (UrlHostView(url_).find(name_) == std::string_view::npos) return false;
    if (!rollback_false_ && rollback_ >= version_) return false;
    if (seen_ & Bit(Field::kSourceEnv)) {
      // A promotion: from another environment, and not a rollback.
      if (source_env_ == env_ || !rollback_false_) return false;
    }
    return true;
  }

 private:
  static Field ReleaseField(std::string_view key) {
    switch (key.size()) {
      case 3:
        return key == "env" ? Field::kEnv
               : key == "url" ? Field::kUrl
                              : Field::kNone;
      case 6:
        return key == "author" ? Field::kAuthor
               : key == "source" ? Field::kSource
                                 : Field::kNone;
      case 7:
        return key == "version" ? Field::kVersion : Field::kNone;
      case 8:
        return key == "rollback" ? Field::kRollback : Field::kNone;
      case 9:
        return key == "timestamp" ? Field::kTimestamp : Field::kNone;
      case 10:
        return key == "source_env" ? Field::kSourceEnv : Field::kNone;
      case 13:
        return key == "permanent_url" ? Field::kPermanentUrl : Field::kNone;
      default:
        return Field::kNone;
    }
  }

  // A release field's value was checked: ok says whether it passed.
  bool Release(bool ok) {
    field_ = Field::kNone;
    if (!ok) release_ok_ = false;
    return true;
  }

  // A value of the wrong type for field_.
  bool Mismatch() {
    const Field field = field_;
    field_ = Field::kNone;
    if (field == Field::kEvent || field == Field::kData) return false;
    if (field != Field::kNone) release_ok_ = false;
    return true;
  }

  bool Integer(int64_t value) {
    switch (field_) {
      case Field::kNone:
        return true;
      case Field::kVersion:  // {"type": "integer", "minimum": 1}
        version_ = value;
        return Release(value >= 1);
      case Field::kTimestamp:  // {"type": "integer", "minimum": 0}
        return Release(value >= 0);
      case Field::kRollback:  // {"type": "integer", "minimum": 1}
        rollback_ = value;
        return Release(value >= 1);
      default:
        return Mismatch();
    }
  }

  bool Open(Scope scope) {
    if (depth_ >= kMaxDepth) return false;  // The full path refuses it.
    scopes_[depth_++] = scope;
    return true;
  }

  Scope scopes_[kMaxDepth];
  int depth_ = 0;          // Open objects and arrays.
  Field field_ = Field::kNone;  // The key whose value comes next.
  uint32_t seen_ = 0;      // Bit(field) of every key met.
  bool release_ok_ = true;  // No release schema rule failed yet.
  bool rollback_false_ = false;
  int64_t version_ = 0;
  int64_t rollback_ = 0;
  std::string_view event_, name_, env_, source_env_, url_, permanent_url_;
};

// The fast path for the bundled schemas: the verdict when the body is
// valid and plain, else nullopt (the full path decides).
std::optional<PayloadVerdict> CompiledFastValid(std::string_view body) {
  // Bytes >= 0x7f are refused in the whole body: in a string they are the
  // non-ASCII the fast path leaves to the full one, elsewhere not JSON.
  if (body.size() > kMaxBodyBytes || !BelowDel(body) ||
      HasUnicodeEscape(body)) {
    return std::nullopt;
  }
  // RapidJSON parses in place, so it gets a copy: NUL-terminated (its end
  // of input) and padded, since its SIMD scans load aligned 16-byte blocks
  // and may read up to 15 bytes past the NUL. A plain event fits the stack.
  constexpr size_t kPadding = 16;
  constexpr size_t kStackCopyBytes = 4096;
  alignas(16) char stack_copy[kStackCopyBytes + kPadding];
  std::unique_ptr<char[]> heap_copy;
  char* copy = stack_copy;
  if (body.size() > kStackCopyBytes) {
    heap_copy = std::make_unique_for_overwrite<char[]>(body.size() + kPadding);
    copy = heap_copy.get();
  }
  std::memcpy(copy, body.data(), body.size());
  std::memset(copy + body.size(), 0, kPadding);
  rapidjson::InsituStringStream in(copy);
  rapidjson::Reader reader;
  CompiledCheck check;
  const rapidjson::ParseResult parsed =
      reader.Parse<rapidjson::kParseInsituFlag>(in, check);
  // A NUL inside the body would end RapidJSON's input early: the whole
  // body must have been read.
  if (parsed.IsError() || in.Tell() != body.size() ||
      !check.EnvelopePasses()) {
    return std::nullopt;
  }
  if (check.event() == "release" && !check.ReleasePasses()) {
    return std::nullopt;
  }
  PayloadVerdict verdict;
  verdict.event = std::string(check.event());
  return verdict;
}

}  // namespace

// --- PayloadVerdict ---------------------------------------------------------

std::string PayloadVerdict::FirstIssue() const {
  if (issues.empty()) return "";
  const PayloadIssue& issue = issues.front();
  return (issue.pointer.empty() ? std::string("/") : issue.pointer) + ": " +
         issue.message;
}

// --- PayloadValidator --------------------------------------------------------

struct PayloadValidator::Impl {
  Json envelope_json;
  Json release_json;
  valijson::Schema envelope;
  valijson::Schema release;
  // The schemas are the bundled ones: the fast path checks them with the
  // compiled pass (CompiledFastValid) rather than a tree and valijson.
  bool compiled = false;

  // valijson::Validator is not const-callable (it caches compiled regexes),
  // so Validate borrows one from this pool.
  mutable std::mutex mu;
  mutable std::vector<std::unique_ptr<valijson::Validator>> pool;

  std::unique_ptr<valijson::Validator> Borrow() const {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!pool.empty()) {
        auto validator = std::move(pool.back());
        pool.pop_back();
        return validator;
      }
    }
    return std::make_unique<valijson::Validator>(
        valijson::Validator::kStrongTypes);
  }

  void Return(std::unique_ptr<valijson::Validator> validator) const {
    std::lock_guard<std::mutex> lock(mu);
    if (pool.size() < kMaxPooledValidators)
      pool.push_back(std::move(validator));
  }

  // Runs one schema on a RapidJSON value without collecting errors.
  bool Passes(const valijson::Schema& schema, const FastJson& doc) const {
    auto validator = Borrow();
    valijson::adapters::RapidJsonAdapter adapter(doc);
    const bool ok = validator->validate(schema, adapter, nullptr);
    Return(std::move(validator));
    return ok;
  }

  // The fast path (see above): the verdict when the body is valid and
  // plain, else nullopt (the full path decides).
  std::optional<PayloadVerdict> FastValid(std::string_view body) const {
    if (compiled) return CompiledFastValid(body);
    if (body.size() > kMaxBodyBytes || !FastPathBytes(body) ||
        FindTooDeep(body)) {
      return std::nullopt;
    }
    // The tree and the parser's stack live in buffers on this stack (a
    // plain event needs a few KB): no allocation per body unless a body
    // needs more, when the pools take chunks from the heap.
    alignas(16) char tree_buffer[16 << 10];
    alignas(16) char stack_buffer[4 << 10];
    using Pool = rapidjson::MemoryPoolAllocator<>;
    Pool tree_pool(tree_buffer, sizeof(tree_buffer));
    Pool stack_pool(stack_buffer, sizeof(stack_buffer));
    rapidjson::GenericDocument<rapidjson::UTF8<>, Pool, Pool> doc(
        &tree_pool, sizeof(stack_buffer) / 2, &stack_pool);
    doc.Parse<rapidjson::kParseDefaultFlags>(body.data(), body.size());
    if (doc.HasParseError() || !doc.IsObject() || !FastPathTree(doc)) {
      return std::nullopt;
    }
    if (!Passes(envelope, doc)) {
      return std::nullopt;
    }
    PayloadVerdict verdict;
    const FastJson* event = FastFind(doc, {"event"});
    if (event != nullptr && event->IsString()) verdict.event = FastString(*event);
    if (verdict.event == "release" &&
        !Passes(release, doc)) {
      return std::nullopt;
    }
    if (verdict.event == "release" && !FastReleaseSemanticsHold(doc)) {
      return std::nullopt;
    }
    return verdict;
  }

  // Runs one schema; adds issues and returns whether it passed.
  bool Check(const valijson::Schema& schema, const Json& schema_json,
             const Json& doc, const Json& checked, Rule rule,
             IssueList& issues) const {
    auto validator = Borrow();
    valijson::ValidationResults results;
    valijson::adapters::NlohmannJsonAdapter adapter(checked);
    const bool ok = validator->validate(schema, adapter, &results);
    Return(std::move(validator));
    if (ok) return true;
    ReportSchemaErrors(results, doc, schema_json, rule, issues);
    if (results.numErrors() == 0) {
      issues.Add(rule, "", "does not match the schema");
    }
    return false;
  }
};

namespace {

Result<Json> ParseSchema(std::string_view text, const char* what) {
  try {
    Json schema = Json::parse(text);
    if (!schema.is_object()) {
      return Status::InvalidArgument(std::string(what) +
                                     " schema is not a JSON object");
    }
    return schema;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(what) + " schema is not JSON: " +
                                   StripExceptionTag(e.what()));
  }
}

Status BuildSchema(const Json& schema_json, valijson::Schema& schema,
                   const char* what) {
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(schema_json);
    parser.populateSchema(adapter, schema);
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(what) +
                                   " schema is not a usable JSON "
                                   "Schema: " +
                                   e.what());
  }
}

// valijson compiles a schema's "pattern" regexes on the threads that
// validate (HTTP receivers validate on their connection threads, at once).
// std::regex narrows every pattern character through the global locale's
// ctype<char> facet, and libstdc++'s ctype<char>::narrow fills a per-
// character cache in that shared facet on first use, without
// synchronisation (GCC PR 77704): two first compilations race on it (TSan
// reports it). Filling the cache before any validation leaves them only
// reading it: after narrow(c, '\0') for every c but NUL (which that call
// never caches), narrow() only reads the cache for any default.
void FillCtypeNarrowCache() {
  const auto& ctype = std::use_facet<std::ctype<char>>(std::locale());
  for (int c = 1; c < 256; ++c) ctype.narrow(static_cast<char>(c), '\0');
}

}  // namespace

PayloadValidator::PayloadValidator(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}

PayloadValidator::~PayloadValidator() = default;

Result<std::shared_ptr<CachedPayloadValidator>>
CachedPayloadValidator::Bundled() {
  Result<std::shared_ptr<const PayloadValidator>> bundled =
      PayloadValidator::Bundled();
  if (!bundled.ok()) {
    return Status(bundled.error().code(),
                  "cannot load the bundled schemas: " +
                      bundled.error().ToString());
  }
  return std::make_shared<CachedPayloadValidator>(*bundled);
}

Result<std::shared_ptr<const PayloadValidator>> PayloadValidator::Bundled() {
  // Built once per process (thread-safe static): the bundled schemas never
  // change and a validator is const and safe to share, while building one
  // (parsing both schemas, valijson's schema objects) costs more than a
  // small run's checks.
  static const Result<std::shared_ptr<const PayloadValidator>> bundled =
      FromSchemaText(EmbeddedEnvelopeSchema(), EmbeddedReleaseSchema());
  return bundled;
}

Result<std::shared_ptr<const PayloadValidator>>
PayloadValidator::FromSchemaText(std::string_view envelope_schema,
                                 std::string_view release_schema) {
  auto impl = std::make_unique<Impl>();
  Result<Json> envelope = ParseSchema(envelope_schema, "envelope");
  if (!envelope.ok()) return envelope.error();
  Result<Json> release = ParseSchema(release_schema, "release");
  if (!release.ok()) return release.error();
  impl->envelope_json = std::move(envelope).value();
  impl->release_json = std::move(release).value();
  if (Status s = BuildSchema(impl->envelope_json, impl->envelope, "envelope");
      !s.ok()) {
    return s;
  }
  if (Status s = BuildSchema(impl->release_json, impl->release, "release");
      !s.ok()) {
    return s;
  }
  impl->compiled =
      Hash64(impl->envelope_json.dump()) == kCompiledEnvelopeHash &&
      Hash64(impl->release_json.dump()) == kCompiledReleaseHash;
  FillCtypeNarrowCache();
  return std::shared_ptr<const PayloadValidator>(
      new PayloadValidator(std::move(impl)));
}

bool PayloadValidator::compiled() const { return impl_->compiled; }

PayloadVerdict PayloadValidator::Validate(std::string_view body) const {
  try {
    if (std::optional<PayloadVerdict> fast = impl_->FastValid(body)) {
      return std::move(*fast);
    }
  } catch (const std::exception&) {
    // The full path below decides, and words what went wrong.
  }
  return ValidateFully(body);
}

std::optional<PayloadVerdict> PayloadValidator::FastVerdict(
    std::string_view body) const {
  try {
    return impl_->FastValid(body);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

PayloadVerdict PayloadValidator::ValidateFully(std::string_view body) const {
  PayloadVerdict verdict;
  IssueList issues(&verdict);
  try {
    if (body.size() > kMaxBodyBytes) {
      issues.Add(kRuleEnvelope, "",
                 "not checked: body is " + std::to_string(body.size()) +
                     " bytes, more than the limit of " +
                     std::to_string(kMaxBodyBytes));
      return verdict;
    }
    if (std::optional<size_t> at = FindTooDeep(body)) {
      issues.Add(kRuleEnvelope, "",
                 "not checked: nesting deeper than " +
                     std::to_string(kMaxDepth) + " levels at byte " +
                     std::to_string(*at + 1));
      return verdict;
    }
    Json doc;
    try {
      doc = Json::parse(body);
    } catch (const Json::exception& e) {
      issues.Add(kRuleEnvelope, "", "not JSON: " + StripExceptionTag(e.what()));
      return verdict;
    }
    if (doc.is_object()) {
      auto event = doc.find("event");
      if (event != doc.end() && event->is_string()) {
        verdict.event = event->get<std::string>();
      }
    }
    std::optional<Json> cut;
    if (HasLongString(doc)) cut = CutLongStrings(doc);
    const Json& checked = cut ? *cut : doc;
    if (!impl_->Check(impl_->envelope, impl_->envelope_json, doc, checked,
                      kRuleEnvelope, issues)) {
      issues.Finish();
      return verdict;
    }
    if (verdict.event == "release") {
      impl_->Check(impl_->release, impl_->release_json, doc, checked,
                   kRuleRelease, issues);
      CheckReleaseSemantics(doc, issues);
    }
    issues.Finish();
  } catch (const std::exception& e) {
    verdict.issues.push_back(PayloadIssue{
        kRuleEnvelope, "", std::string("could not be checked: ") + e.what()});
  } catch (...) {
    verdict.issues.push_back(
        PayloadIssue{kRuleEnvelope, "", "could not be checked"});
  }
  return verdict;
}

// --- CachedPayloadValidator --------------------------------------------------

CachedPayloadValidator::CachedPayloadValidator(
    std::shared_ptr<const PayloadValidator> validator, size_t max_entries)
    : validator_(std::move(validator)), max_entries_(max_entries) {}

uint64_t CachedPayloadValidator::KeyOf(std::string_view body,
                                       uint64_t body_hash) {
  // The key mixes the size into the hash, so bodies whose hashes collide
  // but whose sizes differ do not share a verdict (a multiply spreads the
  // size over the word; the hash already is).
  return body_hash ^
         (static_cast<uint64_t>(body.size()) * 0x9e3779b97f4a7c15ULL);
}

CachedPayloadValidator::Slot& CachedPayloadValidator::Probe(uint64_t key) {
  const size_t mask = slots_.size() - 1;
  // Fibonacci hashing spreads keys whose low bits agree.
  size_t i = static_cast<size_t>((key * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
  // Bounded: the array is at most half full, so an empty slot ends it.
  while (slots_[i].verdict != nullptr && slots_[i].key != key) {
    i = (i + 1) & mask;
  }
  return slots_[i];
}

std::shared_ptr<const PayloadVerdict> CachedPayloadValidator::Compute(
    std::string_view body) const {
  if (validator_ == nullptr) {
    PayloadVerdict missing;
    missing.issues.push_back(
        PayloadIssue{kRuleEnvelope, "", "not checked: no validator"});
    return std::make_shared<const PayloadVerdict>(std::move(missing));
  }
  return std::make_shared<const PayloadVerdict>(validator_->Validate(body));
}

void CachedPayloadValidator::Store(
    uint64_t key, std::shared_ptr<const PayloadVerdict> verdict) {
  if (size_ >= max_entries_) {
    for (Slot& slot : slots_) slot = Slot{};
    size_ = 0;
  }
  if ((size_ + 1) * 2 > slots_.size()) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<size_t>(64, old.size() * 2), Slot{});
    for (Slot& slot : old) {
      if (slot.verdict != nullptr) Probe(slot.key) = std::move(slot);
    }
  }
  Slot& slot = Probe(key);
  if (slot.verdict == nullptr) ++size_;  // Else another thread stored it.
  slot.key = key;
  slot.valid = verdict->valid();
  slot.verdict = std::move(verdict);
}

std::shared_ptr<const PayloadVerdict> CachedPayloadValidator::Validate(
    std::string_view body, uint64_t body_hash) {
  const uint64_t key = KeyOf(body, body_hash);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!slots_.empty()) {
      const Slot& slot = Probe(key);
      if (slot.verdict != nullptr) return slot.verdict;
    }
  }
  std::shared_ptr<const PayloadVerdict> verdict = Compute(body);
  if (max_entries_ == 0) return verdict;
  std::lock_guard<std::mutex> lock(mu_);
  Store(key, verdict);
  return verdict;
}

bool CachedPayloadValidator::Check(std::string_view body, uint64_t body_hash,
                                   std::string* issue) {
  const uint64_t key = KeyOf(body, body_hash);
  std::shared_ptr<const PayloadVerdict> verdict;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!slots_.empty()) {
      const Slot& slot = Probe(key);
      if (slot.verdict != nullptr && slot.valid) return true;
      verdict = slot.verdict;  // Invalid (worded below), or null: a miss.
    }
  }
  if (verdict == nullptr) {
    verdict = Compute(body);
    if (max_entries_ != 0) {
      std::lock_guard<std::mutex> lock(mu_);
      Store(key, verdict);
    }
  }
  if (verdict->valid()) return true;
  issue->assign(RuleId(verdict->issues.front().rule));
  issue->append(" ");
  issue->append(verdict->FirstIssue());
  return false;
}

}  // namespace hooksim
