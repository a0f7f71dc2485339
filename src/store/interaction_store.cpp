#include "store/interaction_store.h"

#include "store/sqlite/sqlite_store.h"

namespace omniflow {

Result<std::unique_ptr<InteractionStore>> InteractionStore::Open(const StoreOptions& options) {
  const std::string& url = options.url;
  if (url.empty() || url.rfind("sqlite:", 0) == 0) {
    StoreOptions sqlite_options = options;
    if (url.rfind("sqlite:", 0) == 0 && url.size() > 7) sqlite_options.data_dir = url.substr(7);
    Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(sqlite_options);
    if (!store.ok()) return store.status();
    return std::unique_ptr<InteractionStore>(std::move(*store));
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    return Status::InvalidArgument("PostgreSQL support is not built into this binary yet");
  }
  return Status::InvalidArgument(
      "unknown store URL: use sqlite:<data dir> (the default) or postgresql://user:pass@host:port/db");
}

}  // namespace omniflow
