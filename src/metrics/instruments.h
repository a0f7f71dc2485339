// The instruments of omniflow's metrics: counters, gauges and histograms with fixed buckets.
// Each is a handful of relaxed atomics, so recording one costs a few instructions and never
// takes a lock: safe on the hot path from any thread. A Registry (registry.h) owns them and
// renders them for GET /metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace omniflow::metrics {

// Goes only up. Thread-safe.
class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Goes up and down, or is set. Thread-safe.
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double d) { value_.fetch_add(d, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into fixed buckets (upper bounds, ascending; +Inf is implied) and keeps
// their sum. Observe is lock-free: a bucket search over a few bounds and two relaxed adds.
// A Snapshot read while others observe may be off by the observations in flight. Thread-safe.
class Histogram {
 public:
  // REQUIRES: `bounds` ascending and finite.
  explicit Histogram(std::vector<double> bounds);

  void Observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const;
  std::span<const double> bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0};
};

// Bucket bounds in seconds for latencies from 100 µs to 10 s.
std::vector<double> LatencyBuckets();
// Bucket bounds for sizes: 1, 2, 4, ... up to `max` (a power of two).
std::vector<double> PowerOfTwoBuckets(double max);

}  // namespace omniflow::metrics
