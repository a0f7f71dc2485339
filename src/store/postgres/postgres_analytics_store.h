// PostgresAnalyticsStore: the analytics facet of a PostgresDatabase, over the tables
// PostgresStore writes (migration 3). Aggregates are computed at query time from the indexes (per user through the
// primary key, over everyone through interactions_by_time); users and threads come from the
// kept counts with their first and last interaction; search matches each term as a substring
// of omniflow_search_text(body), reading the user's rows (all rows for the admin's view). Every query runs in a transaction that sets the user for row-level
// security, or omniflow.admin (read-only) when the scope has no user, which only the API layer
// allows (admin key, open mode).
#pragma once

#include <memory>

#include "store/analytics_store.h"
#include "store/postgres/pg_conn.h"

namespace omniflow {

class PostgresAnalyticsStore final : public AnalyticsStore {
 public:
  // Runs on `pool`'s connections. REQUIRES: the database migrated; `pool` outlives the store.
  explicit PostgresAnalyticsStore(pg::Pool* pool) : pool_(pool) {}

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
  // Runs `queries` in one read-only (or, with `write`, read-write) transaction as `user` (or as
  // the admin reader when none); returns their results.
  Result<std::vector<pg::Res>> Run(const std::optional<std::string>& user,
                                   std::vector<pg::Query> queries, bool write = false);

  pg::Pool* const pool_;
};

}  // namespace omniflow
