#include "mock-receivers/routes.h"

#include <optional>

#include "sim/base/json_reader.h"

namespace hooksim {
namespace {

// Work the pairwise check may do, in glob characters compared.
constexpr size_t kWarningBudget = size_t{64} << 20;

// How a warning names route i: its label, or its JSON pointer, and name.
struct Namer {
  const std::string& path;
  const std::vector<std::string>& labels;
  std::string operator()(size_t i, const ReceiverRoute& route) const {
    if (route.is_default) return JoinPointer(path, "default");
    const std::string where = i < labels.size()
                                  ? labels[i]
                                  : JoinPointer(JoinPointer(path, "routes"), i);
    return where + " '" + route.name + "'";
  }
};

size_t Cost(const RouteMatch& a, const RouteMatch& b) {
  size_t cost = (a.path.size() + 1) * (b.path.size() + 1);
  for (const HeaderMatch& x : a.headers) {
    for (const HeaderMatch& y : b.headers) {
      cost += (x.pattern.size() + 1) * (y.pattern.size() + 1);
    }
  }
  // Body values are bounded by the same pattern limit when strings.
  cost += (a.body.size() + 1) * (b.body.size() + 1) * 1024;
  return cost;
}

}  // namespace

RouteChoice ChooseRoute(const std::vector<ReceiverRoute>& routes,
                        const HttpRequest& request) {
  RouteChoice choice;
  RequestBody body(request.body);
  int best_met = -1;
  for (size_t i = 0; i < routes.size(); ++i) {
    const ReceiverRoute& route = routes[i];
    if (route.match.MatchesAll()) {
      choice.index = static_cast<int>(i);
      return choice;
    }
    MatchOutcome outcome = MatchRequest(route.match, request, body);
    if (outcome.matched) {
      choice.index = static_cast<int>(i);
      choice.why.clear();
      choice.closest = -1;
      return choice;
    }
    if (outcome.met > best_met) {
      best_met = outcome.met;
      choice.closest = static_cast<int>(i);
      choice.why = "route '" + route.name + "': " + outcome.why;
    }
  }
  return choice;
}

std::vector<std::string> RouteWarnings(const BehaviorSpec& spec,
                                       const std::string& path,
                                       const std::vector<std::string>& labels) {
  const Namer Where{path, labels};
  std::vector<std::string> out;
  const std::vector<ReceiverRoute>& routes = spec.routes;
  std::vector<bool> unreachable(routes.size(), false);
  size_t budget = kWarningBudget;
  for (size_t j = 0; j < routes.size(); ++j) {
    for (size_t i = 0; i < j; ++i) {
      if (unreachable[i]) continue;
      const size_t cost = Cost(routes[i].match, routes[j].match);
      if (cost > budget) {
        out.push_back("route checks stopped at " + Where(j, routes[j]) +
                      ": too many long patterns to compare");
        return out;
      }
      budget -= cost;
      if (Covers(routes[i].match, routes[j].match)) {
        unreachable[j] = true;
        out.push_back(Where(j, routes[j]) + " is unreachable: " +
                      Where(i, routes[i]) +
                      " before it matches every request it matches");
        break;
      }
    }
  }
  for (size_t j = 0; j < routes.size(); ++j) {
    if (unreachable[j] || routes[j].is_default) continue;
    for (size_t i = 0; i < j; ++i) {
      if (unreachable[i]) continue;
      // A later route covering an earlier one is the usual "specific
      // first, then general": intended, not worth a warning.
      if (Covers(routes[j].match, routes[i].match)) continue;
      const size_t cost = Cost(routes[i].match, routes[j].match);
      if (cost > budget) {
        out.push_back("route checks stopped at " + Where(j, routes[j]) +
                      ": too many long patterns to compare");
        return out;
      }
      budget -= cost;
      std::optional<std::string> shared =
          SharedRequest(routes[i].match, routes[j].match);
      if (!shared) continue;
      out.push_back(Where(i, routes[i]) + " and " +
                    Where(j, routes[j]) + " overlap: both match e.g. " +
                    *shared + "; '" + routes[i].name +
                    "' wins, it comes first");
    }
  }
  return out;
}

}  // namespace hooksim
