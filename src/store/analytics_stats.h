// The parts of AnalyticsStore::GetStats that do not depend on the engine: hour and day
// buckets, folding hourly volume into days and totals, ranking the sampled requests, and the
// sample sizes and limits every engine applies. Each engine runs its own queries and hands the
// rows to these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/analytics_store.h"

namespace omniflow {

inline constexpr int64_t kHourUs = 3'600'000'000;
inline constexpr int64_t kDayUs = 24 * kHourUs;
// Hourly buckets returned at most (the latest ones in range): 31 days.
inline constexpr size_t kMaxHourBuckets = 31 * 24;
// Recent interactions sampled for top_requests.
inline constexpr int64_t kRequestSample = 5000;
// Recently active threads among which top_threads are chosen.
inline constexpr int64_t kThreadSample = 5000;

// `t` rounded down to a multiple of `unit` (towards the past, negative times included).
constexpr int64_t FloorTo(int64_t t, int64_t unit) { return t - ((t % unit) + unit) % unit; }

// StatsQuery::top_n as every engine applies it: 1..100.
int64_t TopN(const StatsQuery& query);

// Folds `stats->per_hour` (the hours with activity in range, oldest first) into the totals
// (interactions, tool_calls, tool_failures, usage) and `per_day` (UTC days), then keeps only
// the latest kMaxHourBuckets hours in `per_hour`. The totals and days count every hour given.
void FoldHourBuckets(Stats* stats);

// Puts each hour's token usage (`hours`: oldest first) into its `stats->per_hour` bucket, adding
// a bucket for an hour that has none. Call before FoldHourBuckets.
void MergeUsageHours(const std::vector<std::pair<int64_t, UsageTotals>>& hours, Stats* stats);

// Counts sampled user messages by their normalised form (NormalizeRequest), for top_requests.
class RequestTally {
 public:
  // One sampled interaction's user message.
  void Add(std::string_view user_message);
  // Sets stats->requests_sampled and stats->top_requests: the `top` most frequent, most
  // frequent first, ties in text order.
  void Finish(int64_t top, Stats* stats) &&;

 private:
  int64_t sampled_ = 0;
  std::unordered_map<std::string, int64_t> counts_;
};

}  // namespace omniflow
