#include "core/prices.h"

#include <gtest/gtest.h>

namespace omniflow {
namespace {

PriceTable Table(const std::string& json) {
  Result<PriceTable> t = PriceTable::Parse(json, "p.json");
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? std::move(*t) : PriceTable();
}

std::string Error(const std::string& json) {
  Result<PriceTable> t = PriceTable::Parse(json, "p.json");
  return t.ok() ? "" : t.status().message();
}

constexpr char kTable[] = R"({"as_of":"2026-12-01","currency":"USD","models":{
  "m":{"input":2,"cached_input":0.5,"output":10,"reasoning":20},
  "plain":{"input":1,"output":4}}})";

TEST(Prices, CostFollowsTheFormula) {
  PriceTable t = Table(kTable);
  // (1000-400)*2 + 400*0.5 + (500-100)*10 + 100*20 = 1200+200+4000+2000 = 7400 per 1e6 tokens.
  EXPECT_EQ(CostNanos(TokenUsage{1000, 400, 500, 100}, *t.Find("m")), 7'400'000);
}

TEST(Prices, CachedTokensAreNotChargedTwice) {
  PriceTable t = Table(kTable);
  // All 1000 input tokens cached: 1000 * 0.5, not 1000 * 2 + 1000 * 0.5.
  EXPECT_EQ(CostNanos(TokenUsage{1000, 1000, 0, 0}, *t.Find("m")), 500'000);
}

TEST(Prices, ReasoningTokensArePriced) {
  PriceTable t = Table(kTable);
  // Only reasoning output: priced at the reasoning price, not free.
  EXPECT_EQ(CostNanos(TokenUsage{0, 0, 100, 100}, *t.Find("m")), 2'000'000);
  // No reasoning price: the output price.
  EXPECT_EQ(CostNanos(TokenUsage{0, 0, 100, 100}, *t.Find("plain")), 400'000);
}

TEST(Prices, MissingCachedPriceFallsBackToInput) {
  PriceTable t = Table(kTable);
  const ModelPrice* p = t.Find("plain");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->cached_input, 1);
  EXPECT_EQ(p->reasoning, 4);
  EXPECT_EQ(CostNanos(TokenUsage{100, 50, 0, 0}, *p), 100'000);
}

TEST(Prices, UnknownModelHasNoCost) {
  PriceTable t = Table(kTable);
  EXPECT_FALSE(CostNanos(TokenUsage{1, 0, 1, 0}, "other", t));
  EXPECT_FALSE(CostNanos(TokenUsage{1, 0, 1, 0}, "", t));
  EXPECT_TRUE(CostNanos(TokenUsage{1, 0, 1, 0}, "m", t));
}

TEST(Prices, DatedSnapshotsFindTheirModel) {
  PriceTable t = Table(kTable);
  EXPECT_EQ(t.Find("m-2024-08-06"), t.Find("m"));
  EXPECT_EQ(t.Find("m-20240806"), t.Find("m"));
  EXPECT_EQ(t.Find("m-latest"), nullptr);
  EXPECT_EQ(t.Find("m-2024-08"), nullptr);
  EXPECT_EQ(t.Find("mx-2024-08-06"), nullptr);
  EXPECT_EQ(t.Find("plain-mini"), nullptr);  // never a prefix match of another model
}

TEST(Prices, RejectsBadFilesWithReasons) {
  EXPECT_EQ(Error("{"), Error("{"));
  EXPECT_NE(Error("{").find("p.json: not valid JSON"), std::string::npos);
  EXPECT_NE(Error(R"({"currency":"USD","models":{}})").find("p.json: as_of"), std::string::npos);
  EXPECT_NE(Error(R"({"as_of":"2026-1-1","currency":"USD","models":{}})").find("as_of"),
            std::string::npos);
  EXPECT_NE(Error(R"({"as_of":"2026-12-01","currency":"EUR","models":{}})").find("currency"),
            std::string::npos);
  EXPECT_NE(Error(R"({"as_of":"2026-12-01","currency":"USD"})").find("models"), std::string::npos);
  EXPECT_NE(Error(R"({"as_of":"2026-12-01","currency":"USD","models":{"m":{"input":1}}})")
                .find("models.m: input and output prices are required"),
            std::string::npos);
  EXPECT_NE(
      Error(R"({"as_of":"2026-12-01","currency":"USD","models":{"m":{"input":-1,"output":1}}})")
          .find("models.m.input: must be a number"),
      std::string::npos);
  EXPECT_NE(
      Error(R"({"as_of":"2026-12-01","currency":"USD","models":{"m":{"input":"1","output":1}}})")
          .find("models.m.input"),
      std::string::npos);
  EXPECT_NE(
      Error(
          R"({"as_of":"2026-12-01","currency":"USD","models":{"m":{"input":1,"output":1,"cache":1}}})")
          .find("models.m.cache: unknown price"),
      std::string::npos);
  EXPECT_NE(
      Error(R"({"as_of":"2026-12-01","currency":"USD","models":{"m":{"input":1,"output":1e9}}})")
          .find("models.m.output"),
      std::string::npos);
}

TEST(Prices, LoadNamesTheFile) {
  Result<PriceTable> t = PriceTable::Load("/nonexistent/prices.json");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("/nonexistent/prices.json"), std::string::npos);
}

TEST(Prices, DefaultTableParsesAndSaysItsDate) {
  const PriceTable& t = PriceTable::Default();
  EXPECT_EQ(t.as_of(), "2026-12-01");
  EXPECT_EQ(t.currency(), "USD");
  EXPECT_GE(t.size(), 3u);
  const ModelPrice* p = t.Find("gpt-4o-2024-08-06");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->input, 2.5);
  EXPECT_EQ(p->cached_input, 1.25);
  EXPECT_EQ(p->output, 10);
  EXPECT_EQ(p->reasoning, 10);
}

TEST(Prices, HugeCountsAreCapped) {
  PriceTable t = Table(kTable);
  EXPECT_EQ(CostNanos(TokenUsage{int64_t{1} << 52, 0, int64_t{1} << 52, 0}, *t.Find("m")),
            1'000'000'000'000'000);
}

}  // namespace
}  // namespace omniflow
