// PostgresReplayStore: the replay facet of a PostgresDatabase (the replays and replay_items
// tables of the replay migration), on the database's pool, one short transaction per call.
// Admin-only data, like the audit log: no row-level security; user erasure deletes a user's
// items in its own transaction (PostgresLifecycleStore::EraseUser).
#pragma once

#include "store/postgres/pg_conn.h"
#include "store/replay_store.h"

namespace omniflow {

class PostgresReplayStore final : public ReplayStore {
 public:
  // REQUIRES: the database migrated; `pool` outlives the store.
  explicit PostgresReplayStore(pg::Pool* pool) : pool_(pool) {}

  Status Create(const ReplayInfo& info) override;
  Status AddTargets(const std::string& replay_id, std::span<const ReplayTarget> targets,
                    const std::map<std::string, std::string>& snapshots) override;
  Result<std::map<std::string, std::string>> Snapshots(const std::string& replay_id) override;
  Result<std::vector<ReplayTarget>> Pending(const std::string& replay_id, int limit) override;
  Result<bool> SaveResult(const std::string& replay_id, int64_t item_no,
                          const ReplayResult& result) override;
  Status Finish(const std::string& replay_id, const std::string& state, const std::string& error,
                int64_t finished_us) override;
  Result<ReplayInfo> Get(const std::string& replay_id) override;
  Result<std::vector<ReplayInfo>> List(int limit) override;
  Result<ReplaySummary> Summarize(const std::string& replay_id) override;
  Result<ReplayItemsPage> Items(const ReplayItemsQuery& query) override;
  Status Delete(const std::string& replay_id) override;

 private:
  Result<std::vector<pg::Res>> Run(const std::vector<pg::Query>& queries);
  pg::Pool* const pool_;
};

}  // namespace omniflow
