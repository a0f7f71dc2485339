// PostgresStore against a real PostgreSQL: the test cluster of ctest's PostgreSQL pass
// (OMNIFLOW_TEST_STORE, see scripts/test-postgres.sh). Each test gets a database of its own,
// owned by the non-superuser role the servers use, so row-level security applies.
#include "store/postgres/postgres_store.h"

#include "store/database.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "core/ids.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/pg_test_db.h"
#include "store/store_test_fixtures.h"

namespace omniflow {
namespace {

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!db_.configured()) GTEST_SKIP() << "set OMNIFLOW_TEST_STORE (ctest's pg.* tests do)";
    ASSERT_TRUE(db_.error().empty()) << db_.error();
    options_.url = db_.url();
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
