// A Registry owns omniflow's metric families and renders them in the Prometheus text format.
// Instruments are registered once (at start, or on first use) and then recorded without
// locks; collectors add families computed when rendered (queue depth, store size). Global()
// is the process's registry, which GET /metrics renders. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/mutex.h"
#include "metrics/exposition.h"
#include "metrics/instruments.h"

namespace omniflow::metrics {

class Registry {
 public:
  // The series of family `name` with `labels`, made on the first call; later calls with the
  // same name and labels return the same instrument (help and buckets of the first call hold).
  // The reference stays valid as long as the registry. REQUIRES: a name is used for one type.
  Counter& GetCounter(std::string_view name, std::string_view help, Labels labels = {})
      EXCLUDES(mu_);
  Gauge& GetGauge(std::string_view name, std::string_view help, Labels labels = {})
      EXCLUDES(mu_);
  Histogram& GetHistogram(std::string_view name, std::string_view help,
                          std::vector<double> bounds, Labels labels = {}) EXCLUDES(mu_);

  // Writes whole families (Family, then Sample lines) when rendered; runs under the registry's
  // lock, so it must not call the registry. Removed when the returned handle is destroyed.
  using Collect = std::function<void(ExpositionWriter*)>;
  class CollectorHandle {
   public:
    CollectorHandle() = default;
    CollectorHandle(Registry* registry, uint64_t id) : registry_(registry), id_(id) {}
    CollectorHandle(CollectorHandle&& other) noexcept { *this = std::move(other); }
    CollectorHandle& operator=(CollectorHandle&& other) noexcept;
    ~CollectorHandle();

   private:
    Registry* registry_ = nullptr;
    uint64_t id_ = 0;
  };
  [[nodiscard]] CollectorHandle AddCollector(Collect collect) EXCLUDES(mu_);

  // Every family, instruments first (in registration order), then the collectors'.
  std::string Render() const EXCLUDES(mu_);

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    std::string name, help;
    Type type;
    std::deque<Series> series;
  };
  Series& FindOrAdd(std::string_view name, std::string_view help, Type type, Labels labels)
      REQUIRES(mu_);
  void RemoveCollector(uint64_t id) EXCLUDES(mu_);

  mutable Mutex mu_;
  std::deque<Family> families_ GUARDED_BY(mu_);
  std::vector<std::pair<uint64_t, Collect>> collectors_ GUARDED_BY(mu_);
  uint64_t next_collector_ GUARDED_BY(mu_) = 1;
};

// The process's registry: what GET /metrics renders.
Registry& Global();

// Writes a histogram's series (the _bucket lines, cumulative, +Inf last; _sum; _count), for
// collectors that keep histograms of their own.
void WriteHistogram(ExpositionWriter* out, std::string_view name, const Labels& labels,
                    const Histogram::Snapshot& snapshot);

}  // namespace omniflow::metrics
