// SqliteAnalyticsStore: the analytics facet of a SqliteDatabase, over the file SqliteStore
// writes. Reads come from a small pool of read-only connections (WAL: they never block the
// writer) and use the aggregates and indexes of migration 3; feedback is written through the
// file's one write connection (sqlite_file.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/mutex.h"
#include "store/analytics_store.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_file.h"

namespace omniflow {

class SqliteAnalyticsStore final : public AnalyticsStore {
 public:
  // REQUIRES: `file` migrated; it outlives the store.
  explicit SqliteAnalyticsStore(SqliteFile* file) : file_(file) {}

  Result<Stats> GetStats(const StatsQuery& query) override;
  Result<UsersPage> ListUsers(const UsersQuery& query) override;
  Result<ThreadsPage> ListThreads(const ThreadsQuery& query) override;
  Result<ConversationPage> GetConversation(const ConversationQuery& query) override;
  Result<SearchPage> Search(const SearchQuery& query) override;
  Status SetFeedback(const std::string& user_id, const std::string& interaction_id,
                     const Feedback& feedback) override;
  Status SetFeedbacks(std::span<const FeedbackWrite> writes) override;
  Result<std::optional<Feedback>> GetFeedback(const std::string& user_id,
                                              const std::string& interaction_id) override;
  Result<std::string> OwnerOf(const std::string& interaction_id) override;

 private:
  class Lease;
  Result<Lease> Acquire() EXCLUDES(pool_mu_);
  void Release(std::unique_ptr<sqlite::Db> db) EXCLUDES(pool_mu_);

  SqliteFile* const file_;
  Mutex pool_mu_;
  std::vector<std::unique_ptr<sqlite::Db>> pool_ GUARDED_BY(pool_mu_);
};

}  // namespace omniflow
