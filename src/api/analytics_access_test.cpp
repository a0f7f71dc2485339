#include "api/analytics_access.h"

#include <gtest/gtest.h>

namespace omniflow::api {
namespace {

QueryParams Parse(const char* text) {
  Result<QueryParams> q = QueryParams::Parse(text);
  EXPECT_TRUE(q.ok());
  return q.ok() ? *q : QueryParams();
}

TEST(ScopedUser, AdminMayNameAnyoneOrNobody) {
  Caller admin;
  admin.all_users = true;
  auto none = ScopedUser(admin, Parse(""));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto bob = ScopedUser(admin, Parse("user_id=bob"));
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(**bob, "bob");
  EXPECT_EQ(ScopedUser(admin, Parse("user_id=.hidden")).status().code(),
            Status::Code::kInvalidArgument);
}

TEST(ScopedUser, UserSeesOnlyThemselves) {
  Caller alice;
  alice.user_id = "alice";
  auto own = ScopedUser(alice, Parse(""));
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(**own, "alice");
  EXPECT_TRUE(ScopedUser(alice, Parse("user_id=alice")).ok());
  EXPECT_EQ(ScopedUser(alice, Parse("user_id=bob")).status().code(),
            Status::Code::kPermissionDenied);
}

TEST(TimeScope, AcceptsTimestampsAndDatesAndRejectsTheRest) {
  auto scope = TimeScope(Parse("from=2025-12-01&to=2025-12-01T12:00:00.5Z"));
  ASSERT_TRUE(scope.ok()) << scope.status().message();
  EXPECT_EQ(*scope->from_us, 1764547200000000);
  EXPECT_EQ(*scope->to_us, 1764547200000000 + 12 * 3600000000LL + 500000);
  EXPECT_FALSE(TimeScope(Parse("from=yesterday")).ok());
  EXPECT_FALSE(TimeScope(Parse("to=2025-13-01")).ok());
  EXPECT_FALSE(TimeScope(Parse("from=2025-12-02&to=2025-12-01")).ok());
  auto empty = TimeScope(Parse(""));
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->from_us.has_value());
}

TEST(AnalyticsCursor, RoundTripsAndRejectsForgeries) {
  HistoryCursor cursor{1764547200123456, "INT_20251201_000000_123456_2"};
  auto back = DecodeCursor(EncodeCursor(cursor));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ts_us, cursor.ts_us);
  EXPECT_EQ(back->interaction_id, cursor.interaction_id);
  for (const char* bad : {"", "garbage", "YTF8MXw=", "YTF8MTIzfElOVF8x", "djF8MTIzfA", "djF8eHx8SU5UXzE"}) {
    EXPECT_FALSE(DecodeCursor(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace omniflow::api
