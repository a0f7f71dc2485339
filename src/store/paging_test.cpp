#include "store/paging.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace omniflow {
namespace {

struct Item {
  std::string position;
};
struct Page {
  std::vector<Item> items;
  bool has_more = false;
  std::optional<std::string> next;
};

// Reads `rows` one at a time into a page of `limit`, as the SQLite stores do.
Page Stepped(const std::vector<std::string>& rows, int limit) {
  Page page;
  for (const std::string& row : rows) {
    if (PageIsFull(page.items.size(), limit, &page.has_more)) break;
    page.items.push_back(Item{row});
  }
  SetNextFromLastItem(&page);
  return page;
}

// Reads `rows` all at once into a page of `limit`, as the PostgreSQL stores do.
Page AtOnce(const std::vector<std::string>& rows, int limit) {
  Page page;
  const int n = RowsOnPage(static_cast<int>(rows.size()), limit, &page.has_more);
  for (int i = 0; i < n; ++i) page.items.push_back(Item{rows[static_cast<size_t>(i)]});
  SetNextFromLastItem(&page);
  return page;
}

TEST(Paging, FetchesOneRowMoreThanThePage) {
  EXPECT_EQ(FetchLimit(1), 2);
  EXPECT_EQ(FetchLimit(1000), 1001);
  EXPECT_EQ(FetchLimit(2147483647), int64_t{2147483648});
}

TEST(Paging, TheExtraRowIsDroppedAndSaysMoreFollow) {
  for (auto read : {Stepped, AtOnce}) {
    Page page = read({"a", "b", "c"}, 2);
    ASSERT_EQ(page.items.size(), 2u);
    EXPECT_EQ(page.items.back().position, "b");
    EXPECT_TRUE(page.has_more);
    EXPECT_EQ(page.next, "b");
  }
}

TEST(Paging, AShortOrExactPageHasNoMoreAndNoNext) {
  for (auto read : {Stepped, AtOnce}) {
    for (const std::vector<std::string>& rows :
         {std::vector<std::string>{}, std::vector<std::string>{"a"},
          std::vector<std::string>{"a", "b"}}) {
      Page page = read(rows, 2);
      EXPECT_EQ(page.items.size(), rows.size());
      EXPECT_FALSE(page.has_more);
      EXPECT_FALSE(page.next.has_value());
    }
  }
}

TEST(Paging, OffsetPagesKnowFromTheTotal) {
  EXPECT_TRUE(MoreAfterOffset(0, 2, 3));
  EXPECT_FALSE(MoreAfterOffset(1, 2, 3));
  EXPECT_FALSE(MoreAfterOffset(5, 0, 3));  // past the end
  EXPECT_FALSE(MoreAfterOffset(0, 0, 0));
}

}  // namespace
}  // namespace omniflow
