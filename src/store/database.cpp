#include "store/database.h"

#include "store/postgres/pg_conn.h"
#include "store/postgres/postgres_database.h"
#include "store/sqlite/sqlite_database.h"

namespace omniflow {

Result<StoreLocation> LocateStore(const StoreOptions& options) {
  const std::string& url = options.url;
  StoreLocation location;
  if (url.empty() || url.rfind("sqlite:", 0) == 0) {
    location.engine = Engine::kSqlite;
    location.data_dir = url.size() > 7 ? url.substr(7) : options.data_dir;
    if (location.data_dir.empty()) return Status::InvalidArgument("the SQLite data dir is empty");
    return location;
  }
  if (pg::IsPostgresUrl(url)) {
    location.engine = Engine::kPostgres;
    location.url = url;
    return location;
  }
  return Status::InvalidArgument(
      "unknown store URL: use sqlite:<data dir> (the default) or postgresql://user:pass@host:port/db");
}

Result<std::unique_ptr<Database>> Database::Open(const StoreOptions& options) {
  Result<StoreLocation> location = LocateStore(options);
  if (!location.ok()) return location.status();
  if (location->engine == Engine::kSqlite) return SqliteDatabase::Open(*location, options);
  return PostgresDatabase::Open(*location, options);
}

Result<MigrationReport> Database::Migrate(const StoreOptions& options) {
  Result<StoreLocation> location = LocateStore(options);
  if (!location.ok()) return location.status();
  if (location->engine == Engine::kSqlite) return SqliteDatabase::Migrate(*location, options);
  return PostgresDatabase::Migrate(*location);
}

}  // namespace omniflow
