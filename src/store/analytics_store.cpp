#include "store/analytics_store.h"

#include "store/sqlite/sqlite_analytics_store.h"

namespace omniflow {

Result<std::unique_ptr<AnalyticsStore>> AnalyticsStore::Open(const StoreOptions& options) {
  const std::string& url = options.url;
  if (url.empty() || url.rfind("sqlite:", 0) == 0) {
    std::string dir = options.data_dir;
    if (url.rfind("sqlite:", 0) == 0 && url.size() > 7) dir = url.substr(7);
    Result<std::unique_ptr<SqliteAnalyticsStore>> store = SqliteAnalyticsStore::Open(dir);
    if (!store.ok()) return store.status();
    return std::unique_ptr<AnalyticsStore>(std::move(*store));
  }
  return Status::InvalidArgument("analytics are not available for this store URL yet");
}

}  // namespace omniflow
