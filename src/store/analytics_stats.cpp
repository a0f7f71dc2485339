#include "store/analytics_stats.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "store/analytics_text.h"

namespace omniflow {

void UsageTotals::Add(const UsageTotals& o) {
  interactions += o.interactions;
  input += o.input;
  cached_input += o.cached_input;
  output += o.output;
  reasoning += o.reasoning;
  cost_nanos += o.cost_nanos;
  unpriced += o.unpriced;
}

int64_t TopN(const StatsQuery& query) { return std::clamp(query.top_n, 1, 100); }

void FoldHourBuckets(Stats* stats) {
  for (const VolumeBucket& b : stats->per_hour) {
    stats->interactions += b.interactions;
    stats->tool_calls += b.tool_calls;
    stats->tool_failures += b.tool_failures;
    stats->usage.Add(b.usage);
    const int64_t day = FloorTo(b.start_us, kDayUs);
    if (stats->per_day.empty() || stats->per_day.back().start_us != day) {
      stats->per_day.push_back(VolumeBucket{day, 0, 0, 0});
    }
    VolumeBucket& d = stats->per_day.back();
    d.interactions += b.interactions;
    d.tool_calls += b.tool_calls;
    d.tool_failures += b.tool_failures;
    d.usage.Add(b.usage);
  }
  std::vector<VolumeBucket>& hours = stats->per_hour;
  if (hours.size() > kMaxHourBuckets) hours.erase(hours.begin(), hours.end() - kMaxHourBuckets);
}

void MergeUsageHours(const std::vector<std::pair<int64_t, UsageTotals>>& hours, Stats* stats) {
  std::vector<VolumeBucket>& buckets = stats->per_hour;
  size_t at = 0;
  for (const auto& [hour, usage] : hours) {
    while (at < buckets.size() && buckets[at].start_us < hour) ++at;
    if (at == buckets.size() || buckets[at].start_us != hour) {
      buckets.insert(buckets.begin() + static_cast<std::ptrdiff_t>(at), VolumeBucket{hour});
    }
    buckets[at].usage.Add(usage);
  }
}

void RequestTally::Add(std::string_view user_message) {
  ++sampled_;
  std::string key = NormalizeRequest(user_message);
  if (!key.empty()) ++counts_[std::move(key)];
}

void RequestTally::Finish(int64_t top, Stats* stats) && {
  std::vector<RequestCount> all;
  all.reserve(counts_.size());
  for (auto& [text, n] : counts_) all.push_back(RequestCount{text, n});
  const size_t keep = std::min<size_t>(all.size(), static_cast<size_t>(top));
  std::partial_sort(all.begin(), all.begin() + keep, all.end(), [](const auto& a, const auto& b) {
    return a.count != b.count ? a.count > b.count : a.text < b.text;
  });
  all.resize(keep);
  stats->requests_sampled = sampled_;
  stats->top_requests = std::move(all);
}

}  // namespace omniflow
