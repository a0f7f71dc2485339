#include "core/query.h"

#include <gtest/gtest.h>

namespace omniflow {
namespace {

TEST(QueryParams, DecodesPercentAndPlus) {
  auto q = QueryParams::Parse("thread_id=a%3Ab&x=hello+world&empty=");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q->Get("thread_id"), "a:b");
  EXPECT_EQ(*q->Get("x"), "hello world");
  EXPECT_EQ(*q->Get("empty"), "");
  EXPECT_FALSE(q->Get("missing"));
}

TEST(QueryParams, RejectsMalformedEscapes) {
  for (const char* bad : {"a=%", "a=%4", "a=%zz", "%g1=1"}) {
    EXPECT_FALSE(QueryParams::Parse(bad).ok()) << bad;
  }
}

TEST(QueryParams, RejectsRepeatedNames) {
  auto q = QueryParams::Parse("limit=1&limit=2");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.status().message().find("limit"), std::string::npos);
}

TEST(QueryParams, GetIntAcceptsOnlyPlainDigitsInRange) {
  auto q = QueryParams::Parse("a=10&b=0&c=1001&d=-1&e=1e2&f=+5&g=5.0&h=%2010&i=&j=99999999999999999999");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q->GetInt("a", 1, 1000, 50), 10);
  EXPECT_EQ(*q->GetInt("missing", 1, 1000, 50), 50);
  EXPECT_FALSE(q->GetInt("b", 1, 1000, 50).ok());
  EXPECT_FALSE(q->GetInt("c", 1, 1000, 50).ok());
  for (const char* name : {"d", "e", "f", "g", "h", "i", "j"}) {
    EXPECT_FALSE(q->GetInt(name, 0, 1000, 0).ok()) << name;
  }
}

TEST(QueryParams, RejectsLimitAboveMaxWithMessageNamingIt) {
  auto q = QueryParams::Parse("limit=5000");
  auto v = q->GetInt("limit", 1, 1000, 50);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(), "limit must be an integer from 1 to 1000");
}

}  // namespace
}  // namespace omniflow

namespace omniflow {
namespace {

TEST(QueryParams, RejectsControlCharactersInNamesAndValues) {
  for (const char* query : {"q=%00weather", "q=a%0Ab", "q=%7F", "q%09=1", "q=a%1fb"}) {
    Result<QueryParams> p = QueryParams::Parse(query);
    ASSERT_FALSE(p.ok()) << query;
    EXPECT_EQ(p.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(p.status().message().find("control characters"), std::string::npos);
  }
  // Tabs and non-ASCII text that are not control characters pass.
  Result<QueryParams> ok = QueryParams::Parse("q=%E5%A4%A9%E6%B0%97+today");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok->Get("q"), "天気 today");
}

TEST(QueryParams, FromPairsKeepsDecodedValuesAndRefusesControlsAndRepeats) {
  Result<QueryParams> p = QueryParams::FromPairs({{"q", "50% & more"}, {"status", "failed"}});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p->Get("q"), "50% & more");
  EXPECT_EQ(*p->Get("status"), "failed");
  EXPECT_FALSE(QueryParams::FromPairs({{"q", "a\nb"}}).ok());
  EXPECT_FALSE(QueryParams::FromPairs({{"q", "a"}, {"q", "b"}}).ok());
}

}  // namespace
}  // namespace omniflow
