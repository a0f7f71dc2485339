#include "store/interaction_store.h"

#include <filesystem>

#include "store/postgres/pg_conn.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace omniflow {

namespace {

constexpr const char* kUnknownUrl =
    "unknown store URL: use sqlite:<data dir> (the default) or postgresql://user:pass@host:port/db";

bool IsSqlite(const StoreOptions& options, StoreOptions* sqlite_options) {
  const std::string& url = options.url;
  if (!url.empty() && url.rfind("sqlite:", 0) != 0) return false;
  *sqlite_options = options;
  if (url.rfind("sqlite:", 0) == 0 && url.size() > 7) sqlite_options->data_dir = url.substr(7);
  return true;
}

// Applied SQLite migrations and the highest version, or {0, 0} before the first start.
Result<std::pair<int, int>> SqliteVersions(const std::string& data_dir) {
  std::string path = (std::filesystem::path(data_dir) / "omniflow.db").string();
  if (!std::filesystem::exists(path)) return std::pair<int, int>(0, 0);
  Result<sqlite::Db> db = sqlite::Db::Open(path, SQLITE_OPEN_READONLY);
  if (!db.ok()) return db.status();
  Result<sqlite::Stmt> exists =
      db->Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
  if (!exists.ok()) return exists.status();
  Result<bool> row = exists->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::pair<int, int>(0, 0);
  Result<sqlite::Stmt> count =
      db->Prepare("SELECT COUNT(*), COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!count.ok()) return count.status();
  row = count->Step();
  if (!row.ok()) return row.status();
  return std::pair<int, int>(static_cast<int>(count->Int(0)), static_cast<int>(count->Int(1)));
}

}  // namespace

Result<std::unique_ptr<InteractionStore>> InteractionStore::Open(const StoreOptions& options) {
  StoreOptions sqlite_options;
  if (IsSqlite(options, &sqlite_options)) {
    Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(sqlite_options);
    if (!store.ok()) return store.status();
    return std::unique_ptr<InteractionStore>(std::move(*store));
  }
  if (pg::IsPostgresUrl(options.url)) {
    Result<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(options);
    if (!store.ok()) return store.status();
    return std::unique_ptr<InteractionStore>(std::move(*store));
  }
  return Status::InvalidArgument(kUnknownUrl);
}

Result<MigrationReport> InteractionStore::Migrate(const StoreOptions& options) {
  StoreOptions sqlite_options;
  if (IsSqlite(options, &sqlite_options)) {
    Result<std::pair<int, int>> before = SqliteVersions(sqlite_options.data_dir);
    if (!before.ok()) return before.status();
    {
      // Opening migrates (and sets up a new file the way a server would).
      Result<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(sqlite_options);
      if (!store.ok()) return store.status();
    }
    Result<std::pair<int, int>> after = SqliteVersions(sqlite_options.data_dir);
    if (!after.ok()) return after.status();
    return MigrationReport{after->first - before->first, after->second};
  }
  if (pg::IsPostgresUrl(options.url)) {
    Result<pg::Conn> conn = pg::Conn::Connect(options.url);
    if (!conn.ok()) return conn.status();
    return pg::Migrate(*conn);
  }
  return Status::InvalidArgument(kUnknownUrl);
}

}  // namespace omniflow
