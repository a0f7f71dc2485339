// PostgresStore against a real PostgreSQL: the test cluster of ctest's PostgreSQL pass
// (OMNIFLOW_TEST_STORE, see scripts/test-postgres.sh). Each test gets a database of its own,
// owned by the non-superuser role the servers use, so row-level security applies.
#include "store/postgres/postgres_store.h"

#include "store/database.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "core/ids.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/pg_test_db.h"
#include "store/store_test_fixtures.h"
#include "store/writer.h"

namespace omniflow {
namespace {

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!db_.configured()) GTEST_SKIP() << "set OMNIFLOW_TEST_STORE (ctest's pg.* tests do)";
    ASSERT_TRUE(db_.error().empty()) << db_.error();
    options_.url = db_.url();
    options_.pg_write_connections = 3;  // batches in flight together
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override { store_.reset(); }
  // A Database on the test database: another server, as far as the store can tell.
  std::unique_ptr<Database> Open() {
    auto store = Database::Open(options_);
    EXPECT_TRUE(store.ok()) << store.status().message();
    return store.ok() ? std::move(*store) : nullptr;
  }
  static InteractionRecord Rec(const std::string& user, int64_t ts, const std::string& suffix = "",
                               std::optional<std::string> thread = std::nullopt) {
    return TestRecord(user, ts, suffix, std::move(thread));
  }
  HistoryPage Page(const std::string& user, int limit = 50, int64_t offset = 0,
                   std::optional<std::string> thread = std::nullopt,
                   std::optional<HistoryCursor> after = std::nullopt) {
    return TestPage(&store_->interactions(), user, limit, offset, std::move(thread), std::move(after));
  }

  pg::TestDatabase db_{::testing::UnitTest::GetInstance()->current_test_info()->name()};
  StoreOptions options_;
  std::unique_ptr<Database> store_;
};

const int64_t kT = 1765458330000000;

// The engine-neutral promises (order, paging, counts, Get, atomic batches, bodies, reopening)
// are in src/store/store_contract_test.cpp; what follows is PostgreSQL's own.

TEST_F(PostgresStoreTest, MigrationsAppliedTwiceAreANoOp) {
  auto conn = pg::Conn::Connect(options_.url);
  ASSERT_TRUE(conn.ok());
  auto again = pg::Migrate(*conn);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->applied, 0);
  EXPECT_GE(again->version, 2);
  auto rows = conn->Exec("SELECT COUNT(*) FROM schema_migrations");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->Int(0, 0), again->version);
}

TEST_F(PostgresStoreTest, ConcurrentOpensMigrateOnceAndLeaseDistinctIdSlots) {
  std::vector<std::unique_ptr<Database>> stores(4);
  std::vector<std::thread> threads;
  for (auto& s : stores) threads.emplace_back([&] { s = Open(); });
  for (auto& t : threads) t.join();
  std::set<int> slots = {store_->interactions().id_space().slot};
  for (auto& s : stores) {
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->interactions().id_space().slots, PostgresStore::kIdSlots);
    slots.insert(s->interactions().id_space().slot);
  }
  EXPECT_EQ(slots.size(), 5u);
  // A closed store's slot is free again.
  int freed = stores[0]->interactions().id_space().slot;
  stores[0].reset();
  auto reopened = Open();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->interactions().id_space().slot, freed);
}

TEST_F(PostgresStoreTest, AllSlotsHeldRefusesAnotherServerAndAnExpiredLeaseIsTakenOver) {
  std::vector<std::unique_ptr<Database>> more;
  for (int i = 1; i < PostgresStore::kIdSlots; ++i) {
    more.push_back(Open());
    ASSERT_NE(more.back(), nullptr);
  }
  auto refused = Database::Open(options_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(refused.status().message().find("id slots"), std::string::npos);
  // A lease that ran out (a server that died without giving its slot back) is taken over.
  auto conn = pg::Conn::Connect(options_.url);
  ASSERT_TRUE(conn.ok());
  const int stale = more.back()->interactions().id_space().slot;
  ASSERT_TRUE(conn->Exec("UPDATE id_slots SET holder = 'dead', expires_at = now() - interval '1 s' "
                         "WHERE slot = " + std::to_string(stale)).ok());
  auto taker = Database::Open(options_);
  ASSERT_TRUE(taker.ok()) << taker.status().message();
  EXPECT_EQ((*taker)->interactions().id_space().slot, stale);
}

TEST_F(PostgresStoreTest, TwoWritersOnOneDatabaseKeepCountsExact) {
  auto second = Open();
  ASSERT_NE(second, nullptr);
  auto write = [&](InteractionStore* store, int64_t base) {
    for (int b = 0; b < 20; ++b) {
      std::vector<InteractionRecord> batch;
      for (int i = 0; i < 10; ++i) {
        // Both writers hit the same users' count rows, in different mixes.
        batch.push_back(Rec(i % 2 ? "shared_a" : "shared_b", base + b * 100 + i * 2, "",
                            std::string("t") + std::to_string(i % 3)));
      }
      EXPECT_TRUE(store->Append(batch).ok());
    }
  };
  std::thread a(write, &store_->interactions(), kT), b(write, &second->interactions(), kT + 1);
  a.join();
  b.join();
  EXPECT_EQ(Page("shared_a").total, 200);
  EXPECT_EQ(Page("shared_b").total, 200);
  int64_t threads_total = 0;
  for (const char* t : {"t0", "t1", "t2"}) {
    threads_total += Page("shared_a", 1, 0, std::string(t)).total + Page("shared_b", 1, 0, std::string(t)).total;
  }
  EXPECT_EQ(threads_total, 400);
}

// Two servers on one database, each saving on three lanes with audit entries between: every
// batch lands in one chain, whichever server's speculation lost, and each server reads what
// the other stored.
TEST_F(PostgresStoreTest, TwoServersOnThreeLanesEachWithAuditEntriesKeepOneVerifiedChain) {
  auto second = Open();
  ASSERT_NE(second, nullptr);
  ASSERT_EQ(second->interactions().parallel_appends(), 3);
  std::vector<InteractionRecord> acked[2];
  {
    Writer one(&store_->interactions(), WriterOptions{});
    Writer two(&second->interactions(), WriterOptions{});
    std::thread audit([&] {
      AppendAuditEntries(30, kT, [&](int i) -> AuditStore& {
        return (i % 2 ? *second : *store_).audit();
      });
    });
    std::thread other([&] { acked[1] = SaveConcurrently(two, 6, 80, kT + 500'000'000); });
    acked[0] = SaveConcurrently(one, 6, 80, kT);
    other.join();
    audit.join();
  }
  ASSERT_EQ(acked[0].size(), 480u);
  ASSERT_EQ(acked[1].size(), 480u);
  WalkedChain w = WalkChain(store_->chain());
  EXPECT_FALSE(w.broken) << w.why();
  EXPECT_EQ(w.records.size(), 990u);
  EXPECT_EQ(w.snapshot.head.seq, 990);
  for (int s = 0; s < 2; ++s) {
    InteractionStore& reader = (s ? *store_ : *second).interactions();
    for (const InteractionRecord& r : acked[s]) {
      Result<std::string> stored = reader.Get(r.user_id, r.interaction_id);
      ASSERT_TRUE(stored.ok()) << r.interaction_id;
      EXPECT_EQ(*stored, r.json);
    }
  }
  EXPECT_EQ(Page("u0").total + Page("u1").total + Page("u2").total, 960);
}

// The backends of this database waiting for a lock (the head's, below), oldest first.
std::vector<int64_t> WaitingToAdvance(pg::Conn& conn) {
  Result<pg::Res> rows = conn.Exec(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
      "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() ORDER BY query_start");
  std::vector<int64_t> pids;
  for (int i = 0; rows.ok() && i < rows->rows(); ++i) pids.push_back(rows->Int(i, 0));
  return pids;
}

bool WaitForWaiting(pg::Conn& conn, size_t n) {
  for (int i = 0; i < 500; ++i) {
    if (WaitingToAdvance(conn).size() >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Batch A is in flight with its head move sent, and batch B, on another lane, is linked after
// it; then A fails (here: canceled). B must not commit linked to A's head that never was: it
// is linked again on the committed head and stored, and the chain verifies without A's seqs.
TEST_F(PostgresStoreTest, ABatchLinkedAfterAFailedOneIsLinkedAgainNeverOnTheFailedHead) {
  InteractionStore& store = store_->interactions();
  ASSERT_EQ(store.parallel_appends(), 3);
  InteractionRecord seed = TestSavedRecord("s", kT, "seed");
  ASSERT_TRUE(store.Append({&seed, 1}).ok());
  // An audit writer on the side holds the head's lock, so that A and B queue behind it.
  auto holder = pg::Conn::Connect(options_.url);
  auto watcher = pg::Conn::Connect(options_.url);
  ASSERT_TRUE(holder.ok() && watcher.ok());
  ASSERT_TRUE(holder->Exec("BEGIN").ok());
  ASSERT_TRUE(holder->Exec("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE").ok());
  std::vector<InteractionRecord> a = {TestSavedRecord("a", kT + 10, "a1"),
                                      TestSavedRecord("a", kT + 11, "a2")};
  std::vector<InteractionRecord> b = {TestSavedRecord("b", kT + 20, "b1"),
                                      TestSavedRecord("b", kT + 21, "b2")};
  Status a_status, b_status;
  std::thread lane_a([&] { a_status = store.Append(a); });
  const bool a_waits = WaitForWaiting(*watcher, 1);
  const std::vector<int64_t> first = WaitingToAdvance(*watcher);
  std::thread lane_b([&] { b_status = store.Append(b); });
  const bool b_waits = WaitForWaiting(*watcher, 2);
  // A fails while B waits linked after it.
  if (!first.empty()) {
    EXPECT_TRUE(watcher->Exec("SELECT pg_cancel_backend(" + std::to_string(first[0]) + ")").ok());
  }
  const bool both_waited = a_waits && b_waits;
  if (!both_waited) {
    EXPECT_TRUE(holder->Exec("ROLLBACK").ok());  // lets A end
  }
  lane_a.join();
  if (both_waited) {
    EXPECT_TRUE(holder->Exec("ROLLBACK").ok());
  }
  lane_b.join();
  ASSERT_TRUE(a_waits);
  ASSERT_TRUE(b_waits);
  EXPECT_FALSE(a_status.ok());
  EXPECT_TRUE(b_status.ok()) << b_status.message();
  WalkedChain w = WalkChain(store_->chain());
  EXPECT_FALSE(w.broken) << w.why();
  ASSERT_EQ(w.records.size(), 3u);
  EXPECT_EQ(w.records[1].id, b[0].interaction_id);
  EXPECT_EQ(w.records[2].id, b[1].interaction_id);
  EXPECT_EQ(store.Get("a", a[0].interaction_id).status().code(), Status::Code::kNotFound);
  EXPECT_TRUE(store.Get("b", b[1].interaction_id).ok());
  // The lanes go on from the committed head.
  InteractionRecord after = TestSavedRecord("s", kT + 30, "after");
  ASSERT_TRUE(store.Append({&after, 1}).ok());
  EXPECT_FALSE(WalkChain(store_->chain()).broken);
  EXPECT_EQ(store_->chain().Head()->seq, 4);
}

TEST_F(PostgresStoreTest, RowLevelSecurityHidesOtherUsersFromTheApplicationRole) {
  ASSERT_TRUE(store_->interactions().Append(std::vector<InteractionRecord>{Rec("alice", kT, "", std::string("secret")), Rec("bob", kT + 1)}).ok());
  auto conn = pg::Conn::Connect(options_.url);  // the application role, as the server uses it
  ASSERT_TRUE(conn.ok());
  // No user set: nothing at all, not even counts.
  auto none = conn->Exec("SELECT (SELECT COUNT(*) FROM interactions), (SELECT COUNT(*) FROM interaction_counts)");
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_EQ(none->Int(0, 0), 0);
  EXPECT_EQ(none->Int(0, 1), 0);
  // Bob's setting, a query with no user filter (the bug RLS guards against): only bob's rows.
  pg::Query as_bob[] = {
      {"SELECT set_config('omniflow.user_id', $1, true)", {std::string("bob")}},
      {"SELECT user_id FROM interactions", {}},
      {"SELECT user_id FROM interaction_counts", {}},
  };
  auto seen = conn->Transaction(as_bob);
  ASSERT_TRUE(seen.ok()) << seen.status().message();
  ASSERT_EQ((*seen)[1].rows(), 1);
  EXPECT_EQ((*seen)[1].Text(0, 0), "bob");
  for (int i = 0; i < (*seen)[2].rows(); ++i) EXPECT_EQ((*seen)[2].Text(i, 0), "bob");
  // The setting ends with the transaction.
  auto after = conn->Exec("SELECT COUNT(*) FROM interactions");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->Int(0, 0), 0);
  // Writing another user's row under bob's setting is refused too.
  pg::Query forge[] = {
      {"SELECT set_config('omniflow.user_id', 'bob', true)", {}},
      {"INSERT INTO interactions(user_id, ts_us, interaction_id, body) VALUES ('alice', 1, 'x', '{}')", {}},
  };
  EXPECT_FALSE(conn->Transaction(forge).ok());
}

}  // namespace
}  // namespace omniflow
