#include "store/analytics_store.h"

#include "store/postgres/pg_conn.h"
#include "store/postgres/postgres_analytics_store.h"
#include "store/sqlite/sqlite_analytics_store.h"

namespace omniflow {

Result<std::unique_ptr<AnalyticsStore>> AnalyticsStore::Open(const StoreOptions& options) {
  const std::string& url = options.url;
  if (url.empty() || url.rfind("sqlite:", 0) == 0) {
    std::string dir = options.data_dir;
    if (url.rfind("sqlite:", 0) == 0 && url.size() > 7) dir = url.substr(7);
    Result<std::unique_ptr<SqliteAnalyticsStore>> store = SqliteAnalyticsStore::Open(
        dir, CheckpointOptions::ForWakePages(options.sqlite_checkpoint_pages));
    if (!store.ok()) return store.status();
    return std::unique_ptr<AnalyticsStore>(std::move(*store));
  }
  if (pg::IsPostgresUrl(url)) {
    Result<std::unique_ptr<PostgresAnalyticsStore>> store = PostgresAnalyticsStore::Open(options);
    if (!store.ok()) return store.status();
    return std::unique_ptr<AnalyticsStore>(std::move(*store));
  }
  return Status::InvalidArgument(
      "unknown store URL: use sqlite:<data dir> (the default) or postgresql://user:pass@host:port/db");
}

}  // namespace omniflow
