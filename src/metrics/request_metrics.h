// Requests answered, per route of the router (its pattern, never the raw path) and status
// code, and their latency per route: omniflow_http_requests_total and
// omniflow_http_request_duration_seconds. Observe is lock-free (three relaxed adds); the
// families are rendered by a collector of the registry while this object lives. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "metrics/registry.h"

namespace omniflow::metrics {

class RequestMetrics {
 public:
  struct RouteName {
    std::string method, pattern;
  };
  // `routes` in the router's order (Router::Dispatch's index); registers with `registry`.
  RequestMetrics(std::vector<RouteName> routes, Registry* registry);

  // `route` is the router's index of the route served, or -1 when none matched (404, 405, or
  // a request that could not be read).
  void Observe(int route, int status, std::chrono::microseconds duration);

 private:
  static constexpr int kMinStatus = 100, kMaxStatus = 599;
  struct PerRoute {
    RouteName name;
    std::unique_ptr<Histogram> latency;
    std::array<std::atomic<uint64_t>, kMaxStatus - kMinStatus + 1> by_status{};
  };
  void Collect(ExpositionWriter* out) const;

  std::vector<std::unique_ptr<PerRoute>> routes_;  // the last one: no route matched
  Registry::CollectorHandle collector_;            // last: removed before the routes go
};

}  // namespace omniflow::metrics
