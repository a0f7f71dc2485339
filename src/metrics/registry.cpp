#include "metrics/registry.h"

namespace omniflow::metrics {

Registry::CollectorHandle& Registry::CollectorHandle::operator=(CollectorHandle&& other) noexcept {
  if (this != &other) {
    if (registry_ != nullptr) registry_->RemoveCollector(id_);
    registry_ = other.registry_;
    id_ = other.id_;
    other.registry_ = nullptr;
  }
  return *this;
}

Registry::CollectorHandle::~CollectorHandle() {
  if (registry_ != nullptr) registry_->RemoveCollector(id_);
}

Registry::Series& Registry::FindOrAdd(std::string_view name, std::string_view help, Type type,
                                      Labels labels) {
  Family* family = nullptr;
  for (Family& f : families_) {
    if (f.name == name) family = &f;
  }
  if (family == nullptr) {
    family = &families_.emplace_back(Family{std::string(name), std::string(help), type, {}});
  }
  for (Series& s : family->series) {
    if (s.labels == labels) return s;
  }
  Series& series = family->series.emplace_back();
  series.labels = std::move(labels);
  return series;
}

Counter& Registry::GetCounter(std::string_view name, std::string_view help, Labels labels) {
  MutexLock lock(&mu_);
  Series& s = FindOrAdd(name, help, Type::kCounter, std::move(labels));
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& Registry::GetGauge(std::string_view name, std::string_view help, Labels labels) {
  MutexLock lock(&mu_);
  Series& s = FindOrAdd(name, help, Type::kGauge, std::move(labels));
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& Registry::GetHistogram(std::string_view name, std::string_view help,
                                  std::vector<double> bounds, Labels labels) {
  MutexLock lock(&mu_);
  Series& s = FindOrAdd(name, help, Type::kHistogram, std::move(labels));
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(std::move(bounds));
  return *s.histogram;
}

Registry::CollectorHandle Registry::AddCollector(Collect collect) {
  MutexLock lock(&mu_);
  const uint64_t id = next_collector_++;
  collectors_.emplace_back(id, std::move(collect));
  return CollectorHandle(this, id);
}

void Registry::RemoveCollector(uint64_t id) {
  MutexLock lock(&mu_);
  std::erase_if(collectors_, [id](const auto& c) { return c.first == id; });
}

std::string Registry::Render() const {
  ExpositionWriter out;
  MutexLock lock(&mu_);
  for (const Family& family : families_) {
    switch (family.type) {
      case Type::kCounter:
        out.Family(family.name, family.help, "counter");
        for (const Series& s : family.series) {
          out.Sample(family.name, s.labels, static_cast<double>(s.counter->value()));
        }
        break;
      case Type::kGauge:
        out.Family(family.name, family.help, "gauge");
        for (const Series& s : family.series) out.Sample(family.name, s.labels, s.gauge->value());
        break;
      case Type::kHistogram:
        out.Family(family.name, family.help, "histogram");
        for (const Series& s : family.series) WriteHistogram(&out, family.name, s.labels,
                                                             s.histogram->Read());
        break;
    }
  }
  for (const auto& [id, collect] : collectors_) collect(&out);
  return out.Release();
}

void WriteHistogram(ExpositionWriter* out, std::string_view name, const Labels& labels,
                    const Histogram::Snapshot& snapshot) {
  const std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i < snapshot.bounds.size(); ++i) {
    out->Sample(bucket, labels, static_cast<double>(snapshot.cumulative[i]), "le",
                FormatValue(snapshot.bounds[i]));
  }
  out->Sample(bucket, labels, static_cast<double>(snapshot.count), "le", "+Inf");
  out->Sample(std::string(name) + "_sum", labels, snapshot.sum);
  out->Sample(std::string(name) + "_count", labels, static_cast<double>(snapshot.count));
}

Registry& Global() {
  static Registry* registry = new Registry();  // never destroyed: instruments outlive threads
  return *registry;
}

}  // namespace omniflow::metrics
