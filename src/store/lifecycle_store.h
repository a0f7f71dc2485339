// A LifecycleStore keeps each user's data only as long as it may be kept: retention policies (a
// default given by the caller, per-user overrides kept here), legal holds, purging by age, and
// erasing one user's data completely. A facet of Database (store/database.h); both engines
// implement it, and store_contract_test.cpp says what every implementation promises.
// All methods are thread-safe. Times are microseconds since the Unix epoch (UTC).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace omniflow {

// A legal hold: while it is set, the user's data is never purged nor erased.
struct LegalHold {
  std::string user_id;
  std::string reason;    // 1..500 characters, as given
  int64_t since_us = 0;  // when it was set
};

// What one purge run did (or, dry, would do).
struct PurgeReport {
  int64_t interactions = 0;        // interactions removed
  int64_t users = 0;               // users who lost at least one interaction
  int64_t held_users_skipped = 0;  // held users who had interactions past their policy
  // Audit entries removed past the audit retention (set by lifecycle::RetentionRunner; a
  // LifecycleStore leaves it 0: the audit log is the AuditStore's).
  int64_t audit_entries = 0;
};

struct PurgeOptions {
  // Days kept for users without an override; 0 keeps forever.
  int default_days = 0;
  // "Now" for the age computation.
  int64_t now_us = 0;
  // Count only; remove nothing.
  bool dry_run = false;
  // Rows removed per transaction, so that saves are never stalled for long.
  int batch_rows = 500;
};

// Everything one erasure removed.
struct ErasureReport {
  int64_t interactions = 0;
  int64_t tool_calls = 0;      // tool-call objects in the erased interactions
  int64_t feedback = 0;
  int64_t threads = 0;         // distinct thread ids
  int64_t data_documents = 0;  // distinct blobs
  int64_t data_entries = 0;
  std::vector<std::string> interaction_ids;  // sorted ascending
};

class LifecycleStore {
 public:
  virtual ~LifecycleStore() = default;

  // ---- Retention overrides ---------------------------------------------------------------
  // Sets `user_id`'s override: `days` >= 1 keeps that many days, 0 keeps forever.
  // InvalidArgument when days < 0.
  virtual Status SetRetention(const std::string& user_id, int days) = 0;
  // The override, or nullopt when the user has none.
  virtual Result<std::optional<int>> GetRetention(const std::string& user_id) = 0;
  // Removes the override; NotFound when there was none.
  virtual Status DeleteRetention(const std::string& user_id) = 0;

  // ---- Legal holds -----------------------------------------------------------------------
  // Sets (or replaces the reason of) `hold.user_id`'s hold.
  virtual Status SetHold(const LegalHold& hold) = 0;
  // NotFound when the user is not held.
  virtual Status ReleaseHold(const std::string& user_id) = 0;
  virtual Result<std::optional<LegalHold>> GetHold(const std::string& user_id) = 0;
  // Every hold, by user id.
  virtual Result<std::vector<LegalHold>> ListHolds() = 0;

  // ---- Removal ---------------------------------------------------------------------------
  // Removes every interaction older than its user's policy (override, else
  // options.default_days; 0 = forever) by its timestamp, skipping held users, in transactions
  // of at most options.batch_rows rows. Removed interactions disappear everywhere: history and
  // its totals, by-id reads, threads, search, stats and their aggregates, feedback.
  virtual Result<PurgeReport> Purge(const PurgeOptions& options) = 0;

  // Erases everything stored for `user_id` in one transaction (all or nothing): interactions,
  // their tool index, aggregates and search entries, feedback, data documents and the retention
  // override; and makes the erased text physically unreadable in the store's files as far as
  // the engine allows (SQLite: secure_delete, the search index's segments rewritten, the WAL
  // checkpointed and truncated). FailedPrecondition (naming the hold) when the user is held:
  // then nothing is erased. A user without data gives zero counts.
  virtual Result<ErasureReport> EraseUser(const std::string& user_id) = 0;
};

}  // namespace omniflow
