// PostgresAnalyticsStore against a real PostgreSQL (ctest's pg.* pass): what is PostgreSQL's own
// (hostile content in text columns); the engine-neutral promises are in store_contract_test.cpp.
#include "store/postgres/postgres_analytics_store.h"

#include <gtest/gtest.h>

#include "core/ids.h"
#include "store/postgres/pg_test_db.h"
#include "store/database.h"

namespace omniflow {
namespace {

class PostgresAnalyticsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!db_.configured()) GTEST_SKIP() << "set OMNIFLOW_TEST_STORE (ctest's pg.* tests do)";
    ASSERT_TRUE(db_.error().empty()) << db_.error();
    options_.url = db_.url();
    auto database = Database::Open(options_);
    ASSERT_TRUE(database.ok()) << database.status().message();
    database_ = std::move(*database);
    store_ = &database_->interactions();
    analytics_ = &database_->analytics();
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
  std::unique_ptr<Database> database_;
  InteractionStore* store_ = nullptr;    // database_'s
  AnalyticsStore* analytics_ = nullptr;  // database_'s
};

// PostgreSQL text cannot hold a NUL character: a body with an escaped \u0000 is stored and found.
// Search across scripts, wildcards taken literally and scoping are in
// src/store/store_contract_test.cpp.
TEST_F(PostgresAnalyticsTest, SearchToleratesAnEscapedNulInTheBody) {
  const int64_t t = 1765458330000000;
  Save("bob", t, "nul \\u0000 inside", "ok");
  Save("bob", t + 1, "other", "ok");
  EXPECT_EQ(Found("inside"), std::vector<std::string>{FormatInteractionId(t)});
}

}  // namespace
}  // namespace omniflow
