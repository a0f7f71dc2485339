#include "store/postgres/pg_conn.h"

#include <gtest/gtest.h>

namespace omniflow::pg {
namespace {

TEST(PgArrayLiteral, QuotesEscapesAndNulls) {
  ArrayLiteral a;
  a.Add("plain");
  a.Add(R"({"q":"a \"b\" \\ c"})");
  a.AddNull();
  a.Add(std::string_view(""));
  a.Add(int64_t{-42});
  EXPECT_EQ(std::move(a).Take(), R"({"plain","{\"q\":\"a \\\"b\\\" \\\\ c\"}",NULL,"",-42})");
}

TEST(PgArrayLiteral, EmptyArray) { EXPECT_EQ(ArrayLiteral().Take(), "{}"); }

TEST(PgUrl, RedactsPasswordsAndRecognisesSchemes) {
  EXPECT_EQ(RedactUrl("postgresql://app:s3cret@db:5432/omniflow"), "postgresql://app@db:5432/omniflow");
  EXPECT_EQ(RedactUrl("postgres://app@db/omniflow"), "postgres://app@db/omniflow");
  EXPECT_EQ(RedactUrl("postgresql://db/omniflow?password=s3cret&sslmode=require"),
            "postgresql://db/omniflow?password=***");
  EXPECT_TRUE(IsPostgresUrl("postgresql://x"));
  EXPECT_TRUE(IsPostgresUrl("postgres://x"));
  EXPECT_FALSE(IsPostgresUrl("sqlite:/data"));
  EXPECT_FALSE(IsPostgresUrl("mysql://x"));
}

}  // namespace
}  // namespace omniflow::pg
