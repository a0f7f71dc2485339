#include "store/analytics_text.h"

#include <gtest/gtest.h>

namespace omniflow {
namespace {

TEST(NormalizeRequest, LowercasesCollapsesSpaceAndTrimsPunctuation) {
  EXPECT_EQ(NormalizeRequest("  What   tasks do I\thave?  "), "what tasks do i have");
  EXPECT_EQ(NormalizeRequest("Hello!!!"), "hello");
  EXPECT_EQ(NormalizeRequest("今日の予定を教えてください。"), "今日の予定を教えてください");
  EXPECT_EQ(NormalizeRequest("Какие задачи?"), "Какие задачи");  // only ASCII is folded
}

TEST(NormalizeRequest, TruncatesOnCharacterBoundaries) {
  EXPECT_EQ(NormalizeRequest("東京東京東京", 4), "東京東京");
  EXPECT_EQ(NormalizeRequest("abcdef", 3), "abc");
}

TEST(TruncateUtf8, NeverSplitsACharacter) {
  EXPECT_EQ(TruncateUtf8("مرحبا", 2), "مر");
  EXPECT_EQ(TruncateUtf8("ab", 5), "ab");
  EXPECT_EQ(Utf8Length("日本語"), 3u);
}

TEST(SearchTerms, SplitsOnWhitespaceAndDropsEmptyTerms) {
  std::vector<std::string> terms = SearchTerms("  weather   東京 \t x ");
  ASSERT_EQ(terms.size(), 3u);
  EXPECT_EQ(terms[0], "weather");
  EXPECT_EQ(terms[1], "東京");
  EXPECT_EQ(terms[2], "x");
  EXPECT_TRUE(SearchTerms("   ").empty());
}

TEST(CheckSearchText, RefusesTextLongerThanTheLimit) {
  EXPECT_TRUE(CheckSearchText(std::string(kMaxSearchBytes, 'a')).ok());
  Status s = CheckSearchText(std::string(kMaxSearchBytes + 1, 'a'));
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "q is longer than 512 bytes");
}

}  // namespace
}  // namespace omniflow
