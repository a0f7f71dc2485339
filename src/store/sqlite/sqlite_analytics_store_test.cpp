#include "store/sqlite/sqlite_analytics_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "core/ids.h"
#include "core/validate.h"
#include "store/database.h"

namespace omniflow {
namespace {

constexpr int64_t kT0 = 1764547200000000;  // 2025-12-01T00:00:00Z

class SqliteAnalyticsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "omniflow-analytics-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    StoreOptions options;
    options.data_dir = dir_;
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(*db);
    store_ = &db_->interactions();
    analytics_ = &db_->analytics();
  }
  void TearDown() override {
    analytics_ = nullptr;
    store_ = nullptr;
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Appends one interaction built from a save body, as the server would.
  std::string Save(const std::string& user, int64_t ts, const std::string& body) {
    Result<SaveRequest> request = ParseSaveRequest(body);
    EXPECT_TRUE(request.ok()) << request.status().message();
    Stamp stamp{ts, FormatInteractionId(ts), FormatTimestamp(ts)};
    InteractionRecord rec = BuildInteraction(stamp, user, std::move(*request), {});
    EXPECT_TRUE(store_->Append({&rec, 1}).ok());
    return stamp.interaction_id;
  }
  std::vector<std::string> SearchIds(SearchQuery q) {
    std::vector<std::string> ids;
    auto page = analytics_->Search(q);
    EXPECT_TRUE(page.ok()) << page.status().message();
    if (page.ok()) {
      for (const auto& item : page->items) ids.push_back(item.position.interaction_id);
    }
    return ids;
  }

  std::string dir_;
  std::unique_ptr<Database> db_;
  InteractionStore* store_ = nullptr;      // db_'s
  AnalyticsStore* analytics_ = nullptr;    // db_'s
};

// Stats, feedback, search (scripts, scope, paging, tool and status filters), users, threads and
// conversations are in src/store/store_contract_test.cpp; what follows is SQLite's own search
// machinery (the recent scan, the trigram index and its indexer).

// A search first looks among the newest rows by time, then turns to the trigram index; results
// must be the same either way, and paging must cross from one to the other without gaps.
TEST_F(SqliteAnalyticsTest, SearchIsExactAcrossTheRecentScanAndTheIndex) {
  std::vector<InteractionRecord> batch;
  for (int i = 0; i < 4300; ++i) {
    std::string body = i == 0      ? R"({"user_message":"the oldest needle","assistant_response":"x"})"
                       : i % 1000 == 1 ? R"({"user_message":"a rare haystack","assistant_response":"x"})"
                                       : R"({"user_message":"common words","assistant_response":"hay"})";
    Result<SaveRequest> request = ParseSaveRequest(body);
    ASSERT_TRUE(request.ok());
    const int64_t ts = kT0 + i;
    batch.push_back(BuildInteraction(Stamp{ts, FormatInteractionId(ts), FormatTimestamp(ts)}, "ann",
                                     std::move(*request), {}));
  }
  ASSERT_TRUE(store_->Append(batch).ok());
  SearchQuery q;
  q.q = "needle";
  EXPECT_EQ(SearchIds(q), std::vector<std::string>{batch[0].interaction_id});
  q.q = "haystack";
  EXPECT_EQ(SearchIds(q).size(), 5u);  // rows 1, 1001, ..., 4001
  q.q = "hay";  // in every row: the first pages come from the recent scan, the last from the index
  q.limit = 200;
  std::vector<std::string> all;
  for (int page = 0; page < 100; ++page) {
    auto result = analytics_->Search(q);
    ASSERT_TRUE(result.ok());
    for (const auto& item : result->items) all.push_back(item.position.interaction_id);
    if (!result->has_more) break;
    q.after = result->next;
  }
  EXPECT_EQ(all.size(), 4299u);  // every row but the needle's
  EXPECT_TRUE(std::is_sorted(all.rbegin(), all.rend()));
}

// The full-text index is fed off the save path: a search is complete before the indexer has
// reached the newest rows, and after it has; CatchUp leaves nothing behind.
TEST_F(SqliteAnalyticsTest, SearchIsCompleteBeforeAndAfterTheIndexerCatchesUp) {
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) {
    ids.push_back(Save("ivy", kT0 + i, R"({"user_message":"お会計をお願いします )" + std::to_string(i) +
                                           R"(","assistant_response":"承知しました"})"));
  }
  SearchQuery q;
  q.q = "お会計";
  q.limit = 100;
  auto before = SearchIds(q);  // the indexer may or may not have run: either way, all 30
  EXPECT_EQ(before.size(), 30u);
  ASSERT_TRUE(store_->CatchUp({}).ok());
  auto lag_db = sqlite::Db::Open(dir_ + "/omniflow.db", SQLITE_OPEN_READONLY);
  ASSERT_TRUE(lag_db.ok());
  auto lag = lag_db->Prepare(
      "SELECT (SELECT count(*) FROM interactions WHERE seq > (SELECT indexed_seq FROM "
      "search_index_progress)), (SELECT count(*) FROM interactions_fts WHERE interactions_fts "
      "MATCH '\"お会計\"')");
  ASSERT_TRUE(lag.ok());
  ASSERT_TRUE(*lag->Step());
  EXPECT_EQ(lag->Int(0), 0) << "rows left unindexed after CatchUp";
  EXPECT_EQ(lag->Int(1), 30) << "the index holds every row";
  auto after = SearchIds(q);
  EXPECT_EQ(after, before);
  EXPECT_EQ(after.front(), ids.back()) << "newest first";
  // New rows after the watermark are found again at once.
  std::string newest = Save("ivy", kT0 + 100, R"({"user_message":"お会計 again","assistant_response":"x"})");
  EXPECT_EQ(SearchIds(q).front(), newest);
}

// Ratings set together commit together: one rating that cannot be set (an interaction that
// does not exist) leaves none of them set; then all of them are set at once.
TEST_F(SqliteAnalyticsTest, RatingsSetTogetherCommitAllOrNone) {
  const std::string a = Save("ann", 1765458330000001, R"({"user_message":"a","assistant_response":"b"})");
  const std::string b = Save("ann", 1765458330000002, R"({"user_message":"c","assistant_response":"d"})");
  Feedback up;
  up.score = 1;
  up.updated_us = 1;
  std::vector<FeedbackWrite> writes = {{"ann", a, up}, {"ann", "INT_20251211_130530_999999", up},
                                       {"ann", b, up}};
  Status s = analytics_->SetFeedbacks(writes);
  EXPECT_EQ(s.code(), Status::Code::kNotFound) << s.message();
  for (const std::string& id : {a, b}) {
    auto got = analytics_->GetFeedback("ann", id);
    ASSERT_TRUE(got.ok());
    EXPECT_FALSE(got->has_value()) << id << " was rated by a batch that failed";
  }
  writes.erase(writes.begin() + 1);
  ASSERT_TRUE(analytics_->SetFeedbacks(writes).ok());
  for (const std::string& id : {a, b}) {
    auto got = analytics_->GetFeedback("ann", id);
    ASSERT_TRUE(got.ok() && got->has_value()) << id;
    EXPECT_EQ((*got)->score, 1);
  }
  StatsQuery all;
  auto stats = analytics_->GetStats(all);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->feedback.count, 2);
}

}  // namespace
}  // namespace omniflow
