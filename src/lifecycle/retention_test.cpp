#include "lifecycle/retention.h"

#include <gtest/gtest.h>

#include <atomic>

namespace omniflow::lifecycle {
namespace {

// Records the purges asked of it; everything else is unused here.
class RecordingStore : public LifecycleStore {
 public:
  Status SetRetention(const std::string&, int) override { return Status::Ok(); }
  Result<std::optional<int>> GetRetention(const std::string&) override {
    return std::optional<int>();
  }
  Status DeleteRetention(const std::string&) override { return Status::Ok(); }
  Status SetHold(const LegalHold&) override { return Status::Ok(); }
  Status ReleaseHold(const std::string&) override { return Status::Ok(); }
  Result<std::optional<LegalHold>> GetHold(const std::string&) override {
    return std::optional<LegalHold>();
  }
  Result<std::vector<LegalHold>> ListHolds() override { return std::vector<LegalHold>(); }
  Result<PurgeReport> Purge(const PurgeOptions& options) override {
    last_ = options;
    ++purges_;
    PurgeReport report;
    report.interactions = 7;
    return report;
  }
  Result<ErasureReport> EraseUser(const std::string&) override { return ErasureReport(); }

  PurgeOptions last_;
  std::atomic<int> purges_{0};
};

class FixedClock : public Clock {
 public:
  int64_t NowMicros() override { return 1765458330000000; }
};

TEST(RetentionRunner, RunOncePurgesWithTheDefaultPolicyAndTheClocksNow) {
  RecordingStore store;
  FixedClock clock;
  RetentionOptions options;
  options.default_days = 30;
  options.batch_rows = 100;
  RetentionRunner runner(&store, &clock, options);
  Result<PurgeReport> report = runner.RunOnce(/*dry_run=*/true);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->interactions, 7);
  EXPECT_EQ(store.last_.default_days, 30);
  EXPECT_EQ(store.last_.now_us, 1765458330000000);
  EXPECT_TRUE(store.last_.dry_run);
  EXPECT_EQ(store.last_.batch_rows, 100);
}

// Records the audit purges asked of it.
class RecordingAudit : public AuditStore {
 public:
  Status Append(std::span<AuditEntry>) override { return Status::Ok(); }
  Result<AuditPage> List(const AuditQuery&) override { return AuditPage(); }
  Result<int64_t> PurgeBefore(int64_t cutoff_us, bool dry_run, int) override {
    cutoff_us_ = cutoff_us;
    dry_run_ = dry_run;
    ++purges_;
    return int64_t{3};
  }
  int64_t cutoff_us_ = 0;
  bool dry_run_ = false;
  int purges_ = 0;
};

TEST(RetentionRunner, RunOncePurgesAuditEntriesPastTheAuditRetention) {
  RecordingStore store;
  RecordingAudit audit;
  FixedClock clock;
  RetentionOptions options;
  options.default_days = 30;
  options.audit_days = 400;
  RetentionRunner runner(&store, &clock, options, &audit);
  Result<PurgeReport> report = runner.RunOnce(/*dry_run=*/true);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->interactions, 7);
  EXPECT_EQ(report->audit_entries, 3);
  EXPECT_EQ(audit.cutoff_us_, 1765458330000000 - int64_t{400} * 86'400'000'000);
  EXPECT_TRUE(audit.dry_run_);
  report = runner.RunOnce(false);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(audit.dry_run_);
  EXPECT_EQ(audit.purges_, 2);
}

TEST(RetentionRunner, AuditRetentionOfZeroKeepsTheLogForever) {
  RecordingStore store;
  RecordingAudit audit;
  FixedClock clock;
  RetentionOptions options;
  options.audit_days = 0;
  RetentionRunner runner(&store, &clock, options, &audit);
  Result<PurgeReport> report = runner.RunOnce();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->audit_entries, 0);
  EXPECT_EQ(audit.purges_, 0);
}

TEST(RetentionRunner, LoopRunsEveryIntervalAndStopsPromptly) {
  RecordingStore store;
  FixedClock clock;
  RetentionOptions options;
  options.interval = std::chrono::milliseconds(20);
  RetentionRunner runner(&store, &clock, options);
  runner.Start();
  for (int i = 0; i < 500 && runner.background_runs() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE(runner.background_runs(), 3u);
  EXPECT_FALSE(store.last_.dry_run);
  runner.Stop();
}

TEST(RetentionRunner, StopDoesNotWaitForTheNextRun) {
  RecordingStore store;
  FixedClock clock;
  RetentionRunner runner(&store, &clock, RetentionOptions{});  // one hour
  runner.Start();
  const auto started = std::chrono::steady_clock::now();
  runner.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_EQ(store.purges_, 0);
}

TEST(ParseInterval, TakesSecondsOrAUnitAndRefusesTheRest) {
  EXPECT_EQ(*ParseInterval("90"), std::chrono::seconds(90));
  EXPECT_EQ(*ParseInterval("90s"), std::chrono::seconds(90));
  EXPECT_EQ(*ParseInterval("15m"), std::chrono::seconds(900));
  EXPECT_EQ(*ParseInterval("1h"), std::chrono::seconds(3600));
  EXPECT_EQ(*ParseInterval("2d"), std::chrono::seconds(172800));
  for (const char* bad : {"", "0", "-1h", "1w", "h", "1.5h", "1 h", "99999999999d"}) {
    EXPECT_FALSE(ParseInterval(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace omniflow::lifecycle
