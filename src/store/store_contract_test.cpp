// The store contract: what InteractionStore, DataStore and AnalyticsStore promise in their
// headers, run identically on every engine, each facet opened through its public factory.
// Sqlite/StoreContract.* runs in the plain unit pass on a fresh temporary data dir;
// Postgres/StoreContract.* runs in ctest's pg.* pass on a fresh database of the throwaway
// cluster (OMNIFLOW_TEST_STORE). Engine-specific behaviour (query plans, the WAL, row-level
// security, id slots, migrations) is tested beside its engine.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/validate.h"
#include "store/database.h"
#include "store/store_test_fixtures.h"
#include "store/postgres/pg_test_db.h"

namespace omniflow {
namespace {

constexpr int64_t kT = 1765458330000000;

// True under continuous integration (CI set to anything but "", "0" or "false").
bool UnderCi() {
  const char* ci = std::getenv("CI");
  if (ci == nullptr) return false;
  const std::string value = ci;
  return !value.empty() && value != "0" && value != "false";
}

class StoreContract : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      std::string tmpl = (std::filesystem::temp_directory_path() / "omniflow-contract-XXXXXX").string();
      ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
      options_.data_dir = dir_;
    } else {
      const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
      db_ = std::make_unique<pg::TestDatabase>(std::string(info->test_suite_name()) + "." + info->name());
      if (!db_->configured()) {
        if (UnderCi()) FAIL() << "OMNIFLOW_TEST_STORE is not set; under CI this test must run";
        GTEST_SKIP() << "set OMNIFLOW_TEST_STORE (ctest's pg.* tests do); under CI this fails";
      }
      ASSERT_TRUE(db_->error().empty()) << db_->error();
      options_.url = db_->url();
    }
    ASSERT_NO_FATAL_FAILURE(OpenStore());
  }
  void TearDown() override {
    store_ = nullptr;
    database_.reset();
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Opens (or closes and reopens) the Database under test.
  void OpenStore() {
    store_ = nullptr;
    database_.reset();
    auto database = Database::Open(options_);
    ASSERT_TRUE(database.ok()) << database.status().message();
    database_ = std::move(*database);
    store_ = &database_->interactions();
  }
  DataStore& Data() { return database_->data(); }
  AnalyticsStore& Analytics() { return database_->analytics(); }

  static InteractionRecord Rec(const std::string& user, int64_t ts, const std::string& suffix = "",
                               std::optional<std::string> thread = std::nullopt) {
    return TestRecord(user, ts, suffix, std::move(thread));
  }
  static std::vector<std::string> Ids(const HistoryPage& page) {
    std::vector<std::string> ids;
    for (const auto& item : page.items) ids.push_back(item.substr(19, item.size() - 21));
    return ids;
  }
  HistoryPage Page(const std::string& user, int limit = 50, int64_t offset = 0,
                   std::optional<std::string> thread = std::nullopt,
                   std::optional<HistoryCursor> after = std::nullopt) {
    return TestPage(store_, user, limit, offset, std::move(thread), std::move(after));
  }
  // Appends one interaction built from a save body, as the server would; returns its id.
  std::string Save(const std::string& user, int64_t ts, const std::string& body) {
    Result<SaveRequest> request = ParseSaveRequest(body);
    EXPECT_TRUE(request.ok()) << request.status().message();
    if (!request.ok()) return "";
    Stamp stamp{ts, FormatInteractionId(ts), FormatTimestamp(ts)};
    InteractionRecord rec = BuildInteraction(stamp, user, std::move(*request));
    EXPECT_TRUE(store_->Append({&rec, 1}).ok());
    return stamp.interaction_id;
  }
  std::vector<std::string> SearchIds(const SearchQuery& q) {
    std::vector<std::string> ids;
    auto page = Analytics().Search(q);
    EXPECT_TRUE(page.ok()) << page.status().message();
    if (page.ok()) {
      for (const auto& item : page->items) ids.push_back(item.position.interaction_id);
    }
    return ids;
  }
  std::vector<std::string> Found(const std::string& text, std::optional<std::string> user = std::nullopt) {
    SearchQuery q;
    q.q = text;
    q.scope.user_id = user;
    return SearchIds(q);
  }

  std::string dir_;
  std::unique_ptr<pg::TestDatabase> db_;
  StoreOptions options_;
  std::unique_ptr<Database> database_;
  InteractionStore* store_ = nullptr;  // database_'s
};

// ---- InteractionStore ------------------------------------------------------------------------

TEST_P(StoreContract, HistoryIsNewestFirstWithTiesBrokenByIdDescending) {
  std::vector<InteractionRecord> batch = {Rec("u", kT), Rec("u", kT + 2), Rec("u", kT + 2, "_2"),
                                          Rec("u", kT + 1)};
  ASSERT_TRUE(store_->Append(batch).ok());
  HistoryPage page = Page("u");
  EXPECT_EQ(page.total, 4);
  EXPECT_FALSE(page.has_more);
  EXPECT_EQ(Ids(page), (std::vector<std::string>{batch[2].interaction_id, batch[1].interaction_id,
                                                 batch[3].interaction_id, batch[0].interaction_id}));
}

TEST_P(StoreContract, OffsetPagesCarryHasMoreAndTheWholeTotal) {
  std::vector<InteractionRecord> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(Rec("u", kT + i));
  ASSERT_TRUE(store_->Append(batch).ok());
  HistoryPage page = Page("u", 4, 4);
  EXPECT_EQ(page.total, 10);
  ASSERT_EQ(page.items.size(), 4u);
  EXPECT_TRUE(page.has_more);
  EXPECT_EQ(Ids(page)[0], batch[5].interaction_id);
  page = Page("u", 4, 8);
  EXPECT_EQ(page.total, 10);
  EXPECT_EQ(page.items.size(), 2u);
  EXPECT_FALSE(page.has_more);
  page = Page("u", 4, 20);  // past the end: empty, the total still exact
  EXPECT_TRUE(page.items.empty());
  EXPECT_EQ(page.total, 10);
  EXPECT_EQ(Page("nobody").total, 0);
}

TEST_P(StoreContract, CursorWalksEverythingOnceInTheOffsetOrder) {
  std::vector<InteractionRecord> batch;
  for (int i = 0; i < 23; ++i) batch.push_back(Rec("p", kT + i / 2, i % 2 ? "_2" : ""));
  batch.push_back(Rec("other", kT));
  ASSERT_TRUE(store_->Append(batch).ok());
  std::vector<std::string> by_offset, by_cursor;
  for (int64_t off = 0; off < 100; off += 5) {
    HistoryPage p = Page("p", 5, off);
    EXPECT_EQ(p.total, 23);
    for (auto& id : Ids(p)) by_offset.push_back(id);
    if (!p.has_more) break;
  }
  std::optional<HistoryCursor> cursor;
  for (int pages = 0; pages < 20; ++pages) {
    HistoryPage p = Page("p", 5, 0, std::nullopt, cursor);
    for (auto& id : Ids(p)) by_cursor.push_back(id);
    if (!p.has_more) break;
    ASSERT_TRUE(p.next.has_value());
    cursor = p.next;
  }
  EXPECT_EQ(by_cursor.size(), 23u);
  EXPECT_EQ(std::set<std::string>(by_cursor.begin(), by_cursor.end()).size(), 23u);
  EXPECT_TRUE(std::is_sorted(by_cursor.rbegin(), by_cursor.rend()));
  EXPECT_EQ(by_offset, by_cursor);
}

TEST_P(StoreContract, ThreadFilterAndPerThreadTotals) {
  ASSERT_TRUE(store_->Append(std::vector<InteractionRecord>{
      Rec("u", kT + 1, "", "a"), Rec("u", kT + 2, "", "b"), Rec("u", kT + 3, "", "a"), Rec("u", kT + 4),
      Rec("v", kT + 5, "", "a")}).ok());
  HistoryPage a = Page("u", 50, 0, std::string("a"));
  EXPECT_EQ(a.total, 2);
  EXPECT_EQ(Ids(a), (std::vector<std::string>{FormatInteractionId(kT + 3), FormatInteractionId(kT + 1)}));
  HistoryPage a1 = Page("u", 1, 0, std::string("a"));
  EXPECT_EQ(a1.total, 2);
  EXPECT_TRUE(a1.has_more);
  EXPECT_EQ(Page("u", 50, 0, std::string("b")).total, 1);
  EXPECT_EQ(Page("u", 50, 0, std::string("none")).total, 0);
  EXPECT_EQ(Page("u").total, 4);
}

TEST_P(StoreContract, GetIsPerUserAndNotFoundForAbsentOrMalformedIds) {
  InteractionRecord r = Rec("alice", kT + 123456);
  ASSERT_TRUE(store_->Append({&r, 1}).ok());
  auto got = store_->Get("alice", r.interaction_id);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, r.json);
  EXPECT_EQ(store_->Get("bob", r.interaction_id).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->Get("alice", FormatInteractionId(kT + 1)).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->Get("alice", "INT_garbage").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->Get("alice", "x' OR 1=1 --").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(store_->Get("alice", "").status().code(), Status::Code::kNotFound);
}

TEST_P(StoreContract, ABatchWithADuplicateFailsWholeAndCountsStayExact) {
  ASSERT_TRUE(store_->Append(std::vector<InteractionRecord>{Rec("d", kT, "", "t")}).ok());
  // The second row repeats the first's key: the whole batch is refused.
  std::vector<InteractionRecord> bad = {Rec("d", kT + 5, "", "t"), Rec("d", kT, "", "t")};
  EXPECT_FALSE(store_->Append(bad).ok());
  HistoryPage page = Page("d");
  EXPECT_EQ(page.total, 1);
  EXPECT_EQ(Ids(page), std::vector<std::string>{FormatInteractionId(kT)});
  EXPECT_EQ(Page("d", 50, 0, std::string("t")).total, 1);
  EXPECT_EQ(store_->Get("d", FormatInteractionId(kT + 5)).status().code(), Status::Code::kNotFound);
  // The store keeps working after a failed batch.
  EXPECT_TRUE(store_->Append(std::vector<InteractionRecord>{Rec("d", kT + 6)}).ok());
  EXPECT_EQ(Page("d").total, 2);
  EXPECT_TRUE(store_->CheckWritable().ok());
}

TEST_P(StoreContract, BodiesRoundTripByteForByte) {
  InteractionRecord r = Rec("q", kT);
  r.json = R"({"interaction_id":")" + r.interaction_id +
           R"(","m":"quote \" backslash \\ brace { } comma , NULL 'single' \u00e9 日本語 🎉"})";
  ASSERT_TRUE(store_->Append(std::vector<InteractionRecord>{r}).ok());
  auto got = store_->Get("q", r.interaction_id);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, r.json);
  HistoryPage page = Page("q");
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0], r.json);
}

TEST_P(StoreContract, DataAndCountsSurviveReopen) {
  ASSERT_TRUE(store_->Append(std::vector<InteractionRecord>{Rec("u", kT + 1), Rec("u", kT + 2, "", "t")}).ok());
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  EXPECT_EQ(Page("u").total, 2);
  EXPECT_EQ(Page("u", 50, 0, std::string("t")).total, 1);
  EXPECT_TRUE(store_->Get("u", FormatInteractionId(kT + 1)).ok());
  EXPECT_TRUE(store_->Append(std::vector<InteractionRecord>{Rec("u", kT + 3)}).ok());
  EXPECT_EQ(Page("u").total, 3);
}

// ---- Scan and FindAt (exports and imports) ---------------------------------------------------

// Every row of `q`, page after page; the ids in order.
std::vector<std::string> ScanIds(InteractionStore* store, ScanQuery q, int* pages = nullptr) {
  std::vector<std::string> ids;
  int n = 0;
  while (true) {
    Result<ScanPage> page = store->Scan(q);
    EXPECT_TRUE(page.ok()) << page.status().message();
    if (!page.ok()) break;
    ++n;
    for (const ScannedInteraction& item : page->items) {
      ids.push_back(item.user_id + "/" + item.thread_id.value_or("-") + "/" + item.interaction_id);
    }
    if (!page->next) break;
    q.after = page->next;
    if (n > 1000) break;
  }
  if (pages) *pages = n;
  return ids;
}

TEST_P(StoreContract, ScanIsOldestFirstAcrossUsersWithTiesAndPagesOfAnySize) {
  // Two users at the same microsecond with the same id: the keyset keeps both.
  ASSERT_TRUE(store_->Append(std::vector<InteractionRecord>{
      Rec("bob", kT + 2), Rec("ann", kT + 2), Rec("ann", kT + 1, "", "t1"), Rec("ann", kT + 3),
      Rec("ann", kT + 2, "_2")}).ok());
  const std::string i1 = FormatInteractionId(kT + 1), i2 = FormatInteractionId(kT + 2),
                    i3 = FormatInteractionId(kT + 3);
  const std::vector<std::string> all = {"ann/t1/" + i1, "ann/-/" + i2, "bob/-/" + i2,
                                        "ann/-/" + i2 + "_2", "ann/-/" + i3};
  for (int limit : {1, 2, 3, 5, 50}) {
    ScanQuery q;
    q.limit = limit;
    int pages = 0;
    EXPECT_EQ(ScanIds(store_, q, &pages), all) << "limit " << limit;
    EXPECT_LE(pages, 5 / limit + 1);
  }
  ScanQuery ann;
  ann.user_id = "ann";
  ann.limit = 2;
  EXPECT_EQ(ScanIds(store_, ann), (std::vector<std::string>{"ann/t1/" + i1, "ann/-/" + i2,
                                                             "ann/-/" + i2 + "_2", "ann/-/" + i3}));
  // [from, to) and the thread filters.
  ScanQuery range;
  range.from_us = kT + 2;
  range.to_us = kT + 3;
  range.limit = 1;
  EXPECT_EQ(ScanIds(store_, range), (std::vector<std::string>{"ann/-/" + i2, "bob/-/" + i2,
                                                               "ann/-/" + i2 + "_2"}));
  ScanQuery thread;
  thread.thread_id = "t1";
  EXPECT_EQ(ScanIds(store_, thread), std::vector<std::string>{"ann/t1/" + i1});
  ScanQuery bare;
  bare.user_id = "bob";
  bare.without_thread = true;
  EXPECT_EQ(ScanIds(store_, bare), std::vector<std::string>{"bob/-/" + i2});
  ScanQuery nobody;
  nobody.user_id = "carol";
  EXPECT_TRUE(ScanIds(store_, nobody).empty());
}

TEST_P(StoreContract, ScanByThreadKeepsEachThreadsTurnsTogetherAndInOrder) {
  ASSERT_TRUE(store_->Append(std::vector<InteractionRecord>{
      Rec("ann", kT + 1, "", "b"), Rec("ann", kT + 2, "", "a"), Rec("ann", kT + 3, "", "b"),
      Rec("ann", kT + 4), Rec("bob", kT + 5, "", "a"), Rec("ann", kT + 6, "", "a")}).ok());
  auto id = [](int64_t d) { return FormatInteractionId(kT + d); };
  const std::vector<std::string> want = {"ann/a/" + id(2), "ann/a/" + id(6), "ann/b/" + id(1),
                                         "ann/b/" + id(3), "bob/a/" + id(5)};
  for (int limit : {1, 2, 10}) {
    ScanQuery q;
    q.order = ScanOrder::kThread;
    q.limit = limit;
    EXPECT_EQ(ScanIds(store_, q), want) << "limit " << limit;
  }
  ScanQuery ann;
  ann.order = ScanOrder::kThread;
  ann.user_id = "ann";
  ann.to_us = kT + 6;
  ann.limit = 1;
  EXPECT_EQ(ScanIds(store_, ann),
            (std::vector<std::string>{"ann/a/" + id(2), "ann/b/" + id(1), "ann/b/" + id(3)}));
}

TEST_P(StoreContract, ScanCarriesTheHistoryObjectAndTheFeedbackScore) {
  const std::string body =
      R"({"user_message":"héllo","assistant_response":"hi","thread_id":"t","tool_calls":[{"tool_name":"get_data","arguments":{"a":1},"result":{"ok":true}}],"metadata":{"k":"v"}})";
  std::string rated = Save("ann", kT + 1, body);
  Save("ann", kT + 2, body);
  ASSERT_TRUE(Analytics().SetFeedback("ann", rated, Feedback{-1, "no", kT}).ok());
  ScanQuery q;
  q.user_id = "ann";
  Result<ScanPage> page = store_->Scan(q);
  ASSERT_TRUE(page.ok()) << page.status().message();
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_FALSE(page->next.has_value());
  HistoryPage history = Page("ann");
  ASSERT_EQ(history.items.size(), 2u);
  EXPECT_EQ(page->items[0].json, history.items[1]);  // oldest first: the reverse of history
  EXPECT_EQ(page->items[1].json, history.items[0]);
  ASSERT_TRUE(page->items[0].feedback_score.has_value());
  EXPECT_EQ(*page->items[0].feedback_score, -1);
  EXPECT_FALSE(page->items[1].feedback_score.has_value());
  EXPECT_EQ(page->items[0].thread_id, std::optional<std::string>("t"));
}

TEST_P(StoreContract, FindAtReturnsEveryIdOfTheUsersInstantsAndNothingElse) {
  ASSERT_TRUE(store_->Append(std::vector<InteractionRecord>{
      Rec("ann", kT + 1), Rec("ann", kT + 1, "_2"), Rec("bob", kT + 1), Rec("ann", kT + 2)}).ok());
  std::vector<UserInstant> keys = {{"ann", kT + 1}, {"carol", kT + 1}, {"bob", kT + 9}};
  Result<std::vector<StoredInteraction>> found = store_->FindAt(keys);
  ASSERT_TRUE(found.ok()) << found.status().message();
  std::vector<std::string> ids;
  for (const StoredInteraction& s : *found) {
    EXPECT_EQ(s.user_id, "ann");
    EXPECT_EQ(s.ts_us, kT + 1);
    EXPECT_EQ(s.json, "{\"interaction_id\":\"" + s.interaction_id + "\"}");
    ids.push_back(s.interaction_id);
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{FormatInteractionId(kT + 1), FormatInteractionId(kT + 1) + "_2"}));
  Result<std::vector<StoredInteraction>> none = store_->FindAt({});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// ---- DataStore -------------------------------------------------------------------------------

TEST_P(StoreContract, DataAddGetReplaceDeleteListKeepOrderAndCounts) {
  DataStore& data = Data();
  auto a = data.Add("u", "tasks.json", R"({"title":"a"})");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->entry_count, 1);
  auto b = data.Add("u", "tasks.json", R"({"title":"b \"q\""})");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->entry_count, 2);
  EXPECT_NE(a->entry_id, b->entry_id);
  auto c = data.Add("u", "notes.json", "{}");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->entry_count, 1);

  auto entries = data.Get("u", "tasks.json");
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0], "{\"entry_id\":\"" + a->entry_id + "\",\"title\":\"a\"}");
  EXPECT_EQ((*entries)[1], "{\"entry_id\":\"" + b->entry_id + "\",\"title\":\"b \\\"q\\\"\"}");
  EXPECT_EQ(*data.Get("u", "notes.json"), std::vector<std::string>{"{\"entry_id\":\"" + c->entry_id + "\"}"});
  EXPECT_TRUE(data.Get("u", "missing.json")->empty());

  std::string merged = "{\"entry_id\":\"" + a->entry_id + "\",\"title\":\"A\",\"done\":true}";
  ASSERT_TRUE(data.Replace("u", "tasks.json", a->entry_id, merged).ok());
  EXPECT_EQ(*data.GetEntry("u", "tasks.json", a->entry_id), merged);
  EXPECT_EQ(data.Get("u", "tasks.json")->front(), merged);  // replaced in place
  EXPECT_EQ(data.Replace("u", "tasks.json", "Enope", merged).code(), Status::Code::kNotFound);
  EXPECT_EQ(data.GetEntry("u", "tasks.json", "Enope").status().code(), Status::Code::kNotFound);

  auto left = data.Delete("u", "tasks.json", a->entry_id);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, 1);
  EXPECT_EQ(data.Delete("u", "tasks.json", a->entry_id).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(*data.Get("u", "tasks.json"), std::vector<std::string>{(*entries)[1]});

  auto blobs = data.List("u");
  ASSERT_TRUE(blobs.ok());
  EXPECT_EQ(*blobs, (std::vector<std::pair<std::string, int64_t>>{{"notes.json", 1}, {"tasks.json", 1}}));
}

TEST_P(StoreContract, DataNoCallReachesAnotherUsersDocuments) {
  DataStore& data = Data();
  auto mine = data.Add("alice", "tasks.json", R"({"title":"private"})");
  ASSERT_TRUE(mine.ok());
  EXPECT_TRUE(data.Get("bob", "tasks.json")->empty());
  EXPECT_TRUE(data.List("bob")->empty());
  EXPECT_EQ(data.GetEntry("bob", "tasks.json", mine->entry_id).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(data.Replace("bob", "tasks.json", mine->entry_id, "{}").code(), Status::Code::kNotFound);
  EXPECT_EQ(data.Delete("bob", "tasks.json", mine->entry_id).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(data.Get("alice", "tasks.json")->size(), 1u);
  // Bob adding to a blob of the same name gets his own, counted apart.
  EXPECT_EQ(data.Add("bob", "tasks.json", "{}")->entry_count, 1);
  EXPECT_EQ(*data.List("alice"), (std::vector<std::pair<std::string, int64_t>>{{"tasks.json", 1}}));
}

// ---- AnalyticsStore --------------------------------------------------------------------------

TEST_P(StoreContract, AnalyticsFeedbackIsPerOwnerReplacedAndOwned) {
  std::string id = Save("ann", kT + 1, R"({"user_message":"x","assistant_response":"y"})");
  AnalyticsStore& analytics = Analytics();
  auto none = analytics.GetFeedback("ann", id);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_FALSE(none->has_value());
  Feedback good{1, "great", kT};
  EXPECT_EQ(analytics.SetFeedback("bob", id, good).code(), Status::Code::kNotFound);
  EXPECT_EQ(analytics.SetFeedback("ann", FormatInteractionId(kT + 2), good).code(), Status::Code::kNotFound);
  ASSERT_TRUE(analytics.SetFeedback("ann", id, good).ok());
  auto got = analytics.GetFeedback("ann", id);
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->score, 1);
  EXPECT_EQ((*got)->comment, "great");
  EXPECT_EQ(analytics.GetFeedback("bob", id).status().code(), Status::Code::kNotFound);
  ASSERT_TRUE(analytics.SetFeedback("ann", id, Feedback{-1, "", kT + 5}).ok());  // replaces
  got = analytics.GetFeedback("ann", id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->score, -1);
  EXPECT_EQ((*got)->comment, "");
  auto stats = analytics.GetStats(StatsQuery{});
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_EQ(stats->feedback.count, 1);
  EXPECT_EQ(stats->feedback.negative, 1);
  EXPECT_EQ(stats->feedback.positive, 0);
  SearchQuery negative;
  negative.feedback = FeedbackFilter::kNegative;
  EXPECT_EQ(SearchIds(negative), std::vector<std::string>{id});
  auto owner = analytics.OwnerOf(id);
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(*owner, "ann");
  EXPECT_EQ(analytics.OwnerOf(FormatInteractionId(kT + 2)).status().code(), Status::Code::kNotFound);
}

TEST_P(StoreContract, AnalyticsUsersListIsScopedToAUser) {
  Save("ann", kT + 1, R"({"user_message":"a","assistant_response":"b","thread_id":"t1"})");
  Save("ann", kT + 2, R"({"user_message":"a","assistant_response":"b","thread_id":"t2"})");
  Save("bob", kT + 3, R"({"user_message":"c","assistant_response":"d"})");
  auto all = Analytics().ListUsers(UsersQuery{});
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(all->total, 2);
  ASSERT_EQ(all->users.size(), 2u);
  EXPECT_EQ(all->users[0].user_id, "bob");  // most recently active first
  UsersQuery own;
  own.user_id = "ann";
  auto mine = Analytics().ListUsers(own);
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->total, 1);
  ASSERT_EQ(mine->users.size(), 1u);
  EXPECT_EQ(mine->users[0].user_id, "ann");
  EXPECT_EQ(mine->users[0].interactions, 2);
  EXPECT_EQ(mine->users[0].threads, 2);
  EXPECT_EQ(mine->users[0].first_us, kT + 1);
  EXPECT_EQ(mine->users[0].last_us, kT + 2);
}

TEST_P(StoreContract, AnalyticsThreadsAndConversationOldestFirst) {
  std::string a = Save("ann", kT + 5, R"({"user_message":"first","assistant_response":"1","thread_id":"t"})");
  std::string b = Save("ann", kT + 9, R"({"user_message":"second","assistant_response":"2","thread_id":"t"})");
  Save("bob", kT + 7, R"({"user_message":"other","assistant_response":"3","thread_id":"t"})");
  ThreadsQuery tq;
  tq.user_id = "ann";
  auto threads = Analytics().ListThreads(tq);
  ASSERT_TRUE(threads.ok()) << threads.status().message();
  ASSERT_EQ(threads->threads.size(), 1u);
  EXPECT_EQ(threads->total, 1);
  EXPECT_EQ(threads->threads[0].interactions, 2);
  EXPECT_EQ(threads->threads[0].first_message, "first");
  EXPECT_EQ(threads->threads[0].last_message, "second");
  ConversationQuery cq;
  cq.user_id = "ann";
  cq.thread_id = "t";
  auto conv = Analytics().GetConversation(cq);
  ASSERT_TRUE(conv.ok()) << conv.status().message();
  EXPECT_EQ(conv->total, 2);
  ASSERT_EQ(conv->items.size(), 2u);
  EXPECT_EQ(conv->items[0].position.interaction_id, a);
  EXPECT_EQ(conv->items[1].position.interaction_id, b);
  cq.user_id = "carol";
  EXPECT_EQ(Analytics().GetConversation(cq).status().code(), Status::Code::kNotFound);
}

// Aggregates are per UTC hour. Not asserted here: active_users over a partial day, which the
// header documents as counted over whole UTC days on SQLite only.
TEST_P(StoreContract, AnalyticsStatsCountPerHourDayToolAndUser) {
  constexpr int64_t kDay0 = 1764547200000000;  // 2025-12-01T00:00:00Z
  constexpr int64_t kHour = 3600000000;
  Save("ann", kDay0 + 10, R"({"user_message":"a","assistant_response":"b","thread_id":"t1",
       "tool_calls":[{"tool_name":"get_weather","status":"success"},
                     {"tool_name":"get_weather","status":"error"}]})");
  Save("ann", kDay0 + kHour + 5, R"({"user_message":"a","assistant_response":"b","thread_id":"t1"})");
  Save("bob", kDay0 + 25 * kHour, R"({"user_message":"c","assistant_response":"d",
       "tool_calls":[{"tool_name":"get_tasks"}]})");
  auto stats = Analytics().GetStats(StatsQuery{});
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_EQ(stats->interactions, 3);
  EXPECT_EQ(stats->tool_calls, 3);
  EXPECT_EQ(stats->tool_failures, 1);
  EXPECT_EQ(stats->active_users, 2);
  EXPECT_EQ(stats->threads, 1);
  ASSERT_EQ(stats->per_day.size(), 2u);
  EXPECT_EQ(stats->per_day[0].start_us, kDay0);
  EXPECT_EQ(stats->per_day[0].interactions, 2);
  ASSERT_EQ(stats->per_hour.size(), 3u);
  EXPECT_EQ(stats->per_hour[1].start_us, kDay0 + kHour);
  ASSERT_EQ(stats->top_tools.size(), 2u);
  EXPECT_EQ(stats->top_tools[0].tool_name, "get_weather");
  EXPECT_EQ(stats->top_tools[0].calls, 2);
  EXPECT_EQ(stats->top_tools[0].failures, 1);
  ASSERT_EQ(stats->top_requests.size(), 2u);
  EXPECT_EQ(stats->top_requests[0].text, "a");
  EXPECT_EQ(stats->top_requests[0].count, 2);

  StatsQuery bob;
  bob.scope.user_id = "bob";
  stats = Analytics().GetStats(bob);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->interactions, 1);
  EXPECT_EQ(stats->active_users, 1);
  ASSERT_EQ(stats->top_tools.size(), 1u);
  EXPECT_EQ(stats->top_tools[0].tool_name, "get_tasks");

  StatsQuery day1;
  day1.scope.from_us = kDay0;
  day1.scope.to_us = kDay0 + 24 * kHour;
  stats = Analytics().GetStats(day1);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->interactions, 2);
  EXPECT_EQ(stats->active_users, 1);
}

TEST_P(StoreContract, AnalyticsSearchFindsSubstringsInAnyScriptWithinTheScope) {
  std::string en = Save("ann", kT + 1, R"({"user_message":"Weather in Tokyo?","assistant_response":"Sunny"})");
  std::string ja = Save("ann", kT + 2, R"({"user_message":"明日の東京の天気は？","assistant_response":"晴れ"})");
  std::string ar = Save("bob", kT + 3, R"({"user_message":"ما هي مهامي لهذا اليوم؟","assistant_response":"مهمتان"})");
  std::string ru = Save("bob", kT + 4, R"({"user_message":"Какие у меня задачи?","assistant_response":"Две задачи: 50% done_x"})");
  std::string quoted = Save("carol", kT + 5, R"({"user_message":"He said \"hello\" twice","assistant_response":"ok"})");
  EXPECT_EQ(Found("WEATHER"), std::vector<std::string>{en});
  EXPECT_EQ(Found("東京の天気"), std::vector<std::string>{ja});
  EXPECT_EQ(Found("東京"), std::vector<std::string>{ja});  // two characters: shorter than a trigram
  EXPECT_EQ(Found("東京", std::string("ann")), std::vector<std::string>{ja});
  EXPECT_TRUE(Found("東京", std::string("bob")).empty());  // another user's rows never match
  EXPECT_EQ(Found("مهامي"), std::vector<std::string>{ar});
  EXPECT_EQ(Found("задачи"), std::vector<std::string>{ru});
  EXPECT_TRUE(Found("задачи", std::string("ann")).empty());
  EXPECT_EQ(Found("50%"), std::vector<std::string>{ru});     // % is literal
  EXPECT_EQ(Found("done_x"), std::vector<std::string>{ru});  // _ is literal
  EXPECT_EQ(Found("tokyo sunny"), std::vector<std::string>{en});  // every term, in either field
  EXPECT_EQ(Found("\"hello\""), std::vector<std::string>{quoted});  // quotes as typed
  EXPECT_TRUE(Found("\"quoted\" OR NEAR(").empty());  // query syntax is searched literally
  EXPECT_TRUE(Found("nothing").empty());
}

TEST_P(StoreContract, AnalyticsSearchPagesNewestFirstWithACursor) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Save("ann", kT + i, R"({"user_message":"hello world","assistant_response":"hi"})"));
  }
  SearchQuery q;
  q.q = "hello";
  q.limit = 2;
  std::vector<std::string> seen;
  for (int pages = 0; pages < 5; ++pages) {
    auto page = Analytics().Search(q);
    ASSERT_TRUE(page.ok()) << page.status().message();
    for (const auto& item : page->items) seen.push_back(item.position.interaction_id);
    if (!page->has_more) break;
    ASSERT_TRUE(page->next.has_value());
    q.after = page->next;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{ids[4], ids[3], ids[2], ids[1], ids[0]}));
}

TEST_P(StoreContract, AnalyticsSearchFiltersOnToolAndStatus) {
  std::string ok = Save("ann", kT + 1, R"({"user_message":"x","assistant_response":"y",
      "tool_calls":[{"tool_name":"get_weather"}]})");
  std::string bad = Save("ann", kT + 2, R"({"user_message":"x","assistant_response":"y",
      "tool_calls":[{"tool_name":"get_weather","status":"error"},{"tool_name":"get_tasks"}]})");
  Save("ann", kT + 3, R"({"user_message":"x","assistant_response":"y"})");
  SearchQuery q;
  q.tool = "get_weather";
  EXPECT_EQ(SearchIds(q), (std::vector<std::string>{bad, ok}));
  q.status = ToolStatusFilter::kFailed;
  EXPECT_EQ(SearchIds(q), std::vector<std::string>{bad});
  q.status = ToolStatusFilter::kSuccess;
  EXPECT_EQ(SearchIds(q), std::vector<std::string>{ok});
  q.tool = "get_tasks";
  q.status = ToolStatusFilter::kFailed;
  EXPECT_TRUE(SearchIds(q).empty());
}

std::string EngineName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

// Two instantiations, so that ctest's filters split them: "-Postgres*" (the plain pass) runs
// Sqlite/StoreContract.*, "Postgres*" (the pg.* pass, with a database) runs the other.
INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContract, ::testing::Values(std::string("sqlite")), EngineName);
INSTANTIATE_TEST_SUITE_P(Postgres, StoreContract, ::testing::Values(std::string("postgres")), EngineName);

}  // namespace
}  // namespace omniflow
