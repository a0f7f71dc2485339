// The store contract: what InteractionStore, DataStore and AnalyticsStore promise in their
// headers, run identically on every engine, each facet opened through its public factory.
// Sqlite/StoreContract.* runs in the plain unit pass on a fresh temporary data dir;
// Postgres/StoreContract.* runs in ctest's pg.* pass on a fresh database of the throwaway
// cluster (OMNIFLOW_TEST_STORE). Engine-specific behaviour (query plans, the WAL, row-level
// security, id slots, migrations) is tested beside its engine.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/ids.h"
#include "core/prices.h"
#include "core/validate.h"
#include "store/database.h"
#include "store/engine_test_fixture.h"
#include "store/postgres/pg_test_db.h"
#include "store/store_test_fixtures.h"
#include "store/writer.h"
#include "trust/chain.h"

namespace omniflow {
namespace {

constexpr int64_t kT = 1765458330000000;

class StoreContract : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    if (database_) store_ = &database_->interactions();
  }
  void TearDown() override {
    store_ = nullptr;
    EngineTest::TearDown();
  }

  // Opens (or closes and reopens) the Database under test.
  void OpenStore() {
    store_ = nullptr;
    Open();
    if (database_) store_ = &database_->interactions();
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
  std::string Save(const std::string& user, int64_t ts, const std::string& body,
                   const BuildOptions& build = BuildOptions()) {
    Result<SaveRequest> request = ParseSaveRequest(body);
    EXPECT_TRUE(request.ok()) << request.status().message();
    if (!request.ok()) return "";
    Stamp stamp{ts, FormatInteractionId(ts), FormatTimestamp(ts)};
    InteractionRecord rec = BuildInteraction(stamp, user, std::move(*request), build);
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

// ---- Idempotency keys ------------------------------------------------------------------------

// A record of `user` at `ts` carrying idempotency key `key` for a request hashed `hash`.
InteractionRecord Keyed(const std::string& user, int64_t ts, const std::string& key,
                        const std::string& hash = "h1") {
  InteractionRecord r = TestRecord(user, ts);
  r.idempotency = IdempotencyKey{key, hash};
  return r;
}

// Appends `batch`, failing the test if the store fails; returns what Append reported.
AppendReport AppendReported(InteractionStore* store, std::vector<InteractionRecord> batch) {
  AppendReport report;
  Status s = store->Append(batch, &report);
  EXPECT_TRUE(s.ok()) << s.message();
  EXPECT_FALSE(report.outcome_unknown);
  EXPECT_EQ(report.priors.size(), batch.size());
  report.priors.resize(batch.size());
  return report;
}

TEST_P(StoreContract, IdempotencyKeyUsedTwiceStoresOnceAndNamesTheOriginal) {
  AppendReport first = AppendReported(store_, {Keyed("u", kT, "key-1")});
  EXPECT_FALSE(first.priors[0].has_value());
  AppendReport again = AppendReported(store_, {Keyed("u", kT + 7, "key-1")});
  ASSERT_TRUE(again.priors[0].has_value());
  EXPECT_EQ(again.priors[0]->interaction_id, FormatInteractionId(kT));
  EXPECT_EQ(again.priors[0]->ts_us, kT);
  EXPECT_EQ(again.priors[0]->request_hash, "h1");
  // Another body under the same key: still the original, whose hash tells the caller apart.
  AppendReport other = AppendReported(store_, {Keyed("u", kT + 8, "key-1", "h2")});
  ASSERT_TRUE(other.priors[0].has_value());
  EXPECT_EQ(other.priors[0]->interaction_id, FormatInteractionId(kT));
  EXPECT_EQ(other.priors[0]->request_hash, "h1");
  HistoryPage page = Page("u");
  EXPECT_EQ(page.total, 1);
  EXPECT_EQ(Ids(page), std::vector<std::string>{FormatInteractionId(kT)});
  EXPECT_EQ(store_->Get("u", FormatInteractionId(kT + 7)).status().code(), Status::Code::kNotFound);
}

TEST_P(StoreContract, IdempotencyKeyTwiceInOneBatchStoresOnce) {
  AppendReport report = AppendReported(
      store_, {Keyed("u", kT, "k"), Rec("u", kT + 1), Keyed("u", kT + 2, "k", "h2"),
                     Keyed("u", kT + 3, "other")});
  EXPECT_FALSE(report.priors[0].has_value());
  EXPECT_FALSE(report.priors[1].has_value());
  ASSERT_TRUE(report.priors[2].has_value());
  EXPECT_EQ(report.priors[2]->interaction_id, FormatInteractionId(kT));
  EXPECT_EQ(report.priors[2]->request_hash, "h1");
  EXPECT_FALSE(report.priors[3].has_value());
  HistoryPage page = Page("u");
  EXPECT_EQ(page.total, 3);
  EXPECT_EQ(Ids(page), (std::vector<std::string>{FormatInteractionId(kT + 3),
                                                 FormatInteractionId(kT + 1),
                                                 FormatInteractionId(kT)}));
  // A batch of nothing but held keys stores nothing and succeeds.
  AppendReport held = AppendReported(store_, {Keyed("u", kT + 4, "k"), Keyed("u", kT + 5, "other")});
  EXPECT_TRUE(held.priors[0].has_value() && held.priors[1].has_value());
  EXPECT_EQ(Page("u").total, 3);
}

TEST_P(StoreContract, IdempotencyKeysOfOneUserNeverCollideWithAnothers) {
  AppendReport report =
      AppendReported(store_, {Keyed("alice", kT, "same"), Keyed("bob", kT + 1, "same")});
  EXPECT_FALSE(report.priors[0].has_value());
  EXPECT_FALSE(report.priors[1].has_value());
  AppendReport later = AppendReported(store_, {Keyed("carol", kT + 2, "same")});
  EXPECT_FALSE(later.priors[0].has_value());
  EXPECT_EQ(Page("alice").total, 1);
  EXPECT_EQ(Page("bob").total, 1);
  EXPECT_EQ(Page("carol").total, 1);
}

TEST_P(StoreContract, IdempotencyKeysSurviveReopenAndArePurgedAfterADay) {
  constexpr int64_t kHour = int64_t{3600} * 1000000;
  AppendReported(store_, {Keyed("u", kT, "old")});
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  AppendReport kept = AppendReported(store_, {Keyed("u", kT + kHour, "old"), Keyed("u", kT + kHour + 1, "recent")});
  ASSERT_TRUE(kept.priors[0].has_value());
  EXPECT_EQ(kept.priors[0]->interaction_id, FormatInteractionId(kT));
  // A day and an hour later, a keyed save purges the keys of saves more than 24 h older.
  AppendReported(store_, {Keyed("u", kT + 25 * kHour, "new")});
  AppendReport after = AppendReported(
      store_, {Keyed("u", kT + 25 * kHour + 1, "old"), Keyed("u", kT + 25 * kHour + 2, "recent")});
  EXPECT_FALSE(after.priors[0].has_value());  // purged: stored anew
  ASSERT_TRUE(after.priors[1].has_value());   // saved less than 24 h before: kept
  EXPECT_EQ(after.priors[1]->interaction_id, FormatInteractionId(kT + kHour + 1));
  EXPECT_EQ(Page("u").total, 4);
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

// ---- LifecycleStore -------------------------------------------------------------------------

TEST_P(StoreContract, RetentionOverridesAndHoldsSurviveReopen) {
  LifecycleStore& life = database_->lifecycle();
  ASSERT_TRUE(life.SetRetention("alice", 30).ok());
  ASSERT_TRUE(life.SetRetention("bob", 0).ok());
  ASSERT_TRUE(life.SetRetention("bob", 7).ok());  // replaces
  EXPECT_EQ(life.SetRetention("carol", -1).code(), Status::Code::kInvalidArgument);
  ASSERT_TRUE(life.SetHold({"carol", "litigation 42", 0}).ok());
  ASSERT_TRUE(life.SetHold({"alice", "audit", kT}).ok());
  ASSERT_TRUE(life.SetHold({"alice", "audit, extended", 0}).ok());  // replaces the reason only
  EXPECT_EQ(life.SetHold({"dave", "", 0}).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(life.SetHold({"dave", std::string(501, 'x'), 0}).code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(life.SetHold({"dave", std::string(500, 'x'), 0}).ok());
  EXPECT_TRUE(life.ReleaseHold("dave").ok());
  EXPECT_EQ(life.ReleaseHold("dave").code(), Status::Code::kNotFound);

  ASSERT_NO_FATAL_FAILURE(OpenStore());
  LifecycleStore& again = database_->lifecycle();
  auto alice = again.GetRetention("alice");
  ASSERT_TRUE(alice.ok());
  EXPECT_EQ(*alice, std::optional<int>(30));
  auto bob = again.GetRetention("bob");
  ASSERT_TRUE(bob.ok());
  EXPECT_EQ(*bob, std::optional<int>(7));
  auto carol = again.GetRetention("carol");
  ASSERT_TRUE(carol.ok());
  EXPECT_FALSE(carol->has_value());
  EXPECT_TRUE(again.DeleteRetention("bob").ok());
  EXPECT_EQ(again.DeleteRetention("bob").code(), Status::Code::kNotFound);

  auto held = again.GetHold("alice");
  ASSERT_TRUE(held.ok());
  ASSERT_TRUE(held->has_value());
  EXPECT_EQ((*held)->reason, "audit, extended");
  EXPECT_EQ((*held)->since_us, kT);
  auto none = again.GetHold("bob");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto holds = again.ListHolds();
  ASSERT_TRUE(holds.ok());
  ASSERT_EQ(holds->size(), 2u);
  EXPECT_EQ((*holds)[0].user_id, "alice");
  EXPECT_EQ((*holds)[1].user_id, "carol");
  EXPECT_EQ((*holds)[1].reason, "litigation 42");
  EXPECT_GT((*holds)[1].since_us, 0);
}


// A small world for the lifecycle tests: five users whose interactions are 60, 40, 20, 10 and 2
// days old at kNow, in two threads, with tool calls (some failing), feedback on some, and
// distinctive words to search for.
constexpr int64_t kNow = kT + 100 * 86'400'000'000;
struct WorldRow {
  std::string user;
  int64_t ts_us;
  std::string body;
  std::optional<double> feedback;
};
std::vector<WorldRow> World() {
  std::vector<WorldRow> rows;
  const int ages[] = {60, 40, 20, 10, 2};
  int n = 0;
  for (const std::string user : {"old", "keep", "short", "held", "new"}) {
    for (int age : ages) {
      if (user == "new" && age > 10) continue;
      ++n;
      const std::string thread = n % 2 ? "t1" : "t2";
      const std::string tools =
          n % 3 == 0 ? R"(,"tool_calls":[{"tool_name":"get_weather","status":"success"},)"
                       R"({"tool_name":"get_tasks","status":"error"}])"
          : n % 3 == 1 ? R"(,"tool_calls":[{"tool_name":"get_weather"}])"
                       : "";
      const std::string words = "zebra" + user + std::to_string(age) + " common words";
      // Token usage on most rows: a priced model, an unpriced one, or none.
      const std::string model = n % 5 == 0 ? "mystery" : "gpt-test";
      const std::string usage =
          n % 3 == 2
              ? ""
              : R"(,"metadata":{"model":")" + model + R"(","usage":{"prompt_tokens":)" +
                    std::to_string(100 * n) + R"(,"completion_tokens":)" + std::to_string(10 * n) +
                    R"(,"prompt_tokens_details":{"cached_tokens":)" + std::to_string(n) + "}}}";
      rows.push_back({user, kNow - age * 86'400'000'000 + n,
                      R"({"user_message":")" + words + R"(","assistant_response":"answer )" + user +
                          R"(","thread_id":")" + thread + "\"" + tools + usage + "}",
                      n % 4 == 0 ? std::optional<double>(n % 8 == 0 ? 1.0 : -1.0) : std::nullopt});
    }
  }
  return rows;
}

// The price table the contract tests save with (per million tokens).
const BuildOptions& PricedBuild() {
  static const PriceTable prices = *PriceTable::Parse(
      R"({"as_of":"2026-12-01","currency":"USD","models":{
          "gpt-test":{"input":2,"cached_input":1,"output":10,"reasoning":30}}})",
      "test");
  static const BuildOptions options{nullptr, &prices};
  return options;
}

std::string UsageText(const UsageTotals& u) {
  return "n=" + std::to_string(u.interactions) + " in=" + std::to_string(u.input) +
         " cached=" + std::to_string(u.cached_input) + " out=" + std::to_string(u.output) +
         " reasoning=" + std::to_string(u.reasoning) + " cost=" + std::to_string(u.cost_nanos) +
         " unpriced=" + std::to_string(u.unpriced);
}

// Tokens and cost as saved, summed per day, model and user; the cost stays as priced at save.
TEST_P(StoreContract, AnalyticsStatsSumTokensAndCostByDayModelAndUser) {
  constexpr int64_t kDay0 = 1764547200000000;  // 2025-12-01T00:00:00Z
  constexpr int64_t kHour = 3600000000;
  // gpt-test: (1000-400)*2 + 400*1 + (300-100)*10 + 100*30 = 6600 per 1e6 -> 6,600,000 nano-USD.
  Save("ann", kDay0 + 10, R"({"user_message":"a","assistant_response":"b","metadata":{
       "model":"gpt-test-2025-01-01","usage":{"prompt_tokens":1000,"completion_tokens":300,
       "prompt_tokens_details":{"cached_tokens":400},
       "completion_tokens_details":{"reasoning_tokens":100}}}})",
       PricedBuild());
  // Unknown model: tokens counted, no cost.
  Save("ann", kDay0 + kHour, R"({"user_message":"a","assistant_response":"b","metadata":{
       "model":"mystery","usage":{"input_tokens":50,"output_tokens":5}}})",
       PricedBuild());
  // Saved without prices (as a server started before a price was known): no cost, ever.
  Save("bob", kDay0 + 25 * kHour, R"({"user_message":"c","assistant_response":"d","metadata":{
       "model":"gpt-test","usage":{"input_tokens":10,"output_tokens":20,"cached_input_tokens":5,
       "reasoning_tokens":2}}})");
  // No usage: counted as an interaction only.
  Save("bob", kDay0 + 26 * kHour, R"({"user_message":"c","assistant_response":"d"})",
       PricedBuild());

  auto stats = Analytics().GetStats(StatsQuery{});
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  EXPECT_EQ(stats->interactions, 4);
  EXPECT_EQ(UsageText(stats->usage),
            "n=3 in=1060 cached=405 out=325 reasoning=102 cost=6600000 unpriced=2");
  ASSERT_EQ(stats->per_day.size(), 2u);
  EXPECT_EQ(UsageText(stats->per_day[0].usage),
            "n=2 in=1050 cached=400 out=305 reasoning=100 cost=6600000 unpriced=1");
  EXPECT_EQ(UsageText(stats->per_day[1].usage),
            "n=1 in=10 cached=5 out=20 reasoning=2 cost=0 unpriced=1");
  ASSERT_EQ(stats->usage_by_model.size(), 3u);  // most cost first, then most tokens
  EXPECT_EQ(stats->usage_by_model[0].model, "gpt-test-2025-01-01");
  EXPECT_EQ(stats->usage_by_model[0].usage.cost_nanos, 6'600'000);
  EXPECT_EQ(stats->usage_by_model[1].model, "mystery");
  EXPECT_EQ(stats->usage_by_model[2].model, "gpt-test");
  EXPECT_EQ(stats->usage_by_model[2].usage.unpriced, 1);
  ASSERT_EQ(stats->usage_by_user.size(), 2u);
  EXPECT_EQ(stats->usage_by_user[0].user_id, "ann");
  EXPECT_EQ(UsageText(stats->usage_by_user[0].usage),
            "n=2 in=1050 cached=400 out=305 reasoning=100 cost=6600000 unpriced=1");
  EXPECT_EQ(stats->usage_by_user[1].user_id, "bob");

  StatsQuery bob;
  bob.scope.user_id = "bob";
  stats = Analytics().GetStats(bob);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(UsageText(stats->usage), "n=1 in=10 cached=5 out=20 reasoning=2 cost=0 unpriced=1");
  ASSERT_EQ(stats->usage_by_user.size(), 1u);
  EXPECT_EQ(stats->usage_by_user[0].user_id, "bob");
  ASSERT_EQ(stats->usage_by_model.size(), 1u);
  EXPECT_EQ(stats->usage_by_model[0].model, "gpt-test");

  StatsQuery day1;
  day1.scope.from_us = kDay0;
  day1.scope.to_us = kDay0 + 24 * kHour;
  stats = Analytics().GetStats(day1);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->usage.interactions, 2);
  EXPECT_EQ(stats->usage.cost_nanos, 6'600'000);
  ASSERT_EQ(stats->usage_by_user.size(), 1u);

  // From 01:30 on day 1 (01:00, rounded down): the totals and models follow the hours (ann's
  // first save, at 00:00, is left out); usage by user over every user counts whole UTC days,
  // as top_users does.
  StatsQuery half_hour_in;
  half_hour_in.scope.from_us = kDay0 + kHour + kHour / 2;
  half_hour_in.scope.to_us = kDay0 + 24 * kHour;
  stats = Analytics().GetStats(half_hour_in);
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->usage.interactions, 1);
  ASSERT_EQ(stats->usage_by_user.size(), 1u);
  EXPECT_EQ(UsageText(stats->usage_by_user[0].usage),
            "n=2 in=1050 cached=400 out=305 reasoning=100 cost=6600000 unpriced=1");
  half_hour_in.scope.user_id = "ann";
  stats = Analytics().GetStats(half_hour_in);
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(stats->usage_by_user.size(), 1u);
  EXPECT_EQ(stats->usage_by_user[0].usage.interactions, 1) << "one user's view follows the hours";

  // The usage survives a reopen (it is stored, not recomputed).
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  stats = Analytics().GetStats(StatsQuery{});
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->usage.cost_nanos, 6'600'000);
  EXPECT_EQ(stats->usage.input, 1060);
}

// Everything a reader can see of a store, rendered as text so that two stores compare whole.
std::string Observe(Database& db, const std::vector<std::string>& users) {
  std::string out;
  auto add = [&out](const std::string& line) { out += line + "\n"; };
  for (const std::string& user : users) {
    for (std::optional<std::string> thread : {std::optional<std::string>(), std::optional<std::string>("t1"),
                                              std::optional<std::string>("t2")}) {
      HistoryPage page = TestPage(&db.interactions(), user, 100, 0, thread);
      std::string line = "history " + user + " " + thread.value_or("*") + " total=" +
                         std::to_string(page.total);
      for (const std::string& item : page.items) line += " " + item.substr(0, 60);
      add(line);
    }
    for (const std::string& word : {std::string("zebra") + user, std::string("common")}) {
      SearchQuery q;
      q.q = word;
      q.scope.user_id = user;
      auto found = db.analytics().Search(q);
      EXPECT_TRUE(found.ok());
      std::string line = "search " + user + " " + word + ":";
      if (found.ok()) {
        for (const auto& item : found->items) {
          line += " " + item.position.interaction_id;
          if (item.feedback) line += "/fb" + std::to_string(item.feedback->score);
        }
      }
      add(line);
    }
  }
  for (std::optional<std::string> scope : {std::optional<std::string>()}) {
    StatsQuery sq;
    sq.scope.user_id = scope;
    auto stats = db.analytics().GetStats(sq);
    EXPECT_TRUE(stats.ok());
    if (!stats.ok()) continue;
    add("stats n=" + std::to_string(stats->interactions) + " calls=" + std::to_string(stats->tool_calls) +
        " failures=" + std::to_string(stats->tool_failures) + " users=" +
        std::to_string(stats->active_users) + " threads=" + std::to_string(stats->threads));
    add("usage " + UsageText(stats->usage));
    for (const auto& m : stats->usage_by_model)
      add("usage model " + m.model + " " + UsageText(m.usage));
    for (const auto& u : stats->usage_by_user)
      add("usage user " + u.user_id + " " + UsageText(u.usage));
    for (const auto& b : stats->per_day) {
      add("day " + std::to_string(b.start_us) + " " + std::to_string(b.interactions) + " " +
          std::to_string(b.tool_calls) + " " + std::to_string(b.tool_failures) + " " +
          UsageText(b.usage));
    }
    for (const auto& b : stats->per_hour) {
      add("hour " + std::to_string(b.start_us) + " " + std::to_string(b.interactions) + " " +
          std::to_string(b.tool_calls) + " " + std::to_string(b.tool_failures));
    }
    for (const auto& t : stats->top_tools) {
      add("tool " + t.tool_name + " " + std::to_string(t.calls) + " " + std::to_string(t.failures));
    }
    for (const auto& u : stats->top_users) add("top_user " + u.user_id + " " + std::to_string(u.interactions));
    for (const auto& t : stats->top_threads) {
      add("top_thread " + t.user_id + "/" + t.thread_id + " " + std::to_string(t.interactions) + " " +
          std::to_string(t.first_us) + ".." + std::to_string(t.last_us));
    }
    for (const auto& r : stats->top_requests) add("request " + r.text + " " + std::to_string(r.count));
    add("feedback " + std::to_string(stats->feedback.count) + " +" + std::to_string(stats->feedback.positive) +
        " -" + std::to_string(stats->feedback.negative) + " avg=" + std::to_string(stats->feedback.average));
  }
  auto listed = db.analytics().ListUsers(UsersQuery{});
  EXPECT_TRUE(listed.ok());
  if (listed.ok()) {
    add("users total=" + std::to_string(listed->total));
    for (const auto& u : listed->users) {
      add("user " + u.user_id + " " + std::to_string(u.interactions) + " " + std::to_string(u.threads) +
          " " + std::to_string(u.first_us) + ".." + std::to_string(u.last_us));
    }
  }
  auto threads = db.analytics().ListThreads(ThreadsQuery{});
  EXPECT_TRUE(threads.ok());
  if (threads.ok()) {
    for (const auto& t : threads->threads) {
      add("thread " + t.user_id + "/" + t.thread_id + " " + std::to_string(t.interactions) + " " +
          std::to_string(t.first_us) + ".." + std::to_string(t.last_us) + " [" + t.first_message +
          "] [" + t.last_message + "]");
    }
  }
  return out;
}

class LifecycleContract : public StoreContract {
 protected:
  // Saves `rows` (and their feedback) into `db`, then lets the search index catch up, so that
  // removals find the rows indexed. Returns the interaction ids in order.
  static std::vector<std::string> Fill(Database& db, const std::vector<WorldRow>& rows) {
    std::vector<std::string> ids;
    for (const WorldRow& row : rows) {
      Result<SaveRequest> request = ParseSaveRequest(row.body);
      EXPECT_TRUE(request.ok()) << request.status().message();
      if (!request.ok()) return ids;
      Stamp stamp{row.ts_us, FormatInteractionId(row.ts_us), FormatTimestamp(row.ts_us)};
      InteractionRecord rec = BuildInteraction(stamp, row.user, std::move(*request), PricedBuild());
      EXPECT_TRUE(db.interactions().Append({&rec, 1}).ok());
      if (row.feedback) {
        EXPECT_TRUE(db.analytics().SetFeedback(row.user, stamp.interaction_id,
                                               Feedback{*row.feedback, "noted", row.ts_us + 1})
                        .ok());
      }
      ids.push_back(stamp.interaction_id);
    }
    EXPECT_TRUE(db.interactions().CatchUp({}).ok());
    return ids;
  }
  // A second, empty store of the same engine, for comparisons.
  std::unique_ptr<Database> Fresh() {
    StoreOptions options;
    if (GetParam() == "sqlite") {
      std::string tmpl = (std::filesystem::temp_directory_path() / "omniflow-fresh-XXXXXX").string();
      EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
      fresh_dir_ = tmpl;
      options.data_dir = fresh_dir_;
    } else {
      const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
      fresh_db_ = std::make_unique<pg::TestDatabase>(std::string(info->name()) + ".fresh");
      options.url = fresh_db_->url();
    }
    auto db = Database::Open(options);
    EXPECT_TRUE(db.ok()) << db.status().message();
    return db.ok() ? std::move(*db) : nullptr;
  }
  void TearDown() override {
    StoreContract::TearDown();
    fresh_db_.reset();
    if (!fresh_dir_.empty()) std::filesystem::remove_all(fresh_dir_);
  }

  const std::vector<std::string> users_ = {"old", "keep", "short", "held", "new"};
  std::string fresh_dir_;
  std::unique_ptr<pg::TestDatabase> fresh_db_;
};

TEST_P(LifecycleContract, PurgeRemovesWhatPoliciesExpireEverywhereAndSparesHeldUsers) {
  LifecycleStore& life = database_->lifecycle();
  ASSERT_TRUE(life.SetRetention("keep", 0).ok());
  ASSERT_TRUE(life.SetRetention("short", 5).ok());
  ASSERT_TRUE(life.SetHold({"held", "litigation", 0}).ok());
  const std::vector<WorldRow> world = World();
  Fill(*database_, world);
  const std::string before = Observe(*database_, users_);

  PurgeOptions options;
  options.default_days = 30;
  options.now_us = kNow;
  options.batch_rows = 2;  // several transactions per user
  options.dry_run = true;
  auto dry = life.Purge(options);
  ASSERT_TRUE(dry.ok()) << dry.status().message();
  EXPECT_EQ(dry->interactions, 6);  // old: 60, 40 days; short: 60, 40, 20, 10 days
  EXPECT_EQ(dry->users, 2);
  EXPECT_EQ(dry->held_users_skipped, 1);
  EXPECT_EQ(Observe(*database_, users_), before) << "a dry run removed something";

  options.dry_run = false;
  auto purged = life.Purge(options);
  ASSERT_TRUE(purged.ok()) << purged.status().message();
  EXPECT_EQ(purged->interactions, 6);
  EXPECT_EQ(purged->users, 2);
  EXPECT_EQ(purged->held_users_skipped, 1);

  // Exactly what a store of the survivors alone shows: history and totals, threads, search,
  // stats and their aggregates, users, feedback.
  std::vector<WorldRow> survivors;
  for (const WorldRow& row : world) {
    const int64_t age_days = (kNow - row.ts_us) / 86'400'000'000;
    const bool expired = (row.user == "old" && age_days >= 30) || (row.user == "short" && age_days >= 5);
    if (!expired) survivors.push_back(row);
  }
  ASSERT_EQ(survivors.size() + 6, world.size());
  std::unique_ptr<Database> fresh = Fresh();
  ASSERT_NE(fresh, nullptr);
  Fill(*fresh, survivors);
  const std::string after = Observe(*database_, users_);
  EXPECT_EQ(after, Observe(*fresh, users_));
  EXPECT_EQ(after.find("zebraold60"), std::string::npos);
  EXPECT_NE(after.find("zebraheld60"), std::string::npos);  // the held user's data is intact

  // Purged ids are gone for by-id reads; a second run finds nothing.
  auto again = life.Purge(options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->interactions, 0);
  EXPECT_EQ(again->held_users_skipped, 1);
  // Released, the held user is purged too.
  ASSERT_TRUE(life.ReleaseHold("held").ok());
  auto released = life.Purge(options);
  ASSERT_TRUE(released.ok());
  EXPECT_EQ(released->interactions, 2);
  EXPECT_EQ(released->held_users_skipped, 0);
  EXPECT_EQ(Page("held").total, 3);
}

TEST_P(LifecycleContract, PurgedInteractionsAreNotFoundById) {
  std::vector<std::string> ids = Fill(*database_, World());
  PurgeOptions options;
  options.default_days = 30;
  options.now_us = kNow;
  auto purged = database_->lifecycle().Purge(options);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(purged->interactions, 8);  // 60 and 40 days of old, keep, short, held
  EXPECT_EQ(purged->users, 4);
  EXPECT_EQ(store_->Get("old", ids[0]).status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(store_->Get("old", ids[2]).ok());
  auto feedback = Analytics().GetFeedback("old", ids[3]);  // the 4th row had feedback; 10 days old
  ASSERT_TRUE(feedback.ok());
  EXPECT_TRUE(feedback->has_value());
}

TEST_P(LifecycleContract, EraseUserRemovesEverythingOfThatUserOnly) {
  LifecycleStore& life = database_->lifecycle();
  // The erased user's rows come last, so that the newest seqs go (SQLite reuses them).
  std::vector<WorldRow> world = World();
  std::stable_partition(world.begin(), world.end(), [](const WorldRow& r) { return r.user != "short"; });
  std::vector<std::string> ids = Fill(*database_, world);
  ASSERT_TRUE(life.SetRetention("short", 5).ok());
  ASSERT_TRUE(Data().Add("short", "tasks.json", R"({"title":"a"})").ok());
  ASSERT_TRUE(Data().Add("short", "tasks.json", R"({"title":"b"})").ok());
  ASSERT_TRUE(Data().Add("short", "notes.json", R"({"text":"c"})").ok());
  ASSERT_TRUE(Data().Add("keep", "notes.json", R"({"text":"d"})").ok());

  auto erased = life.EraseUser("short");
  ASSERT_TRUE(erased.ok()) << erased.status().message();
  std::vector<std::string> expected_ids;
  int64_t tool_calls = 0, feedback = 0;
  std::set<std::string> threads;
  for (size_t i = 0; i < world.size(); ++i) {
    if (world[i].user != "short") continue;
    expected_ids.push_back(ids[i]);
    feedback += world[i].feedback.has_value();
    auto rec = ParseSaveRequest(world[i].body);
    ASSERT_TRUE(rec.ok());
    threads.insert(world[i].body.find("\"t1\"") != std::string::npos ? "t1" : "t2");
    tool_calls += world[i].body.find("get_tasks") != std::string::npos ? 2
                  : world[i].body.find("get_weather") != std::string::npos ? 1 : 0;
  }
  std::sort(expected_ids.begin(), expected_ids.end());
  EXPECT_EQ(erased->interactions, 5);
  EXPECT_EQ(erased->interaction_ids, expected_ids);
  EXPECT_EQ(erased->tool_calls, tool_calls);
  EXPECT_EQ(erased->feedback, feedback);
  EXPECT_EQ(erased->threads, static_cast<int64_t>(threads.size()));
  EXPECT_EQ(erased->data_documents, 2);
  EXPECT_EQ(erased->data_entries, 3);
  auto override_left = life.GetRetention("short");
  ASSERT_TRUE(override_left.ok());
  EXPECT_FALSE(override_left->has_value());
  auto docs = Data().List("short");
  ASSERT_TRUE(docs.ok());
  EXPECT_TRUE(docs->empty());
  EXPECT_EQ(Data().List("keep")->size(), 1u);

  // Everything else is as a store without that user would hold it.
  std::vector<WorldRow> others;
  for (const WorldRow& row : world) {
    if (row.user != "short") others.push_back(row);
  }
  std::unique_ptr<Database> fresh = Fresh();
  ASSERT_NE(fresh, nullptr);
  Fill(*fresh, others);
  EXPECT_EQ(Observe(*database_, users_), Observe(*fresh, users_));
  auto stats = Analytics().GetStats(StatsQuery{});
  ASSERT_TRUE(stats.ok());
  EXPECT_GT(stats->usage.input, 0);  // the others' tokens are still counted
  for (const UserUsage& u : stats->usage_by_user) EXPECT_NE(u.user_id, "short");

  // New saves after the erasure are kept and found, by the user too (the seqs SQLite reuses
  // are indexed).
  const std::string id = Save("short", kNow + 5, R"({"user_message":"fresh zebrastart","assistant_response":"ok"})");
  const std::string other = Save("keep", kNow + 6, R"({"user_message":"later zebralater","assistant_response":"ok"})");
  ASSERT_TRUE(store_->CatchUp({}).ok());
  EXPECT_EQ(Found("zebrastart", "short"), std::vector<std::string>{id});
  EXPECT_EQ(Found("zebralater", "keep"), std::vector<std::string>{other});
  EXPECT_EQ(Page("short").total, 1);

  auto none = life.EraseUser("nobody");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->interactions, 0);
  EXPECT_EQ(none->tool_calls, 0);
  EXPECT_EQ(none->feedback, 0);
  EXPECT_EQ(none->threads, 0);
  EXPECT_EQ(none->data_documents, 0);
  EXPECT_EQ(none->data_entries, 0);
  EXPECT_TRUE(none->interaction_ids.empty());
}

TEST_P(LifecycleContract, EraseOfAHeldUserRefusesAndKeepsEverything) {
  LifecycleStore& life = database_->lifecycle();
  Fill(*database_, World());
  ASSERT_TRUE(Data().Add("held", "tasks.json", R"({"title":"a"})").ok());
  ASSERT_TRUE(life.SetRetention("held", 3).ok());
  ASSERT_TRUE(life.SetHold({"held", "case 7", 0}).ok());
  const std::string before = Observe(*database_, users_);
  auto refused = life.EraseUser("held");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("case 7"), std::string::npos);
  EXPECT_EQ(Observe(*database_, users_), before);
  EXPECT_EQ(Data().List("held")->size(), 1u);
  EXPECT_EQ(*life.GetRetention("held"), std::optional<int>(3));
  ASSERT_TRUE(life.ReleaseHold("held").ok());
  auto erased = life.EraseUser("held");
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(erased->interactions, 5);
  EXPECT_EQ(Page("held").total, 0);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, LifecycleContract, ::testing::Values(std::string("sqlite")), EngineName);
INSTANTIATE_TEST_SUITE_P(Postgres, LifecycleContract, ::testing::Values(std::string("postgres")), EngineName);


// ---- ChainStore --------------------------------------------------------------------------------

class ChainContract : public StoreContract {
 protected:
  using Walked = WalkedChain;
  // Walks the chain from `from_seq` through a verifier.
  Walked Walk(int64_t from_seq = 1) { return WalkChain(database_->chain(), from_seq); }
  std::string SaveBody(const std::string& text, const std::string& thread = "") {
    return R"({"user_message":")" + text + R"(","assistant_response":"re )" + text + "\"" +
           (thread.empty() ? "" : R"(,"thread_id":")" + thread + "\"") +
           R"(,"tool_calls":[{"tool_name":"get_data","arguments":{"k":")" + text +
           R"("},"result":{"ok":true}}],"metadata":{"m":")" + text + R"("}})";
  }
  static constexpr int64_t kT0 = 1765458330000000;
};

TEST_P(ChainContract, EverySaveIsTheNextLinkAndTheChainVerifies) {
  Result<trust::ChainHead> empty = database_->chain().Head();
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->seq, 0);
  EXPECT_EQ(empty->hash, trust::kGenesis);
  Save("alice", kT0, SaveBody("one", "t1"));
  Save("bob", kT0 + 1, SaveBody("two"));
  // A batch of several users' records: each its own link, in the batch's order.
  std::vector<InteractionRecord> batch;
  for (int i = 0; i < 4; ++i) {
    Result<SaveRequest> request = ParseSaveRequest(SaveBody("b" + std::to_string(i), "t2"));
    ASSERT_TRUE(request.ok());
    const int64_t ts = kT0 + 10 + i;
    batch.push_back(BuildInteraction(Stamp{ts, FormatInteractionId(ts), FormatTimestamp(ts)},
                                     i % 2 ? "alice" : "carol", std::move(*request), {}));
  }
  ASSERT_TRUE(store_->Append(batch).ok());
  Walked w = Walk();
  EXPECT_FALSE(w.broken) << (w.broken ? w.broken->record + ": " + w.broken->why : "");
  ASSERT_EQ(w.records.size(), 6u);
  for (size_t i = 0; i < w.records.size(); ++i) {
    EXPECT_EQ(w.records[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(w.records[i].kind, trust::ChainRecord::Kind::kInteraction);
  }
  EXPECT_EQ(w.records[0].id, FormatInteractionId(kT0));
  EXPECT_EQ(w.records[5].id, batch[3].interaction_id);
  // The JSON hashed is the record as served.
  Result<std::string> served = store_->Get("carol", batch[2].interaction_id);
  ASSERT_TRUE(served.ok());
  EXPECT_EQ(w.records[4].json, *served);
  Result<trust::ChainHead> head = database_->chain().Head();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->seq, 6);
  EXPECT_EQ(head->hash, *w.records[5].stored);
  EXPECT_EQ(w.snapshot.head.seq, 6);
  // From the middle: the hash before is trusted, the rest verified.
  Walked tail = Walk(4);
  EXPECT_FALSE(tail.broken);
  EXPECT_EQ(tail.records.size(), 3u);
  EXPECT_EQ(tail.snapshot.before, *w.records[2].stored);
}

TEST_P(ChainContract, HeldIdempotencyKeysTakeNoSeqAndTheChainSurvivesReopen) {
  InteractionRecord first = Rec("u", kT0);
  first.idempotency = IdempotencyKey{"k1", "h1"};
  ASSERT_TRUE(store_->Append({&first, 1}).ok());
  InteractionRecord again = Rec("u", kT0 + 5);
  again.idempotency = IdempotencyKey{"k1", "h1"};
  AppendReport report;
  ASSERT_TRUE(store_->Append({&again, 1}, &report).ok());
  ASSERT_TRUE(report.priors[0].has_value());
  EXPECT_EQ(database_->chain().Head()->seq, 1);
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  EXPECT_EQ(database_->chain().Head()->seq, 1);
  Save("u", kT0 + 9, SaveBody("after reopen"));
  Walked w = Walk();
  EXPECT_FALSE(w.broken) << (w.broken ? w.broken->record + ": " + w.broken->why : "");
  EXPECT_EQ(w.records.size(), 2u);
  EXPECT_EQ(w.snapshot.head.seq, 2);
}

TEST_P(ChainContract, ErasedAndPurgedRecordsLeaveTombstonesAndTheChainVerifies) {
  const int64_t now = kT0 + 400 * 86'400'000'000LL;
  for (int i = 0; i < 3; ++i) Save("alice", now - 1000 + i, SaveBody("alice " + std::to_string(i)));
  for (int i = 0; i < 2; ++i) Save("old", kT0 + i, SaveBody("old " + std::to_string(i)));
  Save("bob", now - 10, SaveBody("bob"));
  ASSERT_TRUE(store_->CatchUp({}).ok());
  Walked before = Walk();
  ASSERT_FALSE(before.broken);
  ASSERT_EQ(before.records.size(), 6u);
  ASSERT_TRUE(database_->lifecycle().EraseUser("alice").ok());
  PurgeOptions purge;
  purge.default_days = 30;
  purge.now_us = now;
  Result<PurgeReport> purged = database_->lifecycle().Purge(purge);
  ASSERT_TRUE(purged.ok()) << purged.status().message();
  EXPECT_EQ(purged->interactions, 2);
  Walked after = Walk();
  EXPECT_FALSE(after.broken) << (after.broken ? after.broken->why : "");
  ASSERT_EQ(after.records.size(), 6u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(after.records[i].kind, trust::ChainRecord::Kind::kTombstone) << i;
    EXPECT_TRUE(after.records[i].json.empty());
    EXPECT_EQ(after.records[i].stored, before.records[i].stored) << i;
  }
  EXPECT_EQ(after.records[5].kind, trust::ChainRecord::Kind::kInteraction);
  EXPECT_EQ(after.snapshot.head.hash, before.snapshot.head.hash);
  Save("bob", now - 5, SaveBody("bob again"));
  EXPECT_EQ(database_->chain().Head()->seq, 7);
  EXPECT_FALSE(Walk().broken);
}

// Saves from many clients at once through the group-commit writer, on as many lanes as the
// store takes (PostgreSQL: pg_write_connections, batches in flight together), with audit
// entries between them: each save acknowledged is one link and readable, and the chain verifies
// with no gap.
TEST_P(ChainContract, ConcurrentSavesOnEveryLaneWithAuditEntriesKeepOneVerifiedChain) {
  options_.pg_write_connections = 3;
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  EXPECT_EQ(store_->parallel_appends(), GetParam() == "postgres" ? 3 : 1);
  std::vector<InteractionRecord> acked;
  {
    Writer writer(store_, WriterOptions{});
    std::thread audit([&] {
      AppendAuditEntries(20, kT0, [&](int) -> AuditStore& { return database_->audit(); });
    });
    acked = SaveConcurrently(writer, 8, 100, kT0);
    audit.join();
  }
  ASSERT_EQ(acked.size(), 800u);
  Walked w = Walk();
  EXPECT_FALSE(w.broken) << w.why();
  size_t interactions = 0, audits = 0;
  for (const trust::ChainRecord& r : w.records) {
    (r.kind == trust::ChainRecord::Kind::kAudit ? audits : interactions) += 1;
  }
  EXPECT_EQ(interactions, 800u);
  EXPECT_EQ(audits, 20u);
  EXPECT_EQ(w.snapshot.head.seq, 820);
  for (const InteractionRecord& r : acked) {
    Result<std::string> stored = store_->Get(r.user_id, r.interaction_id);
    ASSERT_TRUE(stored.ok()) << r.interaction_id;
    EXPECT_EQ(*stored, r.json);
  }
  EXPECT_EQ(Page("u0").total + Page("u1").total + Page("u2").total, 800);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, ChainContract, ::testing::Values(std::string("sqlite")), EngineName);
INSTANTIATE_TEST_SUITE_P(Postgres, ChainContract, ::testing::Values(std::string("postgres")), EngineName);


// Two instantiations, so that ctest's filters split them: "-Postgres*" (the plain pass) runs
// Sqlite/StoreContract.*, "Postgres*" (the pg.* pass, with a database) runs the other.
INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContract, ::testing::Values(std::string("sqlite")), EngineName);
INSTANTIATE_TEST_SUITE_P(Postgres, StoreContract, ::testing::Values(std::string("postgres")), EngineName);

}  // namespace
}  // namespace omniflow
