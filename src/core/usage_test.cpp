#include "core/usage.h"

#include <gtest/gtest.h>

#include <string>

namespace omniflow {
namespace {

std::optional<TokenUsage> Usage(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element e = parser.parse(json).value();
  return ParseUsage(e);
}

TEST(Usage, ReadsOpenAiChatNames) {
  auto u = Usage(R"({"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,
      "prompt_tokens_details":{"cached_tokens":300},
      "completion_tokens_details":{"reasoning_tokens":200}})");
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, (TokenUsage{1000, 300, 500, 200}));
}

TEST(Usage, ReadsResponsesAndGenAiNames) {
  auto u = Usage(R"({"input_tokens":80,"output_tokens":40,
      "input_tokens_details":{"cached_tokens":20},"output_tokens_details":{"reasoning_tokens":10}})");
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, (TokenUsage{80, 20, 40, 10}));
  // What OTLP ingest writes: flat cached and reasoning counts.
  u = Usage(R"({"input_tokens":7,"output_tokens":5,"cached_input_tokens":3,"reasoning_tokens":2})");
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, (TokenUsage{7, 3, 5, 2}));
}

TEST(Usage, CachedIsPartOfInputAndNeverAddedToIt) {
  // The double-counting bug: cached tokens are inside prompt_tokens, not on top of them.
  auto u = Usage(R"({"prompt_tokens":100,"completion_tokens":1,
      "prompt_tokens_details":{"cached_tokens":60}})");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->input, 100);
  EXPECT_EQ(u->cached_input, 60);
}

TEST(Usage, ClampsPartsToTheirWhole) {
  auto u = Usage(R"({"prompt_tokens":10,"completion_tokens":5,"cached_input_tokens":50,
      "reasoning_tokens":9})");
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, (TokenUsage{10, 10, 5, 5}));
}

TEST(Usage, IgnoresCountsThatAreNotNonNegativeIntegers) {
  auto u = Usage(R"({"prompt_tokens":-5,"completion_tokens":7,"cached_input_tokens":1.5,
      "reasoning_tokens":"3"})");
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, (TokenUsage{0, 0, 7, 0}));
  u = Usage(R"({"prompt_tokens":12.0,"completion_tokens":18446744073709551615})");
  EXPECT_FALSE(u);
  u = Usage(R"({"input_tokens":9007199254740992,"output_tokens":1})");  // 2^53
  ASSERT_TRUE(u);
  EXPECT_EQ(u->input, 0);
}

TEST(Usage, NothingWithoutInputOrOutput) {
  EXPECT_FALSE(Usage(R"({"total_tokens":10})"));
  EXPECT_FALSE(Usage(R"({})"));
  EXPECT_FALSE(Usage(R"([1,2])"));
  EXPECT_FALSE(Usage(R"(12)"));
}

TEST(Usage, FirstNameWins) {
  auto u = Usage(R"({"input_tokens":5,"prompt_tokens":9,"output_tokens":1})");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->input, 5);
}

TEST(Usage, MetadataGivesModelAndUsage) {
  simdjson::dom::parser parser;
  auto r = UsageOfMetadata(
      parser
          .parse(std::string(
              R"({"model":"gpt-4o","usage":{"prompt_tokens":3,"completion_tokens":4}})"))
          .value());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->model, "gpt-4o");
  EXPECT_EQ(r->tokens, (TokenUsage{3, 0, 4, 0}));
  r = UsageOfMetadata(
      parser.parse(std::string(R"({"model":7,"usage":{"output_tokens":4}})")).value());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->model, "");
  r = UsageOfMetadata(
      parser.parse(R"({"model":")" + std::string(129, 'm') + R"(","usage":{"output_tokens":4}})")
          .value());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->model, "");
  EXPECT_FALSE(UsageOfMetadata(parser.parse(std::string(R"({"model":"gpt-4o"})")).value()));
}

}  // namespace
}  // namespace omniflow
