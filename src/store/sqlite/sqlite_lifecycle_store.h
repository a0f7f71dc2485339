// SqliteLifecycleStore: the lifecycle facet of a SqliteDatabase (retention overrides and legal
// holds, tables of the lifecycle migration; purge and erasure). Everything runs on the file's
// one write connection under its mutex (sqlite_file.h), a purge in transactions of at most
// PurgeOptions::batch_rows rows with the mutex released between them, so saves queue behind one
// short batch at most.
#pragma once

#include <memory>
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

 private:
  // PurgeTarget.
  Result<std::vector<UserSpan>> UsersWithData() override;
  Result<std::vector<std::pair<std::string, int>>> RetentionOverrides() override;
  Result<std::vector<LegalHold>> Holds() override { return ListHolds(); }
  Result<int64_t> CountBefore(const std::string& user_id, int64_t cutoff_us) override;
  Result<int64_t> RemoveBefore(const std::string& user_id, int64_t cutoff_us,
                               int max_rows) override;

  SqliteFile* const file_;
};

}  // namespace omniflow
