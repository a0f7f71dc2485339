#include "core/ids.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace omniflow {
namespace {

class FixedClock : public Clock {
 public:
  explicit FixedClock(int64_t us) : us_(us) {}
  int64_t NowMicros() override { return us_; }
  int64_t us_;
};

TEST(Ids, FormatsTimestampAndIdFromTheSameMicrosecond) {
  // 2025-12-11T13:05:30.123456Z
  int64_t ts = 1765458330123456;
  EXPECT_EQ(FormatTimestamp(ts), "2025-12-11T13:05:30.123456Z");
  EXPECT_EQ(FormatInteractionId(ts), "INT_20251211_130530_123456");
}

TEST(Ids, FormatsMatchStrftimeAcrossTheYears) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    // From 1970 to 9999, microseconds included, plus the edges.
    int64_t ts = i == 0 ? 0 : i == 1 ? 253402300799999999 : static_cast<int64_t>(rng() % 253402300800000000);
    time_t secs = static_cast<time_t>(ts / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char date[32], want_ts[48], want_id[48];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(want_ts, sizeof want_ts, "%s.%06dZ", date, static_cast<int>(ts % 1000000));
    std::strftime(date, sizeof date, "%Y%m%d_%H%M%S", &tm);
    std::snprintf(want_id, sizeof want_id, "INT_%s_%06d", date, static_cast<int>(ts % 1000000));
    ASSERT_EQ(FormatTimestamp(ts), want_ts) << ts;
    ASSERT_EQ(FormatInteractionId(ts), want_id) << ts;
    int64_t back = -1;
    ASSERT_TRUE(ParseTimestamp(want_ts, &back));
    ASSERT_EQ(back, ts);
  }
}

TEST(Ids, ParseTimestampRoundTrips) {
  int64_t ts = 0;
  ASSERT_TRUE(ParseTimestamp("2025-12-11T13:05:30.123456Z", &ts));
  EXPECT_EQ(ts, 1765458330123456);
  ASSERT_TRUE(ParseTimestamp("2025-12-11T13:05:30Z", &ts));
  EXPECT_EQ(ts, 1765458330000000);
  ASSERT_TRUE(ParseTimestamp("2025-12-11T13:05:30.5+00:00", &ts));
  EXPECT_EQ(ts, 1765458330500000);
}

TEST(Ids, ParseTimestampRejectsMalformed) {
  int64_t ts = 0;
  for (const char* bad : {"", "2025-12-11", "2025-13-11T13:05:30Z", "2025-12-11T13:05:30",
                          "2025-12-11T13:05:30.Z", "2025-12-11T13:05:30+02:00", "x025-12-11T13:05:30Z"}) {
    EXPECT_FALSE(ParseTimestamp(bad, &ts)) << bad;
  }
}

TEST(IdGenerator, SameMicrosecondStillGivesUniqueIncreasingIds) {
  FixedClock clock(1765458330123456);
  IdGenerator ids(&clock);
  Stamp a = ids.Next(), b = ids.Next(), c = ids.Next();
  EXPECT_LT(a.ts_us, b.ts_us);
  EXPECT_LT(b.ts_us, c.ts_us);
  EXPECT_LT(a.interaction_id, b.interaction_id);
  EXPECT_LT(b.interaction_id, c.interaction_id);
}

TEST(IdGenerator, ClockGoingBackwardsNeverRepeatsAnId) {
  FixedClock clock(2000000);
  IdGenerator ids(&clock);
  Stamp a = ids.Next();
  clock.us_ = 1000000;
  Stamp b = ids.Next();
  EXPECT_GT(b.ts_us, a.ts_us);
}

TEST(IdGenerator, ConcurrentCallersGetDistinctIds) {
  IdGenerator ids(Clock::Real());
  std::vector<std::vector<std::string>> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) got[t].push_back(ids.Next().interaction_id);
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (auto& v : got) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 20000u);
}

TEST(IdGenerator, SlotsNeverCollideAcrossProcessesOnTheSameClock) {
  // Two "processes" (generators) with slots 3 and 7 of 16, same pinned clock.
  FixedClock clock(1765458330123456);
  IdGenerator a(&clock, 3, 16), b(&clock, 7, 16);
  std::set<std::string> seen;
  int64_t last_a = 0;
  for (int i = 0; i < 1000; ++i) {
    Stamp sa = a.Next(), sb = b.Next();
    EXPECT_EQ(sa.ts_us % 16, 3);
    EXPECT_EQ(sb.ts_us % 16, 7);
    EXPECT_GT(sa.ts_us, last_a);
    last_a = sa.ts_us;
    EXPECT_TRUE(seen.insert(sa.interaction_id).second) << sa.interaction_id;
    EXPECT_TRUE(seen.insert(sb.interaction_id).second) << sb.interaction_id;
  }
  // Within one slot the id stays within a slot's width of the clock.
  FixedClock later(1765458331000000);
  IdGenerator c(&later, 15, 16);
  Stamp sc = c.Next();
  EXPECT_GE(sc.ts_us, later.us_);
  EXPECT_LT(sc.ts_us, later.us_ + 16);
}

TEST(Ids, TimestampOfInteractionIdAcceptsSuffixRejectsGarbage) {
  int64_t ts = 0;
  ASSERT_TRUE(TimestampOfInteractionId("INT_20251211_130530_123456", &ts));
  EXPECT_EQ(ts, 1765458330123456);
  ASSERT_TRUE(TimestampOfInteractionId("INT_20251211_130530_123456_2", &ts));
  EXPECT_EQ(ts, 1765458330123456);
  for (const char* bad : {"", "INT_", "INT_20251211_130530_12345", "INT_20251211-130530_123456",
                          "INT_20251211_130530_123456x2", "XYZ_20251211_130530_123456"}) {
    EXPECT_FALSE(TimestampOfInteractionId(bad, &ts)) << bad;
  }
}

}  // namespace
}  // namespace omniflow
