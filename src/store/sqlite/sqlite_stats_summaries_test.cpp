// Migration 17's summaries (threads per user, threads by the hour of their first and last
// interaction, usage per user per day, feedback per hour) against the rows they summarise: after
// saves, feedback given and changed, an erasure and a retention purge, every answer that reads a
// summary equals the same answer counted from the rows. And a store migrated from before them
// gets them filled in.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "cli/demo_data.h"
#include "store/sqlite/sqlite_database.h"

namespace omniflow {
namespace {

constexpr int64_t kHour = int64_t{3600} * 1000000;
constexpr int64_t kDay = 24 * kHour;
// 2025-12-11 13:05:30 UTC: the demo set's "now", so every run makes the same store.
constexpr int64_t kNow = 1765458330000000;

class StatsSummariesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "omniflow-summaries-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    options_.data_dir = dir_;
    Open();
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    db_.reset();
    auto db = Database::Open(options_);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(*db);
  }
  // The demo set of `n` interactions of `users` users over `days` days up to kNow.
  void FillDemo(int64_t n, int users, int days) {
    DemoOptions demo;
    demo.interactions = n;
    demo.users = users;
    demo.days = days;
    demo.now_us = kNow;
    auto written = GenerateDemoData(demo, &db_->interactions(), &db_->analytics());
    ASSERT_TRUE(written.ok()) << written.status().message();
  }
  // One integer (or a row of them) counted from the rows with a read-only connection.
  std::vector<int64_t> Raw(const std::string& sql) {
    sqlite3* raw = nullptr;
    EXPECT_EQ(sqlite3_open_v2((dir_ + "/omniflow.db").c_str(), &raw, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(raw, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sqlite3_errmsg(raw) << ": " << sql;
    std::vector<int64_t> out;
    if (sqlite3_step(st) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(st); ++i) out.push_back(sqlite3_column_int64(st, i));
    }
    sqlite3_finalize(st);
    sqlite3_close(raw);
    return out;
  }
  double RawDouble(const std::string& sql) {
    sqlite3* raw = nullptr;
    sqlite3_open_v2((dir_ + "/omniflow.db").c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(raw, sql.c_str(), -1, &st, nullptr);
    double v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_double(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(raw);
    return v;
  }

  // Every answer that reads a summary, against the rows, for a few ranges.
  void ExpectSummariesMatchTheRows(const std::string& when) {
    SCOPED_TRACE(when);
    struct Range {
      std::optional<int64_t> from, to;
    };
    const std::vector<Range> ranges = {
        {},
        {kNow - 3 * kDay - 1234, std::nullopt},
        {kNow - 5 * kDay, kNow - 2 * kDay - (kNow % kHour)},  // `to` a whole hour
        {kNow - 5 * kDay + 17, kNow - 2 * kDay + 5},          // `to` not (counted from the rows)
        {std::nullopt, kNow - 4 * kDay - (kNow % kHour)},
    };
    for (const Range& range : ranges) {
      SCOPED_TRACE("from " + std::to_string(range.from.value_or(-1)) + " to " +
                   std::to_string(range.to.value_or(-1)));
      StatsQuery query;
      query.scope.from_us = range.from;
      query.scope.to_us = range.to;
      query.top_n = 100;
      auto stats = db_->analytics().GetStats(query);
      ASSERT_TRUE(stats.ok()) << stats.status().message();
      const int64_t from_hour = range.from ? *range.from - *range.from % kHour : 0;
      const int64_t from_day = range.from ? *range.from - *range.from % kDay : 0;
      const int64_t to = range.to.value_or(INT64_MAX);
      // Threads active in the range.
      EXPECT_EQ(stats->threads,
                Raw("SELECT count(*) FROM interaction_counts WHERE thread_id <> '' AND last_us >= " +
                    std::to_string(from_hour) + " AND first_us < " + std::to_string(to))[0]);
      // Feedback on interactions in the range.
      const std::string in_range = " WHERE ts_us >= " + std::to_string(from_hour) +
                                   " AND ts_us < " + std::to_string(to);
      const std::vector<int64_t> fb =
          Raw("SELECT count(*), coalesce(sum(score >= 0.5), 0), coalesce(sum(score >= 0 AND "
              "score < 0.5), 0), coalesce(sum(score < 0), 0) FROM feedback" + in_range);
      EXPECT_EQ(stats->feedback.count, fb[0]);
      EXPECT_EQ(stats->feedback.positive, fb[1]);
      EXPECT_EQ(stats->feedback.neutral, fb[2]);
      EXPECT_EQ(stats->feedback.negative, fb[3]);
      EXPECT_NEAR(stats->feedback.average,
                  RawDouble("SELECT coalesce(avg(score), 0) FROM feedback" + in_range), 1e-9);
      // Usage by user, by whole UTC days.
      std::map<std::string, std::tuple<int64_t, int64_t, int64_t>> by_user;
      for (const UserUsage& u : stats->usage_by_user) {
        by_user[u.user_id] = {u.usage.interactions, u.usage.input, u.usage.cost_nanos};
      }
      for (const auto& [user, sums] : by_user) {
        const std::vector<int64_t> raw = Raw(
            "SELECT count(*), sum(input_tokens), sum(coalesce(cost_nanos, 0)) FROM interactions "
            "WHERE usage_model IS NOT NULL AND user_id = '" + user + "' AND ts_us >= " +
            std::to_string(from_day) + " AND ts_us - ts_us % " + std::to_string(kDay) + " < " +
            std::to_string(to));
        EXPECT_EQ(sums, std::make_tuple(raw[0], raw[1], raw[2])) << user;
      }
      // Active and busiest users, by whole UTC days.
      const std::string in_days = " WHERE ts_us >= " + std::to_string(from_day) +
                                  " AND ts_us - ts_us % " + std::to_string(kDay) + " < " +
                                  std::to_string(to);
      EXPECT_EQ(stats->active_users,
                Raw("SELECT count(DISTINCT user_id) FROM interactions" + in_days)[0]);
      for (const UserActivity& u : stats->top_users) {
        EXPECT_EQ(u.interactions, Raw("SELECT count(*) FROM interactions" + in_days +
                                      " AND user_id = '" + u.user_id + "'")[0])
            << u.user_id;
      }
      EXPECT_EQ(static_cast<int64_t>(by_user.size()),
                std::min<int64_t>(100, Raw("SELECT count(DISTINCT user_id) FROM interactions "
                                           "WHERE usage_model IS NOT NULL AND ts_us >= " +
                                           std::to_string(from_day) + " AND ts_us - ts_us % " +
                                           std::to_string(kDay) + " < " + std::to_string(to))[0]));
    }
    // Threads per user, and the threads page's total.
    UsersQuery users;
    users.limit = 1000;
    auto page = db_->analytics().ListUsers(users);
    ASSERT_TRUE(page.ok());
    ASSERT_FALSE(page->users.empty());
    for (const UserSummary& u : page->users) {
      EXPECT_EQ(u.threads, Raw("SELECT count(*) FROM interaction_counts WHERE thread_id <> '' AND "
                               "user_id = '" + u.user_id + "'")[0])
          << u.user_id;
    }
    ThreadsQuery threads;
    auto all = db_->analytics().ListThreads(threads);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->total, Raw("SELECT count(*) FROM interaction_counts WHERE thread_id <> ''")[0]);
    threads.user_id = page->users.front().user_id;
    auto one = db_->analytics().ListThreads(threads);
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(one->total, page->users.front().threads);
  }

  std::string dir_;
  StoreOptions options_;
  std::unique_ptr<Database> db_;
};

TEST_F(StatsSummariesTest, EveryAnswerFromASummaryEqualsTheRowsCount) {
  ASSERT_NO_FATAL_FAILURE(FillDemo(4000, 25, 10));
  ASSERT_GT(Raw("SELECT count(*) FROM feedback")[0], 100);
  ExpectSummariesMatchTheRows("after the demo set");

  // Feedback changed: every tenth rating turned around, some to a fraction.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open_v2((dir_ + "/omniflow.db").c_str(), &raw, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT user_id, interaction_id, score FROM feedback", -1, &st, nullptr), SQLITE_OK);
  std::vector<std::tuple<std::string, std::string, double>> rated;
  while (sqlite3_step(st) == SQLITE_ROW) {
    rated.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)),
                       reinterpret_cast<const char*>(sqlite3_column_text(st, 1)),
                       sqlite3_column_double(st, 2));
  }
  sqlite3_finalize(st);
  sqlite3_close(raw);
  for (size_t i = 0; i < rated.size(); i += 10) {
    const auto& [user, id, score] = rated[i];
    Feedback f;
    f.score = score > 0 ? -1 : (i % 20 == 0 ? 0.25 : 1);
    f.updated_us = kNow;
    ASSERT_TRUE(db_->analytics().SetFeedback(user, id, f).ok());
  }
  ExpectSummariesMatchTheRows("after feedback changed");

  // One user erased, then everything older than 6 days purged.
  auto erased = db_->lifecycle().EraseUser("bob");
  ASSERT_TRUE(erased.ok()) << erased.status().message();
  ASSERT_GT(erased->interactions, 0);
  PurgeOptions purge;
  purge.default_days = 6;
  purge.now_us = kNow;
  auto purged = db_->lifecycle().Purge(purge);
  ASSERT_TRUE(purged.ok()) << purged.status().message();
  ASSERT_GT(purged->interactions, 0);
  ExpectSummariesMatchTheRows("after an erasure and a purge");
}

// A store from before migration 17 has none of the summaries; the migration fills them from
// the rows.
TEST_F(StatsSummariesTest, MigrationSeventeenFillsTheSummariesFromTheRows) {
  ASSERT_NO_FATAL_FAILURE(FillDemo(1500, 12, 6));
  db_.reset();
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/omniflow.db").c_str(), &raw), SQLITE_OK);
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(raw, R"sql(
      DROP TRIGGER stats_user_threads_add;
      DROP TRIGGER stats_user_threads_remove;
      DROP TRIGGER stats_thread_hours_add;
      DROP TRIGGER stats_thread_hours_move;
      DROP TRIGGER stats_thread_hours_remove;
      DROP TRIGGER stats_usage_daily_users_add;
      DROP TRIGGER stats_usage_daily_users_change;
      DROP TRIGGER stats_usage_daily_users_remove;
      DROP TRIGGER stats_feedback_hourly_add;
      DROP TRIGGER stats_feedback_hourly_change;
      DROP TRIGGER stats_feedback_hourly_remove;
      DROP INDEX interaction_counts_threads_by_user_last;
      DROP INDEX interaction_counts_users;
      DROP TABLE stats_user_threads;
      DROP TABLE stats_thread_hours;
      DROP TABLE stats_usage_daily_users;
      DROP TABLE stats_usage_users;
      DROP TABLE stats_feedback_hourly;
      DELETE FROM schema_migrations WHERE version = 17;
    )sql", nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_close(raw);
  }
  Open();
  EXPECT_GT(Raw("SELECT count(*) FROM stats_thread_hours")[0], 0);
  ExpectSummariesMatchTheRows("after the migration");
}

}  // namespace
}  // namespace omniflow
