// Choosing a receiver's route for a request, and what is wrong with a list
// of routes (overlaps, routes never reached). One implementation for both
// worlds: MockReceiver::Handle calls ChooseRoute for the virtual network
// and the HTTP server alike.
// Thread: pure functions.
#ifndef HOOKSIM_MOCK_RECEIVERS_ROUTES_H_
#define HOOKSIM_MOCK_RECEIVERS_ROUTES_H_

#include <cstddef>
#include <string>
#include <vector>

#include "mock-receivers/behavior.h"
#include "sim/contract/http_types.h"

namespace hooksim {

// Routes a behaviour may have.
inline constexpr size_t kMaxRoutes = 1'000;
// Header and body matches a route may have (each).
inline constexpr size_t kMaxRouteMatches = 64;

// The route a request takes.
struct RouteChoice {
  // Index into the routes; -1 when none matched (the request gets 404).
  int index = -1;
  // When none matched and there are routes: the route that met the most
  // criteria (the first of those tied) and why it did not match:
  // "route 'orders': path /x does not match /orders/*".
  int closest = -1;
  std::string why;
};

// The first route of `routes` that `request` matches.
RouteChoice ChooseRoute(const std::vector<ReceiverRoute>& routes,
                        const HttpRequest& request);

// One warning per route never reached (an earlier route matches every
// request it would: "/routes/2 'b' is unreachable: /routes/0 'a' before it
// matches every request it matches") and per pair of routes some request
// may match both, neither covering the other ("/routes/0 'a' and /routes/1
// 'b' overlap: both match e.g. POST /orders/x; 'a' wins, it comes
// first"). `path` is the JSON pointer of the behaviour in its document
// (routes are named by `path` + "/routes/N", or by labels[N] when given,
// and their name). The "default" route is a
// fallback by design: it never overlaps, but is unreachable after a route
// that matches everything. The pairwise check stops after a fixed budget
// of work (very many long globs), and says so in a last warning.
std::vector<std::string> RouteWarnings(
    const BehaviorSpec& spec, const std::string& path,
    const std::vector<std::string>& labels = {});

}  // namespace hooksim

#endif  // HOOKSIM_MOCK_RECEIVERS_ROUTES_H_
