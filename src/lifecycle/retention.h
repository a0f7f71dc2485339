// The retention purge: a RetentionRunner runs LifecycleStore::Purge with the server's default
// policy (--retention-days), then removes audit entries older than --audit-retention-days,
// on demand (POST /api/retention/run, `omniflow purge`) and every --retention-interval on a
// thread of its own. The stores purge in small transactions, so saves are never stalled for
// long. User retention and erasure never touch the audit log: only its own retention does.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <thread>

#include "core/ids.h"
#include "core/mutex.h"
#include "core/status.h"
#include "store/audit_store.h"
#include "store/lifecycle_store.h"

namespace omniflow::lifecycle {

struct RetentionOptions {
  // Days kept for users without an override (OMNIFLOW_RETENTION_DAYS); 0 keeps forever.
  int default_days = 0;
  // Time between background runs (--retention-interval); the first run comes one interval after
  // Start().
  std::chrono::milliseconds interval = std::chrono::hours(1);
  // Rows removed per transaction.
  int batch_rows = 500;
  // Days audit entries are kept (OMNIFLOW_AUDIT_RETENTION_DAYS); 0 keeps them forever.
  int audit_days = 400;
};

// "90s", "15m", "1h", "2d" or plain seconds ("3600"): the time, or InvalidArgument. Zero and
// negative times are refused.
Result<std::chrono::seconds> ParseInterval(std::string_view text);

// Thread-safe. Runs never overlap: a run on demand waits for the background one, and vice versa.
class RetentionRunner {
 public:
  // `store`, `clock` and `audit` must outlive the runner; without `audit` (null) the audit log
  // is left alone.
  RetentionRunner(LifecycleStore* store, Clock* clock, RetentionOptions options,
                  AuditStore* audit = nullptr);
  ~RetentionRunner();  // Stop()

  // One run now, with `dry_run` counting only: the interactions, then the audit entries
  // (PurgeReport::audit_entries).
  Result<PurgeReport> RunOnce(bool dry_run = false) EXCLUDES(run_mu_);

  // Starts the background loop. REQUIRES: not started yet.
  void Start();
  // Ends the loop: returns at once when it is waiting, or when the store call in progress has
  // returned. Idempotent.
  void Stop() EXCLUDES(loop_mu_);

  const RetentionOptions& options() const { return options_; }
  // Background runs completed (for tests and logs).
  uint64_t background_runs() const EXCLUDES(loop_mu_);

 private:
  LifecycleStore* const store_;
  Clock* const clock_;
  AuditStore* const audit_;
  const RetentionOptions options_;
  Mutex run_mu_;  // one Purge at a time
  mutable Mutex loop_mu_;
  CondVar loop_cv_;  // signalled when stopping_ is set
  bool stopping_ GUARDED_BY(loop_mu_) = false;
  uint64_t background_runs_ GUARDED_BY(loop_mu_) = 0;
  std::thread loop_;
};

}  // namespace omniflow::lifecycle
