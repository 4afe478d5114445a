#include "mock-receivers/route_match.h"

#include <cstdint>
#include <exception>
#include <utility>

#include "sim/base/json_reader.h"

namespace hooksim {
namespace {

using nlohmann::json;

constexpr size_t kMaxShown = 256;

// One unit of a glob.
struct GlobToken {
  enum Kind : uint8_t { kLiteral, kOne, kStar } kind;
  char c = 0;  // For kLiteral.
};

std::vector<GlobToken> Tokens(std::string_view pattern) {
  std::vector<GlobToken> out;
  out.reserve(pattern.size());
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      out.push_back({GlobToken::kLiteral, pattern[++i]});
    } else if (c == '*') {
      // Consecutive stars are one.
      if (out.empty() || out.back().kind != GlobToken::kStar) {
        out.push_back({GlobToken::kStar, 0});
      }
    } else if (c == '?') {
      out.push_back({GlobToken::kOne, 0});
    } else {
      out.push_back({GlobToken::kLiteral, c});
    }
  }
  return out;
}

bool HasWildcard(const std::vector<GlobToken>& tokens) {
  for (const GlobToken& t : tokens) {
    if (t.kind != GlobToken::kLiteral) return true;
  }
  return false;
}

std::string Literal(const std::vector<GlobToken>& tokens) {
  std::string out;
  for (const GlobToken& t : tokens) out += t.c;
  return out;
}

// A string the glob matches: stars empty, `?` as "x".
std::string Example(const std::vector<GlobToken>& tokens) {
  std::string out;
  for (const GlobToken& t : tokens) {
    if (t.kind == GlobToken::kLiteral) out += t.c;
    if (t.kind == GlobToken::kOne) out += 'x';
  }
  return out;
}

// True when every string `later` matches, `earlier` matches too (decided
// for identical globs, a `later` without wildcards, and an `earlier` that
// is a literal prefix and one trailing star).
bool GlobCovers(std::string_view earlier, std::string_view later) {
  const std::vector<GlobToken> e = Tokens(earlier);
  const std::vector<GlobToken> l = Tokens(later);
  if (e.size() == l.size()) {
    bool same = true;
    for (size_t i = 0; i < e.size() && same; ++i) {
      same = e[i].kind == l[i].kind && e[i].c == l[i].c;
    }
    if (same) return true;
  }
  if (!HasWildcard(l)) return GlobMatches(earlier, Literal(l));
  if (!e.empty() && e.back().kind == GlobToken::kStar &&
      !HasWildcard(std::vector<GlobToken>(e.begin(), e.end() - 1))) {
    // earlier = P*: covers every glob whose literal start begins with P.
    size_t i = 0;
    for (; i + 1 < e.size(); ++i) {
      if (i >= l.size() || l[i].kind != GlobToken::kLiteral ||
          l[i].c != e[i].c) {
        return false;
      }
    }
    return true;
  }
  return false;
}

// A string both globs match, or nullopt (dynamic programming over the two
// token lists, then one walk to build the witness).
std::optional<std::string> GlobIntersection(std::string_view a,
                                            std::string_view b) {
  const std::vector<GlobToken> p = Tokens(a);
  const std::vector<GlobToken> q = Tokens(b);
  const size_t n = p.size();
  const size_t m = q.size();
  const size_t w = m + 1;
  std::vector<uint8_t> f((n + 1) * w, 0);
  auto at = [&](size_t i, size_t j) -> uint8_t& { return f[i * w + j]; };
  auto compatible = [](const GlobToken& x, const GlobToken& y) {
    return x.kind == GlobToken::kOne || y.kind == GlobToken::kOne ||
           x.c == y.c;
  };
  for (size_t i = n + 1; i-- > 0;) {
    for (size_t j = m + 1; j-- > 0;) {
      bool ok = i == n && j == m;
      if (!ok && i < n && p[i].kind == GlobToken::kStar) {
        ok = at(i + 1, j) || (j < m && at(i, j + 1));
      }
      if (!ok && j < m && q[j].kind == GlobToken::kStar) {
        ok = at(i, j + 1) || (i < n && at(i + 1, j));
      }
      if (!ok && i < n && j < m && p[i].kind != GlobToken::kStar &&
          q[j].kind != GlobToken::kStar && compatible(p[i], q[j])) {
        ok = at(i + 1, j + 1);
      }
      at(i, j) = ok ? 1 : 0;
    }
  }
  if (!at(0, 0)) return std::nullopt;
  std::string out;
  size_t i = 0;
  size_t j = 0;
  // Each step moves i or j on: at most n + m steps.
  while (i < n || j < m) {
    if (i < n && p[i].kind == GlobToken::kStar) {
      if (at(i + 1, j)) {
        ++i;
        continue;
      }
      if (q[j].kind == GlobToken::kLiteral) out += q[j].c;
      if (q[j].kind == GlobToken::kOne) out += 'x';
      ++j;
      continue;
    }
    if (j < m && q[j].kind == GlobToken::kStar) {
      if (at(i, j + 1)) {
        ++j;
        continue;
      }
      if (p[i].kind == GlobToken::kLiteral) out += p[i].c;
      if (p[i].kind == GlobToken::kOne) out += 'x';
      ++i;
      continue;
    }
    if (p[i].kind == GlobToken::kLiteral) {
      out += p[i].c;
    } else if (q[j].kind == GlobToken::kLiteral) {
      out += q[j].c;
    } else {
      out += 'x';
    }
    ++i;
    ++j;
  }
  return out;
}

std::string Cut(std::string_view s) {
  if (s.size() <= kMaxShown) return std::string(s);
  return std::string(s.substr(0, kMaxShown)) + "...";
}

std::string Show(const json& j) {
  return Cut(j.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string_view PathOf(std::string_view target) {
  return target.substr(0, target.find('?'));
}

// The field at `pointer` in `doc`, or null (absent, or not a pointer).
const json* Field(const json& doc, const std::string& pointer) {
  try {
    const json::json_pointer ptr(pointer);
    if (!doc.contains(ptr)) return nullptr;
    return &doc.at(ptr);
  } catch (const std::exception&) {
    return nullptr;
  }
}

bool ValueMatches(const json& want, const json& got) {
  if (want.is_string()) {
    return got.is_string() &&
           GlobMatches(want.get_ref<const std::string&>(),
                       got.get_ref<const std::string&>());
  }
  return want == got;
}

}  // namespace

std::string GlobProblem(std::string_view pattern) {
  if (pattern.size() > kMaxRoutePatternBytes) {
    return "longer than " + std::to_string(kMaxRoutePatternBytes) + " bytes";
  }
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\r' || c == '\n' || c == '\0') {
      return "a CR, LF or NUL at byte " + std::to_string(i);
    }
    if (c == '\\') {
      if (i + 1 == pattern.size()) {
        return "a trailing \\ (escape what? write \\\\ for a backslash)";
      }
      ++i;
      continue;
    }
    if (c == '[' || c == ']') {
      return std::string("a character class ") + c +
             " at byte " + std::to_string(i) +
             " (not supported: only * and ? are wildcards; write \\" + c +
             " for the character)";
    }
  }
  return "";
}

std::string PathGlobProblem(std::string_view pattern) {
  if (pattern.empty()) return "an empty path (leave \"path\" out for any)";
  if (pattern.front() != '/' && pattern != "*") {
    return "a path that does not start with /";
  }
  return GlobProblem(pattern);
}

std::string JsonPointerProblem(std::string_view pointer) {
  if (pointer.empty()) return "";
  if (pointer.front() != '/') {
    return "a JSON pointer must start with / (\"/data/app\")";
  }
  if (pointer.size() > kMaxRoutePatternBytes) {
    return "longer than " + std::to_string(kMaxRoutePatternBytes) + " bytes";
  }
  for (size_t i = 0; i < pointer.size(); ++i) {
    if (pointer[i] != '~') continue;
    if (i + 1 == pointer.size() || (pointer[i + 1] != '0' &&
                                    pointer[i + 1] != '1')) {
      return "~ at byte " + std::to_string(i) +
             " must be ~0 (for ~) or ~1 (for /)";
    }
  }
  return "";
}

bool GlobMatches(std::string_view pattern, std::string_view text) {
  size_t p = 0;
  size_t t = 0;
  size_t star_p = std::string_view::npos;
  size_t star_t = 0;
  // Each pass moves t on or backtracks to the last star with star_t moved
  // on: O(|pattern| * |text|) at worst.
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star_p = ++p;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      char c = pattern[p];
      size_t next = p + 1;
      bool any = c == '?';
      if (c == '\\' && p + 1 < pattern.size()) {
        c = pattern[p + 1];
        next = p + 2;
        any = false;
      }
      if (any || c == text[t]) {
        p = next;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

const nlohmann::json* RequestBody::Json() {
  if (!parsed_) {
    parsed_ = true;
    if (!FindDepthOver(text_, kMaxRouteBodyDepth)) {
      json doc = json::parse(text_, nullptr, false);
      if (!doc.is_discarded()) doc_ = std::move(doc);
    }
  }
  return doc_ ? &*doc_ : nullptr;
}

MatchOutcome MatchRequest(const RouteMatch& match, const HttpRequest& request,
                          RequestBody& body) {
  MatchOutcome out;
  auto miss = [&out](std::string why) {
    if (out.why.empty()) out.why = std::move(why);
  };
  if (!match.method.empty()) {
    if (request.method == match.method) {
      ++out.met;
    } else {
      miss("method " + Cut(request.method) + " is not " + match.method);
    }
  }
  if (!match.path.empty()) {
    const std::string_view path = PathOf(request.target);
    if (GlobMatches(match.path, path)) {
      ++out.met;
    } else {
      miss("path " + Cut(path) + " does not match " + match.path);
    }
  }
  for (const HeaderMatch& h : match.headers) {
    bool found = false;
    bool ok = false;
    std::string_view first;
    for (const Header& header : request.headers) {
      if (!EqualsIgnoreCase(header.name, h.name)) continue;
      if (!found) first = header.value;
      found = true;
      if (GlobMatches(h.pattern, header.value)) {
        ok = true;
        break;
      }
    }
    if (ok) {
      ++out.met;
    } else if (!found) {
      miss("header " + h.name + " is missing (expected " + h.pattern + ")");
    } else {
      miss("header " + h.name + ": " + Cut(first) + " does not match " +
           h.pattern);
    }
  }
  for (const BodyMatch& b : match.body) {
    const json* doc = body.Json();
    if (doc == nullptr) {
      miss("body is not JSON (expected " + b.pointer + " = " + Show(b.value) +
           ")");
      continue;
    }
    const json* field = Field(*doc, b.pointer);
    if (field == nullptr) {
      miss("body has no " + b.pointer + " (expected " + Show(b.value) + ")");
    } else if (ValueMatches(b.value, *field)) {
      ++out.met;
    } else {
      miss("body " + b.pointer + " is " + Show(*field) + ", expected " +
           Show(b.value));
    }
  }
  out.matched = out.why.empty();
  return out;
}

bool Covers(const RouteMatch& earlier, const RouteMatch& later) {
  if (!earlier.method.empty() && earlier.method != later.method) return false;
  if (!earlier.path.empty()) {
    const bool any_path = earlier.path == "*" || earlier.path == "/*";
    if (!any_path &&
        (later.path.empty() || !GlobCovers(earlier.path, later.path))) {
      return false;
    }
  }
  for (const HeaderMatch& e : earlier.headers) {
    bool implied = false;
    for (const HeaderMatch& l : later.headers) {
      implied |= EqualsIgnoreCase(e.name, l.name) &&
                 GlobCovers(e.pattern, l.pattern);
    }
    if (!implied) return false;
  }
  for (const BodyMatch& e : earlier.body) {
    bool implied = false;
    for (const BodyMatch& l : later.body) {
      if (e.pointer != l.pointer) continue;
      if (e.value.is_string() && l.value.is_string()) {
        implied |= GlobCovers(e.value.get_ref<const std::string&>(),
                              l.value.get_ref<const std::string&>());
      } else {
        implied |= e.value == l.value;
      }
    }
    if (!implied) return false;
  }
  return true;
}

std::optional<std::string> SharedRequest(const RouteMatch& a,
                                         const RouteMatch& b) {
  if (!a.method.empty() && !b.method.empty() && a.method != b.method) {
    return std::nullopt;
  }
  std::string path = "/";
  if (!a.path.empty() && !b.path.empty()) {
    std::optional<std::string> shared = GlobIntersection(a.path, b.path);
    if (!shared) return std::nullopt;
    path = *shared;
  } else if (!a.path.empty() || !b.path.empty()) {
    path = Example(Tokens(a.path.empty() ? b.path : a.path));
  }
  if (path.empty()) path = "/";
  for (const HeaderMatch& x : a.headers) {
    for (const HeaderMatch& y : b.headers) {
      if (EqualsIgnoreCase(x.name, y.name) &&
          !GlobIntersection(x.pattern, y.pattern)) {
        return std::nullopt;
      }
    }
  }
  for (const BodyMatch& x : a.body) {
    for (const BodyMatch& y : b.body) {
      if (x.pointer != y.pointer) continue;
      if (x.value.is_string() && y.value.is_string()) {
        if (!GlobIntersection(x.value.get_ref<const std::string&>(),
                              y.value.get_ref<const std::string&>())) {
          return std::nullopt;
        }
      } else if (x.value != y.value) {
        return std::nullopt;
      }
    }
  }
  const std::string& method = a.method.empty() ? b.method : a.method;
  std::string out = (method.empty() ? "" : method + " ") + Cut(path);
  const bool more = !a.headers.empty() || !b.headers.empty() ||
                    !a.body.empty() || !b.body.empty();
  if (more) out += " (with headers and body that both accept)";
  return out;
}

}  // namespace hooksim
