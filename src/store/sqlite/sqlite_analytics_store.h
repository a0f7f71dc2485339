// SqliteAnalyticsStore: the AnalyticsStore over the SQLite file that SqliteStore writes. Reads
// come from a small pool of read-only connections (WAL: they never block the writer) and use
// the aggregates and indexes of migration 3; feedback is written on its own connection.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "store/analytics_store.h"
#include "store/sqlite/sqlite_checkpointer.h"
#include "store/sqlite/sqlite_db.h"

namespace omniflow {

class SqliteAnalyticsStore final : public AnalyticsStore {
 public:
  // `data_dir` holds omniflow.db, already migrated by SqliteStore::Open. Feedback commits go
  // through the file's checkpointer (started with `checkpoints` if no other facet runs it).
  static Result<std::unique_ptr<SqliteAnalyticsStore>> Open(const std::string& data_dir,
                                                             CheckpointOptions checkpoints = {});

  Result<Stats> GetStats(const StatsQuery& query) override;
  Result<UsersPage> ListUsers(const UsersQuery& query) override;
  Result<ThreadsPage> ListThreads(const ThreadsQuery& query) override;
  Result<ConversationPage> GetConversation(const ConversationQuery& query) override;
  Result<SearchPage> Search(const SearchQuery& query) override;
  Status SetFeedback(const std::string& user_id, const std::string& interaction_id,
                     const Feedback& feedback) override;
  Result<std::optional<Feedback>> GetFeedback(const std::string& user_id,
                                              const std::string& interaction_id) override;
  Result<std::string> OwnerOf(const std::string& interaction_id) override;

 private:
  class Lease;
  // Before any other thread can see the store, its checkpointer takes the writer's checkpoints.
  SqliteAnalyticsStore(std::string path, std::shared_ptr<SqliteCheckpointer> checkpointer,
                       std::unique_ptr<sqlite::Db> writer)
      : path_(std::move(path)), checkpointer_(std::move(checkpointer)), writer_(std::move(writer)) {
    checkpointer_->Attach(writer_->get());
  }
  Result<Lease> Acquire() EXCLUDES(pool_mu_);
  void Release(std::unique_ptr<sqlite::Db> db) EXCLUDES(pool_mu_);

  const std::string path_;
  Mutex pool_mu_;
  std::vector<std::unique_ptr<sqlite::Db>> pool_ GUARDED_BY(pool_mu_);
  Mutex write_mu_;
  std::shared_ptr<SqliteCheckpointer> checkpointer_;  // takes writer_'s checkpoints; outlives it
  std::unique_ptr<sqlite::Db> writer_ GUARDED_BY(write_mu_);  // feedback only
};

}  // namespace omniflow
