// SqliteReplayStore: the replay facet of a SqliteDatabase (the replays and replay_items tables
// of the replay migration). Reads and writes run on the file's one write connection under its
// mutex, one short transaction each (a replay writes one result at a time, between saves).
#pragma once

#include "store/replay_store.h"
#include "store/sqlite/sqlite_file.h"

namespace omniflow {

class SqliteReplayStore final : public ReplayStore {
 public:
  // REQUIRES: `file` migrated; it outlives the store.
  explicit SqliteReplayStore(SqliteFile* file) : file_(file) {}

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
  Result<std::vector<ReplayInfo>> Select(const std::string* replay_id, int limit)
      REQUIRES(file_->write_mu);
  SqliteFile* const file_;
};

}  // namespace omniflow
