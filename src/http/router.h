// The Router maps method and path to a handler. A route's pattern is a path whose segments are
// literals or `{name}` placeholders (each matching exactly one non-empty segment, captured raw,
// still percent-encoded), optionally ending in `/*` (matches one or more further segments).
// Unknown paths get 404 and a known path with the wrong method gets 405 with an Allow header.
// Immutable after set-up, so Dispatch is thread-safe.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"

namespace omniflow::http {

// The raw (undecoded) segments a pattern's placeholders captured, in pattern order.
struct PathParams {
  static constexpr size_t kMax = 4;
  std::array<std::string_view, kMax> values;
  size_t size = 0;
};

using RouteHandler = std::function<void(const Request&, const PathParams&, Respond)>;

class Router {
 public:
  // REQUIRES: at most PathParams::kMax placeholders in `pattern`.
  void Add(std::string_view method, std::string_view pattern, RouteHandler handler);
  // Answers requests under `prefix` that match no route (e.g. to list what is there instead of
  // the generic 404).
  void SetFallback(std::string_view prefix, Handler handler);
  // Serves `request`. When `route` is given, it is set, before the handler runs, to the index
  // of the route that serves it (in the order added), or -1 when none matched (404, 405, a
  // fallback).
  void Dispatch(const Request& request, Respond respond, int* route = nullptr) const;

  // The routes added, by Dispatch's index: for per-route metrics.
  size_t size() const { return routes_.size(); }
  std::string_view method(size_t i) const { return routes_[i].method; }
  std::string_view pattern(size_t i) const { return routes_[i].pattern; }

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // literal, "{name}" or a final "*"
    RouteHandler handler;
  };
  static bool Match(const Route& route, std::string_view path, PathParams* params);
  std::vector<Route> routes_;
  std::vector<std::pair<std::string, Handler>> fallbacks_;
};

// A JSON error response: {"status":"error","error":"<message>"}.
Response ErrorResponse(int status, std::string_view message);

}  // namespace omniflow::http
