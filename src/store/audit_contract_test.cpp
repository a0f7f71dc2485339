// The audit contract: what AuditStore promises in its header, run identically on every engine,
// opened through Database::Open. Sqlite/AuditContract.* runs in the plain unit pass on a fresh
// temporary data dir; Postgres/AuditContract.* in ctest's pg.* pass on a fresh database of the
// throwaway cluster (OMNIFLOW_TEST_STORE).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store/database.h"
#include "store/engine_test_fixture.h"
#include "store/postgres/pg_test_db.h"
#include "trust/chain.h"

namespace omniflow {
namespace {

constexpr int64_t kT = 1765458330000000;
constexpr int64_t kDay = 86'400'000'000;

class AuditContract : public EngineTest {
 protected:
  AuditStore& Audit() { return database_->audit(); }

  static AuditEntry Entry(int64_t ts, const std::string& actor, const std::string& action,
                          std::optional<std::string> target = std::nullopt,
                          std::optional<int64_t> count = std::nullopt) {
    AuditEntry e;
    e.ts_us = ts;
    e.actor = actor;
    e.action = action;
    e.target_user = std::move(target);
    e.path = "/api/users/{user_id}";
    e.status = 200;
    e.count = count;
    e.request_id = "req-" + std::to_string(ts);
    return e;
  }
  // Appends one entry per call; returns its seq.
  int64_t Add(AuditEntry e) {
    Status s = Audit().Append({&e, 1});
    EXPECT_TRUE(s.ok()) << s.message();
    return e.seq;
  }
  std::vector<int64_t> Seqs(const AuditQuery& q) {
    Result<AuditPage> page = Audit().List(q);
    EXPECT_TRUE(page.ok()) << page.status().message();
    std::vector<int64_t> seqs;
    if (page.ok()) {
      for (const AuditEntry& e : page->items) seqs.push_back(e.seq);
    }
    return seqs;
  }

};

TEST_P(AuditContract, AppendAssignsIncreasingSeqsAndEveryFieldRoundTrips) {
  std::vector<AuditEntry> batch = {Entry(kT, "admin", "erase_user", "bob", 12),
                                   Entry(kT + 1, "anonymous", "auth_failed"),
                                   Entry(kT + 2, "key:export", "export", "carol", 0)};
  batch[1].status = 401;
  batch[1].path = "/api/proxy_router/export";
  ASSERT_TRUE(Audit().Append(batch).ok());
  EXPECT_GT(batch[0].seq, 0);
  EXPECT_LT(batch[0].seq, batch[1].seq);
  EXPECT_LT(batch[1].seq, batch[2].seq);
  const int64_t later = Add(Entry(kT - 5, "user:dave", "feedback", "dave"));
  EXPECT_GT(later, batch[2].seq) << "seq follows commit order, not ts";

  ASSERT_NO_FATAL_FAILURE(Open());  // everything survives a reopen
  Result<AuditPage> page = Audit().List(AuditQuery{});
  ASSERT_TRUE(page.ok()) << page.status().message();
  ASSERT_EQ(page->items.size(), 4u);
  EXPECT_FALSE(page->has_more);
  EXPECT_FALSE(page->next.has_value());
  EXPECT_EQ(page->items[0].seq, later);
  const AuditEntry& erase = page->items[3];
  EXPECT_EQ(erase.seq, batch[0].seq);
  EXPECT_EQ(erase.ts_us, kT);
  EXPECT_EQ(erase.actor, "admin");
  EXPECT_EQ(erase.action, "erase_user");
  EXPECT_EQ(erase.target_user, std::optional<std::string>("bob"));
  EXPECT_EQ(erase.path, "/api/users/{user_id}");
  EXPECT_EQ(erase.status, 200);
  EXPECT_EQ(erase.count, std::optional<int64_t>(12));
  EXPECT_EQ(erase.request_id, "req-" + std::to_string(kT));
  const AuditEntry& failed = page->items[2];
  EXPECT_EQ(failed.status, 401);
  EXPECT_FALSE(failed.target_user.has_value());
  EXPECT_FALSE(failed.count.has_value());
  EXPECT_EQ(failed.path, "/api/proxy_router/export");
  EXPECT_EQ(page->items[1].count, std::optional<int64_t>(0));  // zero is not none
}

TEST_P(AuditContract, AnIncompleteEntryFailsTheWholeBatch) {
  std::vector<AuditEntry> batch = {Entry(kT, "admin", "holds_list"), Entry(kT + 1, "", "x")};
  EXPECT_EQ(Audit().Append(batch).code(), Status::Code::kInvalidArgument);
  batch[1] = Entry(kT + 1, "admin", "x");
  batch[1].request_id.clear();
  EXPECT_EQ(Audit().Append(batch).code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(Seqs(AuditQuery{}).empty());
  AuditQuery bad;
  bad.limit = 0;
  EXPECT_EQ(Audit().List(bad).status().code(), Status::Code::kInvalidArgument);
  bad.limit = 1001;
  EXPECT_EQ(Audit().List(bad).status().code(), Status::Code::kInvalidArgument);
}

TEST_P(AuditContract, FiltersCombineAndPagesWalkEverythingOnceNewestFirst) {
  std::vector<int64_t> all;  // newest first once reversed
  for (int i = 0; i < 25; ++i) {
    const std::string actor = i % 3 == 0 ? "admin" : i % 3 == 1 ? "user:ann" : "anonymous";
    const std::string action = i % 2 == 0 ? "export" : "auth_failed";
    all.push_back(Add(Entry(kT + i * kDay, actor, action,
                            i % 5 == 0 ? std::optional<std::string>("bob") : std::nullopt)));
  }
  std::vector<int64_t> newest_first(all.rbegin(), all.rend());

  AuditQuery q;
  q.limit = 7;
  std::vector<int64_t> walked;
  for (int pages = 0; pages < 10; ++pages) {
    Result<AuditPage> page = Audit().List(q);
    ASSERT_TRUE(page.ok()) << page.status().message();
    for (const AuditEntry& e : page->items) walked.push_back(e.seq);
    EXPECT_LE(page->items.size(), 7u);
    if (!page->has_more) {
      EXPECT_FALSE(page->next.has_value());
      break;
    }
    ASSERT_TRUE(page->next.has_value());
    q.before_seq = page->next;
  }
  EXPECT_EQ(walked, newest_first);

  AuditQuery action;
  action.action = "export";
  std::vector<int64_t> exports;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i % 2 == 0) exports.insert(exports.begin(), all[i]);
  }
  EXPECT_EQ(Seqs(action), exports);

  AuditQuery actor;
  actor.actor = "user:ann";
  actor.action = "auth_failed";  // i % 3 == 1 and i odd: 1, 7, 13, 19
  EXPECT_EQ(Seqs(actor), (std::vector<int64_t>{all[19], all[13], all[7], all[1]}));

  AuditQuery target;
  target.target_user = "bob";
  EXPECT_EQ(Seqs(target), (std::vector<int64_t>{all[20], all[15], all[10], all[5], all[0]}));

  AuditQuery range;  // [day 3, day 6)
  range.from_us = kT + 3 * kDay;
  range.to_us = kT + 6 * kDay;
  EXPECT_EQ(Seqs(range), (std::vector<int64_t>{all[5], all[4], all[3]}));

  AuditQuery nobody;
  nobody.actor = "user:nobody";
  EXPECT_TRUE(Seqs(nobody).empty());
}

TEST_P(AuditContract, PurgeBeforeRemovesOnlyOlderEntriesAndSeqsAreNeverReused) {
  std::vector<int64_t> seqs;
  for (int i = 0; i < 9; ++i) seqs.push_back(Add(Entry(kT + i * kDay, "admin", "holds_list")));
  Result<int64_t> dry = Audit().PurgeBefore(kT + 4 * kDay, /*dry_run=*/true, 2);
  ASSERT_TRUE(dry.ok()) << dry.status().message();
  EXPECT_EQ(*dry, 4);
  EXPECT_EQ(Seqs(AuditQuery{}).size(), 9u);
  Result<int64_t> purged = Audit().PurgeBefore(kT + 4 * kDay, /*dry_run=*/false, 2);
  ASSERT_TRUE(purged.ok()) << purged.status().message();
  EXPECT_EQ(*purged, 4);
  EXPECT_EQ(Seqs(AuditQuery{}),
            (std::vector<int64_t>{seqs[8], seqs[7], seqs[6], seqs[5], seqs[4]}));
  EXPECT_EQ(*Audit().PurgeBefore(kT + 4 * kDay, false, 2), 0);

  // Purging the newest too: the next entry still gets a seq above every earlier one.
  EXPECT_EQ(*Audit().PurgeBefore(kT + 100 * kDay, false, 1000), 5);
  ASSERT_NO_FATAL_FAILURE(Open());
  const int64_t next = Add(Entry(kT + 200 * kDay, "admin", "audit_read"));
  EXPECT_GT(next, seqs[8]);
}

TEST_P(AuditContract, LifecycleErasureAndPurgeLeaveTheAuditLog) {
  const int64_t seq = Add(Entry(kT, "admin", "erase_user", "bob", 3));
  auto erased = database_->lifecycle().EraseUser("bob");
  ASSERT_TRUE(erased.ok()) << erased.status().message();
  PurgeOptions purge;
  purge.default_days = 1;
  purge.now_us = kT + 1000 * kDay;
  ASSERT_TRUE(database_->lifecycle().Purge(purge).ok());
  AuditQuery q;
  q.target_user = "bob";
  EXPECT_EQ(Seqs(q), std::vector<int64_t>{seq});
}

// Every entry is a link of the hash chain, the JSON it hashes is the entry as the API serves it,
// and a purge leaves tombstones: the chain verifies throughout.
TEST_P(AuditContract, EntriesAreChainLinksAndPurgedOnesLeaveTombstones) {
  for (int i = 0; i < 5; ++i) Add(Entry(kT + i * kDay, "admin", "holds_list"));
  auto verify = [&](std::vector<trust::ChainRecord>* seen) {
    std::unique_ptr<trust::ChainVerifier> verifier;
    ChainSnapshot head;
    Status s = database_->chain().Walk(
        1,
        [&](const ChainSnapshot& snapshot) {
          head = snapshot;
          verifier = std::make_unique<trust::ChainVerifier>(1, snapshot.before,
                                                            snapshot.contiguous_from);
        },
        [&](const trust::ChainRecord& r) {
          seen->push_back(r);
          return verifier->Feed(r);
        });
    EXPECT_TRUE(s.ok()) << s.message();
    if (verifier) verifier->Finish(head.head);
    return verifier && !verifier->broken();
  };
  std::vector<trust::ChainRecord> before;
  ASSERT_TRUE(verify(&before));
  ASSERT_EQ(before.size(), 5u);
  Result<AuditPage> page = Audit().List(AuditQuery{});
  ASSERT_TRUE(page.ok());
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(before[i].kind, trust::ChainRecord::Kind::kAudit);
    EXPECT_EQ(before[i].seq, page->items[4 - i].seq);
    EXPECT_EQ(before[i].json, AuditEntryJson(page->items[4 - i]));
  }
  EXPECT_EQ(database_->chain().Head()->seq, before.back().seq);
  ASSERT_EQ(*Audit().PurgeBefore(kT + 2 * kDay, false, 1), 2);
  std::vector<trust::ChainRecord> after;
  EXPECT_TRUE(verify(&after));
  ASSERT_EQ(after.size(), 5u);
  EXPECT_EQ(after[0].kind, trust::ChainRecord::Kind::kTombstone);
  EXPECT_EQ(after[1].kind, trust::ChainRecord::Kind::kTombstone);
  EXPECT_EQ(after[0].stored, before[0].stored);
  EXPECT_EQ(after[2].kind, trust::ChainRecord::Kind::kAudit);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, AuditContract, ::testing::Values(std::string("sqlite")),
                         EngineName);
INSTANTIATE_TEST_SUITE_P(Postgres, AuditContract, ::testing::Values(std::string("postgres")),
                         EngineName);

}  // namespace
}  // namespace omniflow
