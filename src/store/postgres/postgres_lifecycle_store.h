// PostgresLifecycleStore: the lifecycle facet of a PostgresDatabase (retention overrides and
// legal holds, tables of the lifecycle migration; purge and erasure), on the database's pool.
// Overrides and holds are the operator's policy, not a user's data: their tables carry no
// row-level security. Removing interactions runs as their user (omniflow.user_id), as every
// other write of user data does.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "store/lifecycle_policy.h"
#include "store/lifecycle_store.h"
#include "store/postgres/pg_conn.h"

namespace omniflow {

class PostgresLifecycleStore final : public LifecycleStore, private PurgeTarget {
 public:
  // REQUIRES: the database migrated; `pool` outlives the store.
  explicit PostgresLifecycleStore(pg::Pool* pool) : pool_(pool) {}

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

  // Runs `queries` in one transaction (BEGIN `begin`) on a pooled connection.
  Result<std::vector<pg::Res>> Run(std::vector<pg::Query> queries,
                                   std::string_view begin = "BEGIN");

  // VACUUMs the tables an erasure deleted from, as far as the role may (see EraseUser).
  void Vacuum();

  pg::Pool* const pool_;
};

}  // namespace omniflow
