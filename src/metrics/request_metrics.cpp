#include "metrics/request_metrics.h"

namespace omniflow::metrics {

RequestMetrics::RequestMetrics(std::vector<RouteName> routes, Registry* registry) {
  routes.push_back({"", "none"});
  for (RouteName& name : routes) {
    auto per_route = std::make_unique<PerRoute>();
    per_route->name = std::move(name);
    per_route->latency = std::make_unique<Histogram>(LatencyBuckets());
    routes_.push_back(std::move(per_route));
  }
  collector_ = registry->AddCollector([this](ExpositionWriter* out) { Collect(out); });
}

void RequestMetrics::Observe(int route, int status, std::chrono::microseconds duration) {
  const size_t i = route >= 0 && static_cast<size_t>(route) + 1 < routes_.size()
                       ? static_cast<size_t>(route)
                       : routes_.size() - 1;
  PerRoute& r = *routes_[i];
  if (status < kMinStatus || status > kMaxStatus) status = 500;
  r.by_status[static_cast<size_t>(status - kMinStatus)].fetch_add(1, std::memory_order_relaxed);
  r.latency->Observe(static_cast<double>(duration.count()) / 1e6);
}

void RequestMetrics::Collect(ExpositionWriter* out) const {
  // Only the series that have counted something: a route never called has none.
  out->Family("omniflow_http_requests_total",
              "HTTP requests answered, by method, route pattern (\"none\": no route matched) and "
              "status code",
              "counter");
  for (const auto& r : routes_) {
    for (size_t s = 0; s < r->by_status.size(); ++s) {
      const uint64_t n = r->by_status[s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out->Sample("omniflow_http_requests_total",
                  {{"method", r->name.method},
                   {"route", r->name.pattern},
                   {"code", std::to_string(kMinStatus + static_cast<int>(s))}},
                  static_cast<double>(n));
    }
  }
  out->Family("omniflow_http_request_duration_seconds",
              "Time from a request's first byte read to its answer's last byte handed to the "
              "socket, by method and route pattern",
              "histogram");
  for (const auto& r : routes_) {
    Histogram::Snapshot snapshot = r->latency->Read();
    if (snapshot.count == 0) continue;
    WriteHistogram(out, "omniflow_http_request_duration_seconds",
                   {{"method", r->name.method}, {"route", r->name.pattern}}, snapshot);
  }
}

}  // namespace omniflow::metrics
