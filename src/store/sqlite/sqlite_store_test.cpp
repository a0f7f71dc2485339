#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/sqlite_database.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>
#include <thread>

#include "core/ids.h"
#include "store/store_test_fixtures.h"

namespace omniflow {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "omniflow-store-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    options_.data_dir = dir_;
    Reopen();
  }
  void TearDown() override {
    Close();
    std::filesystem::remove_all(dir_);
  }
  // Opens the SqliteDatabase of options_ (closing the one open).
  void Reopen() {
    Close();
    auto db = Database::Open(options_);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_.reset(static_cast<SqliteDatabase*>(db->release()));
    store_ = &db_->sqlite_store();
  }
  void Close() {
    store_ = nullptr;
    db_.reset();
  }
  static InteractionRecord Rec(const std::string& user, int64_t ts, const std::string& suffix = "",
                               std::optional<std::string> thread = std::nullopt) {
    return TestRecord(user, ts, suffix, std::move(thread));
  }

  std::string dir_;
  StoreOptions options_;
  std::unique_ptr<SqliteDatabase> db_;
  SqliteStore* store_ = nullptr;  // db_'s
};

// The engine-neutral promises (order, paging, counts, Get, atomic batches, reopening) are in
// src/store/store_contract_test.cpp; what follows is SQLite's own.

TEST_F(SqliteStoreTest, MigrationsRunOnceAcrossReopens) {
  ASSERT_TRUE(store_->Append(std::vector<InteractionRecord>{Rec("u", 1), Rec("u", 2, "", "t")}).ok());
  Close();
  Reopen();
  Close();
  Reopen();
  auto db = sqlite::Db::Open(dir_ + "/omniflow.db", SQLITE_OPEN_READONLY);
  ASSERT_TRUE(db.ok());
  auto stmt = db->Prepare("SELECT COUNT(*), MAX(version) FROM schema_migrations");
  ASSERT_TRUE(stmt.ok());
  ASSERT_TRUE(*stmt->Step());
  EXPECT_EQ(stmt->Int(0), stmt->Int(1));
}

TEST_F(SqliteStoreTest, QueryPlansUseTheIndexes) {
  auto db = sqlite::Db::Open(dir_ + "/omniflow.db", SQLITE_OPEN_READONLY);
  ASSERT_TRUE(db.ok());
  for (const char* sql :
       {"EXPLAIN QUERY PLAN SELECT body FROM interactions WHERE user_id = 'u' AND (ts_us, interaction_id) < (1, 'x') ORDER BY ts_us DESC, interaction_id DESC LIMIT 5",
        "EXPLAIN QUERY PLAN SELECT body FROM interactions WHERE user_id = 'u' AND thread_id = 't' ORDER BY ts_us DESC, interaction_id DESC LIMIT 5"}) {
    auto stmt = db->Prepare(sql);
    ASSERT_TRUE(stmt.ok());
    std::string plan;
    while (*stmt->Step()) plan += std::string(stmt->Text(3)) + "\n";
    EXPECT_NE(plan.find("USING INDEX"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;  // no sort
  }
}


// Saves never checkpoint: the WAL reaches the database file through the checkpointer's thread,
// while the store is open, and the WAL stays bounded however much is written.
TEST_F(SqliteStoreTest, TheWalIsFoldedInOffTheSavePathAndStaysBounded) {
  Close();
  options_.sqlite_checkpoint_pages = 16;  // 128 KiB of 8 KiB pages
  Reopen();
  const std::string db_file = dir_ + "/omniflow.db";
  const std::string wal_file = db_file + "-wal";
  const auto db_size_before = std::filesystem::file_size(db_file);
  const std::string text(1000, 'w');
  int64_t ts = 1765458330000000;
  for (int b = 0; b < 200; ++b) {  // 4,000 rows of about 1 KB: 4 MB through the WAL
    std::vector<InteractionRecord> batch;
    for (int i = 0; i < 20; ++i) {
      InteractionRecord r = Rec("u" + std::to_string(i % 3), ++ts);
      r.json = "{\"interaction_id\":\"" + r.interaction_id + "\",\"user_message\":\"" + text + "\"}";
      batch.push_back(std::move(r));
    }
    ASSERT_TRUE(store_->Append(batch).ok());
  }
  // At most the hard limit (4 x 16 pages) plus one batch, far below the 4 MB written.
  EXPECT_LT(std::filesystem::file_size(wal_file), 2u << 20);
  bool grew = false;
  for (int i = 0; i < 100 && !grew; ++i) {
    grew = std::filesystem::file_size(db_file) >= db_size_before + (2u << 20) &&
           store_->checkpointer().background_checkpoints() > 0;
    if (!grew) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(grew) << "the database file holds the rows while the store is open: "
                    << std::filesystem::file_size(db_file) << " bytes";
  HistoryQuery q;
  q.user_id = "u1";
  EXPECT_EQ(store_->History(q)->total, 7 * 200);
  EXPECT_GT(store_->checkpointer().background_checkpoints(), 0);
}

// Under a steady load that leaves the writer mostly idle, the full-text index keeps up while
// saves go on (it used to wait for 100 ms without any save, which steady traffic never gives).
TEST_F(SqliteStoreTest, SearchIndexKeepsUpWhileModerateLoadContinues) {
  auto lag_db = sqlite::Db::Open(dir_ + "/omniflow.db", SQLITE_OPEN_READONLY);
  ASSERT_TRUE(lag_db.ok());
  auto lag = lag_db->Prepare(
      "SELECT (SELECT count(*) FROM interactions) - "
      "(SELECT count(*) FROM interactions WHERE seq <= (SELECT indexed_seq FROM search_index_progress))");
  ASSERT_TRUE(lag.ok());
  int64_t ts = 1765458330000000;
  int64_t least_lag_late = -1;
  for (int i = 0; i < 80; ++i) {  // one save every 20 ms for 1.6 s
    InteractionRecord r = Rec("steady", ++ts);
    r.json = "{\"interaction_id\":\"" + r.interaction_id + "\",\"user_message\":\"hello " +
             std::to_string(i) + "\",\"assistant_response\":\"hi\"}";
    ASSERT_TRUE(store_->Append(std::span<const InteractionRecord>(&r, 1)).ok());
    if (i >= 40) {
      lag->Reset();
      ASSERT_TRUE(*lag->Step());
      const int64_t now = lag->Int(0);
      if (least_lag_late < 0 || now < least_lag_late) least_lag_late = now;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  lag->Reset();
  EXPECT_LE(least_lag_late, 3) << "rows waiting for the index in the second half of the load";
}

// Reads every file of `dir` whole and says which hold `needle`.
std::vector<std::string> FilesHolding(const std::string& dir, const std::string& needle) {
  std::vector<std::string> holding;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) holding.push_back(entry.path().filename().string());
  }
  return holding;
}

// After EraseUser answers, the erased user's text is in no file of the data dir (database, WAL,
// shared memory), whether it was indexed for search yet or not, while the server still runs.
TEST_F(SqliteStoreTest, ErasedTextIsInNoFileOfTheDataDir) {
  int64_t ts = 1765458330000000;
  auto save = [&](const std::string& user, const std::string& words) {
    InteractionRecord r = Rec(user, ++ts, "", "thread-" + user);
    const std::string padding(700, user == "victim" ? 'v' : 'b');
    r.json = "{\"interaction_id\":\"" + r.interaction_id + "\",\"user_message\":\"" + words +
             " asks " + padding + "\",\"assistant_response\":\"" + words + " answered\"," +
             "\"tool_calls\":[{\"tool_name\":\"lookup\",\"arguments\":{\"q\":\"" + words + "\"}}]}";
    r.tool_call_count = 1;
    EXPECT_TRUE(store_->Append(std::span<const InteractionRecord>(&r, 1)).ok());
    return r.interaction_id;
  };
  // Interleaved, so that pages the bystander keeps also held the erased rows.
  std::string feedback_on;
  for (int i = 0; i < 150; ++i) {
    feedback_on = save("victim", "Quokka-Secret-4711");
    save("bystander", "Wombat-Kept-0815");
  }
  ASSERT_TRUE(store_->CatchUp({}).ok());  // these are indexed; the next ones not yet, maybe
  for (int i = 0; i < 20; ++i) {
    save("victim", "Quokka-Secret-4711");
    save("bystander", "Wombat-Kept-0815");
  }
  ASSERT_TRUE(db_->analytics().SetFeedback("victim", feedback_on, Feedback{1, "Feedback-Secret-99", ts}).ok());
  ASSERT_TRUE(db_->data().Add("victim", "notes.json", R"({"text":"Document-Secret-42"})").ok());
  ASSERT_FALSE(FilesHolding(dir_, "Quokka-Secret-4711").empty()) << "the search below could not fail";

  auto erased = db_->lifecycle().EraseUser("victim");
  ASSERT_TRUE(erased.ok()) << erased.status().message();
  EXPECT_EQ(erased->interactions, 170);
  for (const std::string secret : {"Quokka-Secret-4711", "Feedback-Secret-99", "Document-Secret-42"}) {
    EXPECT_EQ(FilesHolding(dir_, secret), std::vector<std::string>{}) << secret;
  }
  EXPECT_FALSE(FilesHolding(dir_, "Wombat-Kept-0815").empty());
  // The secure delete cost nothing to what stays: the bystander is whole and searchable.
  EXPECT_EQ(TestPage(store_, "bystander", 1).total, 170);
  SearchQuery q;
  q.q = "wombat-kept";
  q.scope.user_id = "bystander";
  q.limit = 200;
  auto found = db_->analytics().Search(q);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->items.size(), 170u);
}
// An erasure killed after its first transaction leaves its record in `erasures`; the next open
// finishes it before the store is used: every row the record names is gone (history, search),
// the record too, and what the user saved after the erasure began (a higher seq) and the
// bystander stay, and none of the erased text is in any file.
TEST_F(SqliteStoreTest, AnInterruptedErasureIsFinishedAtTheNextOpen) {
  int64_t ts = 1765458330000000;
  auto save = [&](const std::string& user, const std::string& words) {
    InteractionRecord r = Rec(user, ++ts, "", "thread-" + user);
    r.json = "{\"interaction_id\":\"" + r.interaction_id + "\",\"user_message\":\"" + words +
             "\",\"assistant_response\":\"" + words + " answered\"}";
    EXPECT_TRUE(store_->Append(std::span<const InteractionRecord>(&r, 1)).ok());
  };
  for (int i = 0; i < 1200; ++i) {  // more than one erasure batch
    save("victim", "Quokka-Secret-4711");
    if (i % 4 == 0) save("bystander", "Wombat-Kept-0815");
  }
  ASSERT_TRUE(store_->CatchUp({}).ok());
  Close();
  {
    // What BeginErasure leaves when the process dies right after it: the record, no deletions.
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/omniflow.db").c_str(), &raw), SQLITE_OK);
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(raw,
                           "INSERT INTO erasures(user_id, upto_seq, started_us) SELECT 'victim', "
                           "max(seq), 1 FROM interactions WHERE user_id = 'victim'",
                           nullptr, nullptr, &error),
              SQLITE_OK)
        << (error ? error : "");
    sqlite3_close(raw);
  }
  Reopen();
  save("victim", "Platypus-New-0001");  // a save after the erasure began: new data, kept
  EXPECT_EQ(TestPage(store_, "victim", 10).total, 1);
  EXPECT_EQ(TestPage(store_, "bystander", 1).total, 300);
  SearchQuery q;
  q.q = "quokka-secret";
  q.limit = 10;
  ASSERT_TRUE(store_->CatchUp({}).ok());
  auto found = db_->analytics().Search(q);
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_TRUE(found->items.empty());
  Close();
  EXPECT_EQ(FilesHolding(dir_, "Quokka-Secret-4711"), std::vector<std::string>{});
  EXPECT_FALSE(FilesHolding(dir_, "Wombat-Kept-0815").empty());
  Reopen();
  EXPECT_EQ(TestPage(store_, "victim", 10).total, 1);
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/omniflow.db").c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* left = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT count(*) FROM erasures", -1, &left, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(left), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(left, 0), 0) << "the record outlived its erasure";
  sqlite3_finalize(left);
  sqlite3_close(raw);
}
// 1,200 small rows interleaved with a bystander's: rebalancing moves cells and leaves copies of
// them in the pages' free space, which secure_delete does not overwrite. Without the closing
// VACUUM (StoreOptions::erasure_vacuum = false, `serve --no-erasure-vacuum`) this erasure left
// the victim's text in five leaf pages of omniflow.db (checked 2026-12-01); with it, the
// default, none is in any file.
TEST_F(SqliteStoreTest, ErasureVacuumLeavesNoCopyThatRebalancingMoved) {
  ASSERT_TRUE(options_.erasure_vacuum) << "the default";
  int64_t ts = 1765458330000000;
  auto save = [&](const std::string& user, const std::string& words) {
    InteractionRecord r = Rec(user, ++ts, "", "thread-" + user);
    r.json = "{\"interaction_id\":\"" + r.interaction_id + "\",\"user_message\":\"" + words +
             "\",\"assistant_response\":\"" + words + " answered\"}";
    EXPECT_TRUE(store_->Append(std::span<const InteractionRecord>(&r, 1)).ok());
  };
  for (int i = 0; i < 1200; ++i) {
    save("victim", "Quokka-Secret-4711");
    if (i % 4 == 0) save("bystander", "Wombat-Kept-0815");
  }
  ASSERT_TRUE(store_->CatchUp({}).ok());
  auto erased = db_->lifecycle().EraseUser("victim");
  ASSERT_TRUE(erased.ok()) << erased.status().message();
  EXPECT_EQ(erased->interactions, 1200);
  EXPECT_EQ(FilesHolding(dir_, "Quokka-Secret-4711"), std::vector<std::string>{});
  EXPECT_FALSE(FilesHolding(dir_, "Wombat-Kept-0815").empty());
  EXPECT_EQ(TestPage(store_, "bystander", 1).total, 300);
}

// The rows of interaction_tools as "tool_name ts_us seq failed" lines, in key order.
std::vector<std::string> ToolIndex(const std::string& dir) {
  std::vector<std::string> rows;
  auto db = sqlite::Db::Open(dir + "/omniflow.db", SQLITE_OPEN_READONLY);
  EXPECT_TRUE(db.ok());
  if (!db.ok()) return rows;
  auto stmt = db->Prepare("SELECT tool_name, ts_us, seq, failed FROM interaction_tools");
  EXPECT_TRUE(stmt.ok());
  if (!stmt.ok()) return rows;
  while (*stmt->Step()) {
    rows.push_back(std::string(stmt->Text(0)) + " " + std::to_string(stmt->Int(1)) + " " +
                   std::to_string(stmt->Int(2)) + " " + std::to_string(stmt->Int(3)));
  }
  return rows;
}

// The tool index holds one entry per (interaction, tool name), failed when any call of that
// tool failed, whether the record came with its tool calls read by the request path
// (InteractionRecord::tool_uses) or the store read them from the JSON; an erasure leaves exactly
// the survivors' entries, and the `tool=` filter finds through them.
TEST_F(SqliteStoreTest, TheToolIndexHoldsOneEntryPerToolOfEachSurvivingInteraction) {
  int64_t ts = 1765458330000000;
  auto save = [&](const std::string& user, bool read_by_request) {
    InteractionRecord r = Rec(user, ++ts);
    r.json = "{\"interaction_id\":\"" + r.interaction_id + "\",\"tool_calls\":[" +
             R"({"tool_name":"search","status":"success"},)" +
             R"({"tool_name":"search","status":"error"},)" +
             R"({"tool_name":"weather"},{"arguments":{}}]})";
    r.tool_call_count = 4;
    r.tool_failure_count = 1;
    if (read_by_request) {
      r.tool_uses = std::vector<ToolUse>{{"search", false}, {"search", true}, {"weather", false}};
    }
    EXPECT_TRUE(store_->Append(std::span<const InteractionRecord>(&r, 1)).ok());
    return ts;
  };
  const int64_t victim_ts = save("victim", true);
  const int64_t kept_ts = save("bystander", false);
  const int64_t victim_ts2 = save("victim", false);
  const std::string kept = std::to_string(kept_ts);
  EXPECT_EQ(ToolIndex(dir_),
            (std::vector<std::string>{"search " + std::to_string(victim_ts) + " 1 1",
                                      "search " + kept + " 2 1",
                                      "search " + std::to_string(victim_ts2) + " 3 1",
                                      "weather " + std::to_string(victim_ts) + " 1 0",
                                      "weather " + kept + " 2 0",
                                      "weather " + std::to_string(victim_ts2) + " 3 0"}));
  auto erased = db_->lifecycle().EraseUser("victim");
  ASSERT_TRUE(erased.ok()) << erased.status().message();
  EXPECT_EQ(ToolIndex(dir_),
            (std::vector<std::string>{"search " + kept + " 2 1", "weather " + kept + " 2 0"}));
  SearchQuery q;
  q.tool = "weather";
  auto found = db_->analytics().Search(q);
  ASSERT_TRUE(found.ok()) << found.status().message();
  ASSERT_EQ(found->items.size(), 1u);
  q.status = ToolStatusFilter::kFailed;
  found = db_->analytics().Search(q);
  ASSERT_TRUE(found.ok());
  EXPECT_TRUE(found->items.empty()) << "weather never failed";
  q.tool = "search";
  found = db_->analytics().Search(q);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->items.size(), 1u);
}

// A store from before migration 13 kept the tool index as a table by row plus an index by tool;
// the migration moves its entries into the one b-tree, and the filter finds them there.
TEST_F(SqliteStoreTest, MigrationThirteenMovesTheToolIndexIntoOneBtree) {
  Close();
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/omniflow.db").c_str(), &raw), SQLITE_OK);
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(raw, R"sql(
      DROP TABLE interaction_tools;
      CREATE TABLE interaction_tools(seq INTEGER NOT NULL, tool_name TEXT NOT NULL,
        failed INTEGER NOT NULL, ts_us INTEGER NOT NULL,
        PRIMARY KEY(seq, tool_name)) WITHOUT ROWID;
      CREATE INDEX interaction_tools_by_name ON interaction_tools(tool_name, ts_us);
      INSERT INTO interactions(seq, user_id, ts_us, interaction_id, tool_calls, tool_failures, body)
        VALUES(7, 'u', 1765458330000001, 'INT_20251211_130530_000001', 1, 1, '{}');
      INSERT INTO interaction_tools VALUES(7, 'lookup', 1, 1765458330000001);
      DELETE FROM schema_migrations WHERE version = 13;
    )sql", nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_close(raw);
  }
  Reopen();
  EXPECT_EQ(ToolIndex(dir_), std::vector<std::string>{"lookup 1765458330000001 7 1"});
  SearchQuery q;
  q.tool = "lookup";
  q.status = ToolStatusFilter::kFailed;
  auto found = db_->analytics().Search(q);
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_EQ(found->items.size(), 1u);
}
}  // namespace
}  // namespace omniflow
