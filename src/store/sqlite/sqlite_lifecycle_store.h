// SqliteLifecycleStore: the lifecycle facet of a SqliteDatabase (retention overrides and legal
// holds, tables of the lifecycle migration; purge and erasure). Everything runs on the file's
// one write connection under its mutex (sqlite_file.h), a purge in transactions of at most
// PurgeOptions::batch_rows rows with the mutex released between them, so saves queue behind one
// short batch at most.
//
// An erasure works the same way. One short transaction fixes what it takes: the user's
// interactions stored so far, counted for the receipt. The same transaction removes the user's
// documents, retention override and idempotency keys, and records the erasure in `erasures`.
// Batches then delete the rows, and the last one deletes that record. A crash in between
// leaves the record, and the next open finishes the erasure (ResumeErasures) before anything
// reads the store. So after a restart the user's data is either all there or all gone.
// Meanwhile saves go on, and the user's new saves are new data and stay.
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "store/lifecycle_policy.h"
#include "store/lifecycle_store.h"
#include "store/sqlite/sqlite_analytics_writer.h"
#include "store/sqlite/sqlite_file.h"

namespace omniflow {

class SqliteLifecycleStore final : public LifecycleStore, private PurgeTarget {
 public:
  // REQUIRES: `file` migrated; it outlives the store.
  explicit SqliteLifecycleStore(SqliteFile* file) : file_(file) {}

  Status SetRetention(const std::string& user_id, int days) override;
  Result<std::optional<int>> GetRetention(const std::string& user_id) override;
  Status DeleteRetention(const std::string& user_id) override;

  Status SetHold(const LegalHold& hold) override;
  Status ReleaseHold(const std::string& user_id) override;
  Result<std::optional<LegalHold>> GetHold(const std::string& user_id) override;
  Result<std::vector<LegalHold>> ListHolds() override;

  Result<PurgeReport> Purge(const PurgeOptions& options) override;
  Result<ErasureReport> EraseUser(const std::string& user_id) override;

  // Finishes every erasure a crash interrupted. Called at open, before the store is used.
  Status ResumeErasures();

 private:
  // PurgeTarget.
  Result<std::vector<UserSpan>> UsersWithData() override;
  Result<std::vector<std::pair<std::string, int>>> RetentionOverrides() override;
  Result<std::vector<LegalHold>> Holds() override { return ListHolds(); }
  Result<int64_t> CountBefore(const std::string& user_id, int64_t cutoff_us) override;
  Result<int64_t> RemoveBefore(const std::string& user_id, int64_t cutoff_us,
                               int max_rows) override;

  // What RemoveRows took away.
  struct Removed {
    int64_t interactions = 0;
    int64_t tool_calls = 0;
    int64_t feedback = 0;
    std::set<std::string> threads;
    std::vector<std::string> interaction_ids;
  };
  // Deletes the interactions `seqs` and everything derived from them (search entries, tool
  // index, hourly/daily/tool aggregates, counts and spans, feedback) in the caller's write
  // transaction, leaving every aggregate as a store of the survivors alone would hold it, and
  // a chain tombstone (seq, hash, `reason`: "erased" or "purged") in each one's place.
  Status RemoveRows(const std::vector<int64_t>& seqs, const char* reason, Removed* removed)
      REQUIRES(file_->write_mu);
  // One transaction: removes (RemoveRows, with `reason`) the interactions whose seqs
  // `select_sql` selects (user_id as ?1, `ints` as ?2, ?3, ...), then leaves the lock free for
  // as long as it held it. Returns how many; 0 when the select found none.
  Result<int64_t> RemoveBatch(const char* select_sql, const std::string& user_id,
                              std::initializer_list<int64_t> ints, const char* reason);
  // The seqs `sql` selects with `user_id` as ?1 and `ints` as ?2, ?3, ...
  Result<std::vector<int64_t>> SelectSeqs(const char* sql, const std::string& user_id,
                                          std::initializer_list<int64_t> ints)
      REQUIRES(file_->write_mu);
  // The first transaction of an erasure: the hold check, the report (what it will take), the
  // user's documents, override and keys deleted, the erasure recorded.
  Result<ErasureReport> BeginErasure(const std::string& user_id) REQUIRES(erase_mu_);
  // Deletes, in batches, the rows a recorded erasure of `user_id` takes; then the record,
  // then Scrub.
  Status FinishErasure(const std::string& user_id) REQUIRES(erase_mu_);
  // Sleeps as long as the lock was held since `locked` (at least kBatchGap), so that saves
  // waiting for it get their turn (std::mutex is not fair).
  static void YieldTheLock(std::chrono::steady_clock::time_point locked);
  // After an erasure committed: rewrites the search index into one segment (dropping the
  // erased rows' entries), then folds the WAL into the file and truncates it.
  Status Scrub();

  SqliteFile* const file_;
  Mutex erase_mu_;  // one erasure at a time; taken before file_->write_mu
  SqliteAnalyticsWriter analytics_ GUARDED_BY(file_->write_mu);  // prepared on file_->writer
  bool analytics_prepared_ GUARDED_BY(file_->write_mu) = false;
};

}  // namespace omniflow
