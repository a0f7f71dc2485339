#include "agent/spool.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "store/database.h"

namespace omniflow::agent {
namespace {

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "omniflow-spool-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    StoreOptions options;
    options.data_dir = dir_ + "/data";
    std::filesystem::create_directories(options.data_dir);
    auto db = Database::Open(options);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(*db);
    store_ = &db_->interactions();
  }
  void TearDown() override {
    store_ = nullptr;
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  static InteractionRecord Rec(int i) {
    InteractionRecord r;
    r.user_id = "spool_user";
    r.ts_us = 1765458330000000 + i;
    r.interaction_id = "INT_20251211_130530_00000" + std::to_string(i);
    r.thread_id = "t";
    r.json = "{\"interaction_id\":\"" + r.interaction_id + "\",\"n\":" + std::to_string(i) + "}";
    return r;
  }
  Spool::Commit Direct() {
    return [this](std::vector<InteractionRecord> records) { return store_->Append(records); };
  }
  std::string dir_;
  std::unique_ptr<Database> db_;
  InteractionStore* store_ = nullptr;  // db_'s
};

TEST_F(SpoolTest, ReplayMovesEverythingOnceAndEmptiesTheSpool) {
  Spool spool(dir_ + "/spool");
  EXPECT_TRUE(spool.empty());
  ASSERT_TRUE(spool.Append(Rec(1)).ok());
  ASSERT_TRUE(spool.Append(Rec(2)).ok());
  EXPECT_FALSE(spool.empty());
  auto moved = spool.Replay(store_, Direct());
  ASSERT_TRUE(moved.ok()) << moved.status().message();
  EXPECT_EQ(*moved, 2u);
  EXPECT_TRUE(spool.empty());
  auto got = store_->Get("spool_user", Rec(2).interaction_id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, Rec(2).json);
  EXPECT_EQ(*spool.Replay(store_, Direct()), 0u);
}

TEST_F(SpoolTest, ReplayKeepsTheUsageAndTheCostPricedAtIngest) {
  Spool spool(dir_ + "/spool");
  InteractionRecord priced = Rec(1);
  priced.usage = StoredUsage{"gpt-4o", TokenUsage{100, 40, 20, 5}, 1234};
  InteractionRecord unpriced = Rec(2);
  unpriced.usage = StoredUsage{"mystery", TokenUsage{7, 0, 3, 0}, std::nullopt};
  ASSERT_TRUE(spool.Append(priced).ok());
  ASSERT_TRUE(spool.Append(unpriced).ok());
  ASSERT_TRUE(spool.Append(Rec(3)).ok());
  std::vector<InteractionRecord> replayed;
  auto moved = spool.Replay(store_, [&](std::vector<InteractionRecord> records) {
    replayed = records;
    return store_->Append(records);
  });
  ASSERT_TRUE(moved.ok()) << moved.status().message();
  ASSERT_EQ(replayed.size(), 3u);
  ASSERT_TRUE(replayed[0].usage);
  EXPECT_EQ(replayed[0].usage->model, "gpt-4o");
  EXPECT_EQ(replayed[0].usage->tokens, (TokenUsage{100, 40, 20, 5}));
  EXPECT_EQ(replayed[0].usage->cost_nanos, 1234);
  ASSERT_TRUE(replayed[1].usage);
  EXPECT_FALSE(replayed[1].usage->cost_nanos);
  EXPECT_FALSE(replayed[2].usage);
  auto stats = db_->analytics().GetStats(StatsQuery{});
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->usage.input, 107);
  EXPECT_EQ(stats->usage.cost_nanos, 1234);
  EXPECT_EQ(stats->usage.unpriced, 1);
}

TEST_F(SpoolTest, AFailedCommitKeepsEverythingForTheNextReplay) {
  Spool spool(dir_ + "/spool");
  ASSERT_TRUE(spool.Append(Rec(1)).ok());
  auto failed = spool.Replay(store_, [](std::vector<InteractionRecord>) {
    return Status::Unavailable("disk full");
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_FALSE(spool.empty());
  ASSERT_TRUE(spool.Append(Rec(2)).ok());  // appends go on while a replay is pending
  auto moved = spool.Replay(store_, Direct());
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(*moved, 2u);
  EXPECT_TRUE(spool.empty());
}

TEST_F(SpoolTest, SkipsWhatIsAlreadyStoredAndATornLastLine) {
  ASSERT_TRUE(store_->Append(std::vector<InteractionRecord>{Rec(1)}).ok());
  Spool spool(dir_ + "/spool");
  ASSERT_TRUE(spool.Append(Rec(1)).ok());
  ASSERT_TRUE(spool.Append(Rec(2)).ok());
  {
    std::ofstream torn(spool.path(), std::ios::app);
    torn << "{\"user_id\":\"spool_user\",\"ts_us\":17654";
  }
  auto moved = spool.Replay(store_, Direct());
  ASSERT_TRUE(moved.ok()) << moved.status().message();
  EXPECT_EQ(*moved, 1u);
  HistoryQuery q;
  q.user_id = "spool_user";
  EXPECT_EQ(store_->History(q)->total, 2);
}

std::string FileText(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST_F(SpoolTest, EraseUserRemovesOnlyThatUsersRecordsFromBothFiles) {
  Spool spool(dir_ + "/spool");
  InteractionRecord other = Rec(3);
  other.user_id = "other_user";
  other.json = "{\"n\":\"keep-me\"}";
  InteractionRecord secret = Rec(4);
  secret.json = "{\"n\":\"ERASE-ME-4\"}";
  ASSERT_TRUE(spool.Append(Rec(1)).ok());
  ASSERT_TRUE(spool.Append(other).ok());
  // A replay that failed leaves its records in the replaying file; new ones go to the spool.
  ASSERT_FALSE(spool.Replay(store_, [](std::vector<InteractionRecord>) {
    return Status::Unavailable("down");
  }).ok());
  ASSERT_TRUE(spool.Append(secret).ok());
  int store_erased = 0;
  Result<size_t> removed = spool.EraseUser("spool_user", [&] {
    ++store_erased;
    return Status::Ok();
  });
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(*removed, 2u);
  EXPECT_EQ(store_erased, 1);
  const std::string files = FileText(spool.path()) + FileText(spool.replaying_path());
  EXPECT_EQ(files.find("ERASE-ME-4"), std::string::npos) << files;
  EXPECT_EQ(files.find("spool_user"), std::string::npos) << files;
  EXPECT_NE(files.find("keep-me"), std::string::npos) << files;
  EXPECT_EQ(*spool.Replay(store_, Direct()), 1u);
  HistoryQuery q;
  q.user_id = "spool_user";
  EXPECT_EQ(store_->History(q)->total, 0);
  q.user_id = "other_user";
  EXPECT_EQ(store_->History(q)->total, 1);
  EXPECT_EQ(*spool.EraseUser("nobody"), 0u);
}

TEST_F(SpoolTest, EraseUserLeavesTheSpoolAloneWhenTheStoreErasureFails) {
  Spool spool(dir_ + "/spool");
  ASSERT_TRUE(spool.Append(Rec(1)).ok());
  Result<size_t> removed =
      spool.EraseUser("spool_user", [] { return Status::FailedPrecondition("held"); });
  EXPECT_EQ(removed.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(*spool.Replay(store_, Direct()), 1u);
}

}  // namespace
}  // namespace omniflow::agent
