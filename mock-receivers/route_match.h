// What a receiver route matches: method, path glob, header globs and
// JSON-pointer values in the body; and how two routes' matches relate.
//
// Globs: `*` matches any run of characters (also none, also `/`), `?`
// exactly one, `\` makes the next character literal; everything else
// matches itself (case-sensitive). A path is matched without its query
// (`/orders/1?x=y` is matched as `/orders/1`), byte for byte as sent (not
// percent-decoded). Header names ignore case; a header given several
// times matches when any of its values does.
// Body matches read the body as JSON once per request, only when a route
// with body matches is tried; a body that is not JSON (or nests deeper
// than kMaxRouteBodyDepth) matches no body pointer. A string value is a
// glob over a string field; any other JSON value must equal the field.
// Thread: pure functions.
#ifndef HOOKSIM_MOCK_RECEIVERS_ROUTE_MATCH_H_
#define HOOKSIM_MOCK_RECEIVERS_ROUTE_MATCH_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/contract/http_types.h"

namespace hooksim {

inline constexpr size_t kMaxRoutePatternBytes = 1024;
inline constexpr int kMaxRouteBodyDepth = 128;

struct HeaderMatch {
  std::string name;     // A header name (matched ignoring case).
  std::string pattern;  // A glob over the header's value.
  bool operator==(const HeaderMatch&) const = default;
};

struct BodyMatch {
  std::string pointer;  // An RFC 6901 JSON pointer ("/data/app").
  nlohmann::json value;  // A string: a glob over a string field; else equal.
  bool operator==(const BodyMatch&) const = default;
};

struct RouteMatch {
  std::string method;  // "" any; else exact ("POST").
  std::string path;    // "" any; else a glob over the path.
  std::vector<HeaderMatch> headers;  // Every one must match.
  std::vector<BodyMatch> body;       // Every one must match.

  // True when nothing is asked: every request matches.
  bool MatchesAll() const {
    return method.empty() && path.empty() && headers.empty() && body.empty();
  }
  bool operator==(const RouteMatch&) const = default;
};

// "" when `pattern` is a usable glob, else why not (a trailing `\`, a
// character class `[...]` (not supported), longer than
// kMaxRoutePatternBytes, or a CR, LF or NUL).
std::string GlobProblem(std::string_view pattern);
// "" when `path` is a usable path glob (GlobProblem, not empty, starts
// with "/" or is "*"), else why not.
std::string PathGlobProblem(std::string_view pattern);
// "" when `pointer` is an RFC 6901 JSON pointer ("" or "/a/b", `~` only
// as `~0` or `~1`), else why not.
std::string JsonPointerProblem(std::string_view pointer);

// Whether `text` matches the glob `pattern` (a usable one).
bool GlobMatches(std::string_view pattern, std::string_view text);

// The request's body read as JSON for body matches, parsed at most once.
class RequestBody {
 public:
  explicit RequestBody(std::string_view body) : text_(body) {}
  // The document, or null when the body is not JSON or too deep.
  const nlohmann::json* Json();

 private:
  std::string_view text_;
  bool parsed_ = false;
  std::optional<nlohmann::json> doc_;
};

// How a request fares against one route's match.
struct MatchOutcome {
  bool matched = false;
  int met = 0;      // Criteria met (method, path, each header, each body).
  std::string why;  // The first criterion not met ("" when matched):
                    // "path /x does not match /orders/*".
};

// Checks every criterion of `match` against `request` (body: its parsed
// body, shared across routes).
MatchOutcome MatchRequest(const RouteMatch& match, const HttpRequest& request,
                          RequestBody& body);

// True when every request `later` matches is also matched by `earlier`
// (so a route with `later` placed after `earlier` is never reached).
// Conservative: it may say false for a pair that is covered (glob
// containment is decided for identical globs, exact paths and a single
// trailing `*`).
bool Covers(const RouteMatch& earlier, const RouteMatch& later);

// When some request may match both `a` and `b` (their methods agree,
// their path globs share a path, and no header or body pointer both name
// asks for values that cannot both hold), a description of one such
// request ("POST /orders/x"); else nullopt.
std::optional<std::string> SharedRequest(const RouteMatch& a,
                                         const RouteMatch& b);

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_ROUTE_MATCH_H_
