#include "lifecycle/retention.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "core/thread_name.h"

namespace omniflow::lifecycle {

Result<std::chrono::seconds> ParseInterval(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  int64_t unit = 0;
  if (ec == std::errc() && ptr != text.data()) {
    const std::string_view suffix(ptr, static_cast<size_t>(end - ptr));
    if (suffix.empty() || suffix == "s") unit = 1;
    if (suffix == "m") unit = 60;
    if (suffix == "h") unit = 3600;
    if (suffix == "d") unit = 86400;
  }
  if (unit == 0 || value <= 0 || value > int64_t{10} * 365 * 86400 / unit) {
    return Status::InvalidArgument("a retention interval is a positive number of seconds, "
                                   "optionally with a unit: 90s, 15m, 1h, 2d (at most 10 years)");
  }
  return std::chrono::seconds(value * unit);
}

RetentionRunner::RetentionRunner(LifecycleStore* store, Clock* clock, RetentionOptions options,
                                 AuditStore* audit)
    : store_(store), clock_(clock), audit_(audit), options_(options) {}

RetentionRunner::~RetentionRunner() { Stop(); }

Result<PurgeReport> RetentionRunner::RunOnce(bool dry_run) {
  MutexLock lock(&run_mu_);
  PurgeOptions purge;
  purge.default_days = options_.default_days;
  purge.now_us = clock_->NowMicros();
  purge.dry_run = dry_run;
  purge.batch_rows = options_.batch_rows;
  Result<PurgeReport> report = store_->Purge(purge);
  if (!report.ok() || audit_ == nullptr || options_.audit_days <= 0) return report;
  const int64_t cutoff = purge.now_us - int64_t{options_.audit_days} * 86'400'000'000;
  Result<int64_t> audit = audit_->PurgeBefore(cutoff, dry_run, options_.batch_rows);
  if (!audit.ok()) return audit.status();
  report->audit_entries = *audit;
  return report;
}

void RetentionRunner::Start() {
  loop_ = std::thread([this] {
    NameThisThread("of-retention");
    while (true) {
      {
        MutexLock lock(&loop_mu_);
        const auto deadline = std::chrono::steady_clock::now() + options_.interval;
        while (!stopping_) {
          if (!loop_cv_.WaitUntil(&loop_mu_, deadline)) break;
        }
        if (stopping_) return;
      }
      const auto started = std::chrono::steady_clock::now();
      Result<PurgeReport> report = RunOnce();
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started).count();
      if (report.ok()) {
        spdlog::info("event=retention_purge interactions={} users={} held_users_skipped={} "
                     "audit_entries={} default_days={} audit_days={} ms={}",
                     report->interactions, report->users, report->held_users_skipped,
                     report->audit_entries, options_.default_days, options_.audit_days, ms);
      } else {
        spdlog::warn("event=retention_purge_failed error=\"{}\" ms={}",
                     report.status().message(), ms);
      }
      MutexLock lock(&loop_mu_);
      ++background_runs_;
    }
  });
}

void RetentionRunner::Stop() {
  {
    MutexLock lock(&loop_mu_);
    stopping_ = true;
  }
  loop_cv_.SignalAll();
  if (loop_.joinable()) loop_.join();
}

uint64_t RetentionRunner::background_runs() const {
  MutexLock lock(&loop_mu_);
  return background_runs_;
}

}  // namespace omniflow::lifecycle
