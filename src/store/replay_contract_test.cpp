// The replay contract: what ReplayStore promises in its header, run identically on both engines
// (Sqlite/ReplayContract.* in the unit pass, Postgres/ReplayContract.* with OMNIFLOW_TEST_STORE).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/engine_test_fixture.h"
#include "store/store_test_fixtures.h"

namespace omniflow {
namespace {

constexpr int64_t kT = 1765458330000000;
const std::string kId = "rp_0123456789abcdef01234567";

class ReplayContract : public EngineTest {
 protected:
  ReplayStore& Replays() { return database_->replays(); }

  static ReplayInfo Info(const std::string& id = kId, int64_t created = kT) {
    ReplayInfo info;
    info.replay_id = id;
    info.name = "nightly \"prompt\" check";
    info.actor = "admin";
    info.spec_json = R"({"limit":3})";
    info.created_us = created;
    return info;
  }
  static std::vector<ReplayTarget> Targets(int n, const std::string& user = "ada") {
    std::vector<ReplayTarget> out;
    for (int i = 0; i < n; ++i) {
      ReplayTarget t;
      t.item_no = i;
      t.user_id = i % 2 == 0 ? user : "bob";
      t.ts_us = kT - i;
      t.interaction_id = FormatInteractionId(t.ts_us);
      t.original_json = "{\"user_message\":\"m" + std::to_string(i) + "\"}";
      out.push_back(t);
    }
    return out;
  }
  static ReplayResult Outcome(bool changed, bool fixed, bool introduced) {
    ReplayResult r;
    r.result_json = R"({"answer":"new"})";
    r.changed = changed;
    r.fixed = fixed;
    r.introduced = introduced;
    r.same_tools = !changed;
    r.latency_ms = 10;
    r.original_latency_ms = 30;
    r.tokens = 100;
    r.original_tokens = 120;
    return r;
  }
};

TEST_P(ReplayContract, CreateAddTargetsAndGetRoundTripEveryField) {
  ASSERT_TRUE(Replays().Create(Info()).ok());
  Result<ReplayInfo> fresh = Replays().Get(kId);
  ASSERT_TRUE(fresh.ok()) << fresh.status().message();
  EXPECT_EQ(fresh->state, "selecting");
  EXPECT_EQ(fresh->name, "nightly \"prompt\" check");
  EXPECT_EQ(fresh->actor, "admin");
  EXPECT_EQ(fresh->spec_json, R"({"limit":3})");
  EXPECT_EQ(fresh->created_us, kT);
  EXPECT_EQ(fresh->total, 0);
  ASSERT_TRUE(Replays().AddTargets(kId, Targets(3), {}).ok());
  Result<ReplayInfo> running = Replays().Get(kId);
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->state, "running");
  EXPECT_EQ(running->total, 3);
  EXPECT_EQ(running->done, 0);
  Result<std::vector<ReplayTarget>> pending = Replays().Pending(kId, 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 3u);
  EXPECT_EQ((*pending)[1].user_id, "bob");
  EXPECT_EQ((*pending)[1].interaction_id, FormatInteractionId(kT - 1));
  EXPECT_EQ((*pending)[1].ts_us, kT - 1);
  EXPECT_EQ((*pending)[1].original_json, R"({"user_message":"m1"})");
}

TEST_P(ReplayContract, RefusesATakenIdAndTargetsTwice) {
  ASSERT_TRUE(Replays().Create(Info()).ok());
  EXPECT_EQ(Replays().Create(Info()).code(), Status::Code::kAlreadyExists);
  ASSERT_TRUE(Replays().AddTargets(kId, Targets(2), {}).ok());
  EXPECT_EQ(Replays().AddTargets(kId, Targets(2), {}).code(), Status::Code::kFailedPrecondition);
  EXPECT_EQ(Replays().AddTargets("rp_ffffffffffffffffffffffff", Targets(1), {}).code(),
            Status::Code::kNotFound);
  EXPECT_EQ(Replays().Get(kId)->total, 2);
  ReplayInfo bad = Info("not-an-id");
  EXPECT_EQ(Replays().Create(bad).code(), Status::Code::kInvalidArgument);
}

TEST_P(ReplayContract, AResultIsStoredOnceAndSurvivesReopening) {
  ASSERT_TRUE(Replays().Create(Info()).ok());
  ASSERT_TRUE(Replays().AddTargets(kId, Targets(3), {}).ok());
  EXPECT_TRUE(*Replays().SaveResult(kId, 1, Outcome(true, true, false)));
  // A second result for the same item (a worker that raced a restart) changes nothing.
  EXPECT_FALSE(*Replays().SaveResult(kId, 1, Outcome(false, false, true)));
  EXPECT_FALSE(*Replays().SaveResult(kId, 99, Outcome(false, false, true)));
  ASSERT_NO_FATAL_FAILURE(Open());
  Result<std::vector<ReplayTarget>> pending = Replays().Pending(kId, 10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].item_no, 0);
  EXPECT_EQ((*pending)[1].item_no, 2);
  EXPECT_EQ(Replays().Get(kId)->done, 1);
  Result<ReplayItemsPage> page = Replays().Items({kId, false, std::nullopt, 10});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  const ReplayItem& item = page->items[0];
  ASSERT_TRUE(item.result);
  EXPECT_TRUE(item.result->changed);
  EXPECT_TRUE(item.result->fixed);
  EXPECT_FALSE(item.result->introduced);
  EXPECT_EQ(item.result->result_json, R"({"answer":"new"})");
  EXPECT_EQ(item.result->original_tokens, 120);
}

TEST_P(ReplayContract, SummarizeCountsAndItemsPageAndFilterChanged) {
  ASSERT_TRUE(Replays().Create(Info()).ok());
  ASSERT_TRUE(Replays().AddTargets(kId, Targets(5), {}).ok());
  ASSERT_TRUE(Replays().SaveResult(kId, 0, Outcome(true, true, false)).ok());
  ASSERT_TRUE(Replays().SaveResult(kId, 1, Outcome(false, false, false)).ok());
  ASSERT_TRUE(Replays().SaveResult(kId, 2, Outcome(true, false, true)).ok());
  ReplayResult error = Outcome(true, false, false);
  error.error = true;
  ASSERT_TRUE(Replays().SaveResult(kId, 3, error).ok());
  Result<ReplaySummary> sum = Replays().Summarize(kId);
  ASSERT_TRUE(sum.ok()) << sum.status().message();
  EXPECT_EQ(sum->replayed, 4);
  EXPECT_EQ(sum->changed, 3);
  EXPECT_EQ(sum->fixed, 1);
  EXPECT_EQ(sum->introduced, 1);
  EXPECT_EQ(sum->same_tools, 1);
  EXPECT_EQ(sum->errors, 1);
  EXPECT_EQ(sum->latency_ms, 40);
  EXPECT_EQ(sum->original_latency_ms, 120);
  EXPECT_EQ(sum->tokens, 400);

  Result<ReplayItemsPage> first = Replays().Items({kId, false, std::nullopt, 2});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_TRUE(first->has_more);
  ASSERT_TRUE(first->next);
  Result<ReplayItemsPage> second = Replays().Items({kId, false, first->next, 2});
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->items.size(), 2u);
  EXPECT_EQ(second->items[0].target.item_no, 2);
  EXPECT_FALSE(second->has_more);
  Result<ReplayItemsPage> changed = Replays().Items({kId, true, std::nullopt, 10});
  ASSERT_TRUE(changed.ok());
  ASSERT_EQ(changed->items.size(), 3u);
  for (const ReplayItem& item : changed->items) EXPECT_TRUE(item.result->changed);
  EXPECT_EQ(
      Replays().Items({"rp_ffffffffffffffffffffffff", false, std::nullopt, 10}).status().code(),
      Status::Code::kNotFound);
  EXPECT_EQ(Replays().Items({kId, false, std::nullopt, 0}).status().code(),
            Status::Code::kInvalidArgument);
}

TEST_P(ReplayContract, FinishListNewestFirstAndDelete) {
  const std::string older = "rp_000000000000000000000001";
  ASSERT_TRUE(Replays().Create(Info(older, kT - 10)).ok());
  ASSERT_TRUE(Replays().Create(Info()).ok());
  ASSERT_TRUE(Replays().AddTargets(kId, Targets(1), {}).ok());
  ASSERT_TRUE(Replays().Finish(kId, "done", "", kT + 5).ok());
  ASSERT_TRUE(Replays().Finish(older, "failed", "search failed", kT + 6).ok());
  Result<std::vector<ReplayInfo>> all = Replays().List(10);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].replay_id, kId);
  EXPECT_EQ((*all)[0].state, "done");
  EXPECT_EQ((*all)[0].finished_us, kT + 5);
  EXPECT_EQ((*all)[1].error, "search failed");
  ASSERT_TRUE(Replays().Delete(kId).ok());
  EXPECT_EQ(Replays().Get(kId).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(Replays().Delete(kId).code(), Status::Code::kNotFound);
  Result<std::vector<ReplayTarget>> pending = Replays().Pending(kId, 10);
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
  EXPECT_EQ(Replays().List(10)->size(), 1u);
}

TEST_P(ReplayContract, ErasingAUserRemovesTheirItemsOnly) {
  ASSERT_TRUE(Replays().Create(Info()).ok());
  ASSERT_TRUE(Replays().AddTargets(kId, Targets(4), {}).ok());  // ada: 0, 2; bob: 1, 3
  ASSERT_TRUE(Replays().SaveResult(kId, 0, Outcome(true, false, false)).ok());
  ASSERT_TRUE(Replays().SaveResult(kId, 1, Outcome(true, false, false)).ok());
  ASSERT_TRUE(database_->lifecycle().EraseUser("ada").ok());
  Result<ReplayInfo> info = Replays().Get(kId);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->total, 2);
  EXPECT_EQ(info->done, 1);
  Result<ReplayItemsPage> page = Replays().Items({kId, false, std::nullopt, 10});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].target.user_id, "bob");
  Result<std::vector<ReplayTarget>> pending = Replays().Pending(kId, 10);
  ASSERT_TRUE(pending.ok());
  for (const ReplayTarget& t : *pending) EXPECT_EQ(t.user_id, "bob");
  // A result arriving for an erased item is dropped.
  EXPECT_FALSE(*Replays().SaveResult(kId, 2, Outcome(true, false, false)));
}

TEST_P(ReplayContract, SnapshotsAreKeptWithTheItemsOnceAndGoWithTheUserOrTheReplay) {
  ASSERT_TRUE(Replays().Create(Info()).ok());
  EXPECT_TRUE(Replays().Snapshots(kId)->empty());
  const std::string ada =
      R"({"tasks.json":["{\"entry_id\":\"E1\",\"title\":\"milk \\\"2%\\\"\"}"]})";
  ASSERT_TRUE(Replays().AddTargets(kId, Targets(4), {{"ada", ada}, {"bob", "{}"}}).ok());
  // Refused a second time: the snapshots stay those of the first.
  EXPECT_FALSE(Replays().AddTargets(kId, Targets(4), {{"ada", "{}"}}).ok());
  ASSERT_NO_FATAL_FAILURE(Open());
  Result<std::map<std::string, std::string>> kept = Replays().Snapshots(kId);
  ASSERT_TRUE(kept.ok()) << kept.status().message();
  EXPECT_EQ(*kept, (std::map<std::string, std::string>{{"ada", ada}, {"bob", "{}"}}));
  ASSERT_TRUE(database_->lifecycle().EraseUser("ada").ok());
  EXPECT_EQ(*Replays().Snapshots(kId), (std::map<std::string, std::string>{{"bob", "{}"}}));
  ASSERT_TRUE(Replays().Delete(kId).ok());
  EXPECT_TRUE(Replays().Snapshots(kId)->empty());
}

TEST_P(ReplayContract, UsageAndCostOfBothSidesRoundTripAndAreSummedAsStatsSumThem) {
  ASSERT_TRUE(Replays().Create(Info()).ok());
  std::vector<ReplayTarget> targets = Targets(4);
  // 0: priced; 1: no usage; 2: an unpriced model; 3: priced, erased below (ada).
  targets[0].original_usage = StoredUsage{"gpt-old", TokenUsage{1000, 400, 200, 0}, 3'600'000};
  targets[2].original_usage = StoredUsage{"mystery", TokenUsage{10, 0, 5, 0}, std::nullopt};
  targets[3].original_usage = StoredUsage{"gpt-old", TokenUsage{1, 0, 1, 0}, 12};
  ASSERT_TRUE(Replays().AddTargets(kId, targets, {}).ok());
  ReplayResult priced = Outcome(false, false, false);
  priced.usage = StoredUsage{"gpt-new-2026-01-01", TokenUsage{500, 100, 80, 30}, 890'000};
  ReplayResult unpriced = Outcome(false, false, false);
  unpriced.usage = StoredUsage{"unknown", TokenUsage{7, 0, 3, 0}, std::nullopt};
  ASSERT_TRUE(*Replays().SaveResult(kId, 0, priced));
  ASSERT_TRUE(*Replays().SaveResult(kId, 1, priced));
  ASSERT_TRUE(*Replays().SaveResult(kId, 2, unpriced));
  ASSERT_TRUE(*Replays().SaveResult(kId, 3, Outcome(false, false, false)));  // usage unknown

  Result<ReplayItemsPage> page = Replays().Items({kId, false, std::nullopt, 10});
  ASSERT_TRUE(page.ok()) << page.status().message();
  ASSERT_EQ(page->items.size(), 4u);
  const ReplayItem& first = page->items[0];
  ASSERT_TRUE(first.target.original_usage);
  EXPECT_EQ(first.target.original_usage->model, "gpt-old");
  EXPECT_EQ(first.target.original_usage->tokens, (TokenUsage{1000, 400, 200, 0}));
  EXPECT_EQ(first.target.original_usage->cost_nanos, 3'600'000);
  ASSERT_TRUE(first.result->usage);
  EXPECT_EQ(first.result->usage->model, "gpt-new-2026-01-01");
  EXPECT_EQ(first.result->usage->tokens, (TokenUsage{500, 100, 80, 30}));
  EXPECT_EQ(first.result->usage->cost_nanos, 890'000);
  EXPECT_FALSE(page->items[1].target.original_usage);
  ASSERT_TRUE(page->items[2].target.original_usage);
  EXPECT_FALSE(page->items[2].target.original_usage->cost_nanos);
  ASSERT_TRUE(page->items[2].result->usage);
  EXPECT_FALSE(page->items[2].result->usage->cost_nanos);
  EXPECT_FALSE(page->items[3].result->usage);

  Result<ReplaySummary> s = Replays().Summarize(kId);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->original_usage, (UsageTotals{3, 1011, 400, 206, 0, 3'600'012, 1}));
  EXPECT_EQ(s->usage, (UsageTotals{3, 1007, 200, 163, 60, 1'780'000, 1}));

  // Erasure takes the erased user's items out of the sums too.
  ASSERT_TRUE(database_->lifecycle().EraseUser("ada").ok());  // items 0 and 2
  s = Replays().Summarize(kId);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->original_usage, (UsageTotals{1, 1, 0, 1, 0, 12, 0}));
  EXPECT_EQ(s->usage, (UsageTotals{1, 500, 100, 80, 30, 890'000, 0}));
}

INSTANTIATE_TEST_SUITE_P(Sqlite, ReplayContract, ::testing::Values(std::string("sqlite")),
                         EngineName);
INSTANTIATE_TEST_SUITE_P(Postgres, ReplayContract, ::testing::Values(std::string("postgres")),
                         EngineName);

}  // namespace
}  // namespace omniflow
