// DataStore::Open: the backend follows the store URL, as InteractionStore::Open's does.
#include "store/data_store.h"

#include "store/postgres/pg_conn.h"
#include "store/postgres/postgres_data_store.h"
#include "store/sqlite/sqlite_data_store.h"

namespace omniflow {

Result<std::unique_ptr<DataStore>> DataStore::Open(const StoreOptions& options) {
  if (pg::IsPostgresUrl(options.url)) {
    Result<std::unique_ptr<PostgresDataStore>> store = PostgresDataStore::Open(options);
    if (!store.ok()) return store.status();
    return std::unique_ptr<DataStore>(std::move(*store));
  }
  if (!options.url.empty() && options.url.rfind("sqlite:", 0) != 0) {
    return Status::InvalidArgument(
        "unknown store URL: use sqlite:<data dir> (the default) or postgresql://user:pass@host:port/db");
  }
  return OpenSqliteDataStore(options);
}

}  // namespace omniflow
