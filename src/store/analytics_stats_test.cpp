#include "store/analytics_stats.h"

#include <gtest/gtest.h>

namespace omniflow {
namespace {

constexpr int64_t kDay0 = 20'000 * kDayUs;  // a UTC midnight

TEST(FloorTo, RoundsTowardsThePastForNegativeTimesToo) {
  EXPECT_EQ(FloorTo(kDay0 + 5 * kHourUs + 7, kHourUs), kDay0 + 5 * kHourUs);
  EXPECT_EQ(FloorTo(kDay0 + 23 * kHourUs, kDayUs), kDay0);
  EXPECT_EQ(FloorTo(-1, kHourUs), -kHourUs);
  EXPECT_EQ(FloorTo(-kHourUs, kHourUs), -kHourUs);
}

TEST(FoldHourBuckets, SumsHoursIntoTheirUtcDaysAndTheTotals) {
  Stats stats;
  stats.per_hour = {{kDay0 + 1 * kHourUs, 2, 3, 1},
                    {kDay0 + 23 * kHourUs, 1, 0, 0},
                    {kDay0 + kDayUs, 4, 1, 1},
                    {kDay0 + 3 * kDayUs + 5 * kHourUs, 1, 1, 0}};
  FoldHourBuckets(&stats);
  EXPECT_EQ(stats.interactions, 8);
  EXPECT_EQ(stats.tool_calls, 5);
  EXPECT_EQ(stats.tool_failures, 2);
  ASSERT_EQ(stats.per_day.size(), 3u);  // days without activity are omitted
  EXPECT_EQ(stats.per_day[0].start_us, kDay0);
  EXPECT_EQ(stats.per_day[0].interactions, 3);
  EXPECT_EQ(stats.per_day[0].tool_calls, 3);
  EXPECT_EQ(stats.per_day[0].tool_failures, 1);
  EXPECT_EQ(stats.per_day[1].start_us, kDay0 + kDayUs);
  EXPECT_EQ(stats.per_day[1].interactions, 4);
  EXPECT_EQ(stats.per_day[2].start_us, kDay0 + 3 * kDayUs);
  EXPECT_EQ(stats.per_hour.size(), 4u);
}

TEST(FoldHourBuckets, KeepsTheLatestHoursButCountsThemAll) {
  Stats stats;
  const size_t hours = kMaxHourBuckets + 10;
  for (size_t i = 0; i < hours; ++i) {
    stats.per_hour.push_back(VolumeBucket{kDay0 + static_cast<int64_t>(i) * kHourUs, 1, 0, 0});
  }
  FoldHourBuckets(&stats);
  EXPECT_EQ(stats.interactions, static_cast<int64_t>(hours));
  ASSERT_EQ(stats.per_hour.size(), kMaxHourBuckets);
  EXPECT_EQ(stats.per_hour.front().start_us, kDay0 + 10 * kHourUs);
  EXPECT_EQ(stats.per_hour.back().start_us, kDay0 + static_cast<int64_t>(hours - 1) * kHourUs);
  int64_t in_days = 0;
  for (const VolumeBucket& d : stats.per_day) in_days += d.interactions;
  EXPECT_EQ(in_days, static_cast<int64_t>(hours));
}

UsageTotals Usage(int64_t n, int64_t input, int64_t cost) {
  UsageTotals u;
  u.interactions = n;
  u.input = input;
  u.cached_input = input / 2;
  u.output = 2 * input;
  u.reasoning = input / 4;
  u.cost_nanos = cost;
  return u;
}

TEST(MergeUsageHours, UsageReachesItsHourTheDaysAndTheTotals) {
  Stats stats;
  stats.per_hour = {{kDay0 + 1 * kHourUs, 2, 0, 0}, {kDay0 + kDayUs, 4, 0, 0}};
  MergeUsageHours({{kDay0 + 1 * kHourUs, Usage(1, 100, 7)},
                   {kDay0 + 2 * kHourUs, Usage(1, 8, 1)},
                   {kDay0 + kDayUs, Usage(3, 40, 5)}},
                  &stats);
  ASSERT_EQ(stats.per_hour.size(), 3u);  // an hour with usage and no volume gets a bucket
  EXPECT_EQ(stats.per_hour[1].start_us, kDay0 + 2 * kHourUs);
  FoldHourBuckets(&stats);
  EXPECT_EQ(stats.usage.interactions, 5);
  EXPECT_EQ(stats.usage.input, 148);
  EXPECT_EQ(stats.usage.cached_input, 50 + 4 + 20);
  EXPECT_EQ(stats.usage.output, 296);
  EXPECT_EQ(stats.usage.cost_nanos, 13);
  ASSERT_EQ(stats.per_day.size(), 2u);
  EXPECT_EQ(stats.per_day[0].usage.input, 108);
  EXPECT_EQ(stats.per_day[0].usage.cost_nanos, 8);
  EXPECT_EQ(stats.per_day[1].usage, Usage(3, 40, 5));
}

TEST(RequestTally, RanksNormalisedRequestsMostFrequentFirstTiesByText) {
  RequestTally tally;
  for (const char* m : {"What is due?", "what  is due", "Hello", "b", "a", "", "   "}) tally.Add(m);
  Stats stats;
  std::move(tally).Finish(3, &stats);
  EXPECT_EQ(stats.requests_sampled, 7);  // empty messages are sampled, not ranked
  ASSERT_EQ(stats.top_requests.size(), 3u);
  EXPECT_EQ(stats.top_requests[0].text, "what is due");
  EXPECT_EQ(stats.top_requests[0].count, 2);
  EXPECT_EQ(stats.top_requests[1].text, "a");
  EXPECT_EQ(stats.top_requests[2].text, "b");
}

TEST(TopN, ClampsToOneToAHundred) {
  StatsQuery q;
  q.top_n = 0;
  EXPECT_EQ(TopN(q), 1);
  q.top_n = 7;
  EXPECT_EQ(TopN(q), 7);
  q.top_n = 1000;
  EXPECT_EQ(TopN(q), 100);
}

}  // namespace
}  // namespace omniflow
