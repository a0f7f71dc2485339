// PostgresAnalyticsStore against a real PostgreSQL (ctest's pg.* pass): substring search in
// several scripts, with LIKE's wildcards taken literally and hostile content tolerated.
#include "store/postgres/postgres_analytics_store.h"

#include <gtest/gtest.h>

#include "core/ids.h"
#include "store/postgres/pg_test_db.h"
#include "store/postgres/postgres_store.h"

namespace omniflow {
namespace {

class PostgresAnalyticsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!db_.configured()) GTEST_SKIP() << "set OMNIFLOW_TEST_STORE (ctest's pg.* tests do)";
    ASSERT_TRUE(db_.error().empty()) << db_.error();
    options_.url = db_.url();
    auto store = PostgresStore::Open(options_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    auto analytics = PostgresAnalyticsStore::Open(options_);
    ASSERT_TRUE(analytics.ok()) << analytics.status().message();
    analytics_ = std::move(*analytics);
  }
  void Save(const std::string& user, int64_t ts, const std::string& message, const std::string& answer) {
    InteractionRecord r;
    r.user_id = user;
    r.ts_us = ts;
    r.interaction_id = FormatInteractionId(ts);
    r.json = "{\"interaction_id\":\"" + r.interaction_id + "\",\"user_message\":\"" + message +
             "\",\"assistant_response\":\"" + answer + "\",\"tool_calls\":[]}";
    ASSERT_TRUE(store_->Append(std::vector<InteractionRecord>{r}).ok());
  }
  std::vector<std::string> Found(const std::string& q, std::optional<std::string> user = std::nullopt) {
    SearchQuery query;
    query.q = q;
    query.scope.user_id = user;
    auto page = analytics_->Search(query);
    EXPECT_TRUE(page.ok()) << page.status().message();
    std::vector<std::string> ids;
    if (page.ok()) {
      for (const auto& item : page->items) ids.push_back(item.position.interaction_id);
    }
    return ids;
  }

  pg::TestDatabase db_{::testing::UnitTest::GetInstance()->current_test_info()->name()};
  StoreOptions options_;
  std::unique_ptr<PostgresStore> store_;
  std::unique_ptr<PostgresAnalyticsStore> analytics_;
};

TEST_F(PostgresAnalyticsTest, SearchFindsSubstringsInAnyScriptAndTakesWildcardsLiterally) {
  const int64_t t = 1765458330000000;
  Save("alice", t, "Weather in Tokyo?", "Sunny");
  Save("alice", t + 1, "東京の天気は？", "晴れ");
  Save("bob", t + 2, "Мои задачи", "Две задачи: 50% done_x");
  Save("bob", t + 3, "nul \\u0000 inside", "ok");
  const std::vector<std::pair<std::string, std::optional<std::string>>> cases = {
      {"WEATHER", std::nullopt}, {"東京", std::nullopt}, {"東京の天気", std::string("alice")},
      {"задачи", std::nullopt}, {"50%", std::nullopt}, {"done_x", std::nullopt},
      {"inside", std::nullopt}, {"tokyo sunny", std::nullopt}, {"nothing", std::nullopt}};
  std::vector<std::vector<std::string>> before;
  for (const auto& [q, user] : cases) before.push_back(Found(q, user));
  EXPECT_EQ(before[0], std::vector<std::string>{FormatInteractionId(t)});
  EXPECT_EQ(before[1], std::vector<std::string>{FormatInteractionId(t + 1)});
  EXPECT_EQ(before[3], std::vector<std::string>{FormatInteractionId(t + 2)});
  EXPECT_EQ(before[4], std::vector<std::string>{FormatInteractionId(t + 2)});  // % is literal
  EXPECT_EQ(before[7], std::vector<std::string>{FormatInteractionId(t)});      // both fields
  EXPECT_TRUE(before[8].empty());

  EXPECT_EQ(before[5], std::vector<std::string>{FormatInteractionId(t + 2)});  // _ is literal
  EXPECT_EQ(before[6], std::vector<std::string>{FormatInteractionId(t + 3)});  // \u0000 row
  EXPECT_EQ(before[2], std::vector<std::string>{FormatInteractionId(t + 1)});
  EXPECT_TRUE(Found("東京", std::string("bob")).empty());  // scoped to bob: none of alice's
}

}  // namespace
}  // namespace omniflow
