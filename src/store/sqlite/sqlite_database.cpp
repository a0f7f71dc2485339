#include "store/sqlite/sqlite_database.h"

#include <sys/stat.h>

#include <filesystem>
#include <utility>

#include "store/sqlite/sqlite_data_store.h"
#include "store/sqlite/sqlite_migrations.h"

namespace omniflow {

namespace {

// Opens (creating) the file's write connection with the settings every writer needs, and
// brings the schema up to date.
Result<sqlite::Db> OpenWriter(const std::string& dir, const std::string& path,
                              const StoreOptions& options, MigrationReport* report) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Unavailable("cannot create data dir " + dir + ": " + ec.message());
  Result<sqlite::Db> db = sqlite::Db::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db.ok()) return db.status();
  // page_size only takes effect before the first table is created.
  Status s = db->Exec("PRAGMA page_size=" + std::to_string(options.sqlite_page_size));
  if (s.ok()) s = db->Exec("PRAGMA journal_mode=WAL");
  if (s.ok()) s = db->Exec("PRAGMA synchronous=FULL");
  // Deleted content (purges, erasures) is overwritten with zeros, not left in free space.
  if (s.ok()) s = db->Exec("PRAGMA secure_delete=ON");
  if (!s.ok()) return s;
  Result<MigrationReport> migrated = MigrateSqlite(*db);
  if (!migrated.ok()) return migrated.status();
  *report = *migrated;
  return db;
}

std::string FilePath(const std::string& dir) {
  return (std::filesystem::path(dir) / "omniflow.db").string();
}

}  // namespace

Result<std::unique_ptr<Database>> SqliteDatabase::Open(const StoreLocation& location,
                                                       const StoreOptions& options) {
  auto file = std::make_unique<SqliteFile>();
  file->dir = location.data_dir;
  file->hash_chain = options.hash_chain;
  file->erasure_vacuum = options.erasure_vacuum;
  file->path = FilePath(location.data_dir);
  MigrationReport report;
  Result<sqlite::Db> writer = OpenWriter(file->dir, file->path, options, &report);
  if (!writer.ok()) return writer.status();
  Result<std::shared_ptr<SqliteCheckpointer>> checkpointer = SqliteCheckpointer::ForFile(
      file->path, CheckpointOptions::ForWakePages(options.sqlite_checkpoint_pages));
  if (!checkpointer.ok()) return checkpointer.status();
  file->checkpointer = std::move(*checkpointer);
  {
    MutexLock lock(&file->write_mu);
    file->writer = std::move(*writer);
    file->checkpointer->Attach(file->writer.get());
  }
  if (Status s = ChainExisting(file.get()); !s.ok()) return s;
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(std::move(file)));
  Result<std::unique_ptr<SqliteStore>> interactions = SqliteStore::Open(db->file_.get(), options);
  if (!interactions.ok()) return interactions.status();
  db->interactions_ = std::move(*interactions);
  db->analytics_ = std::make_unique<SqliteAnalyticsStore>(db->file_.get());
  db->data_ = NewSqliteDataStore(db->file_.get());
  auto lifecycle = std::make_unique<SqliteLifecycleStore>(db->file_.get());
  if (Status s = lifecycle->ResumeErasures(); !s.ok()) return s;
  db->lifecycle_ = std::move(lifecycle);
  db->audit_ = std::make_unique<SqliteAuditStore>(db->file_.get());
  db->chain_ = std::make_unique<SqliteChainStore>(db->file_.get());
  db->replays_ = std::make_unique<SqliteReplayStore>(db->file_.get());
  db->pending_spans_ = std::make_unique<SqlitePendingSpanStore>(db->file_.get());
  return std::unique_ptr<Database>(std::move(db));
}

Result<MigrationReport> SqliteDatabase::Migrate(const StoreLocation& location,
                                                const StoreOptions& options) {
  MigrationReport report;
  Result<sqlite::Db> writer =
      OpenWriter(location.data_dir, FilePath(location.data_dir), options, &report);
  if (!writer.ok()) return writer.status();
  return report;
}

Database::Gauges SqliteDatabase::ReadGauges() {
  Gauges gauges;
  int64_t bytes = 0;
  for (const std::string& path : {file_->path, file_->path + "-wal"}) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) bytes += static_cast<int64_t>(st.st_size);
  }
  gauges.size_bytes = bytes;
  if (Result<int64_t> lag = interactions_->SearchIndexLag(); lag.ok()) {
    gauges.search_index_lag = *lag;
  }
  return gauges;
}

SqliteDatabase::~SqliteDatabase() {
  replays_.reset();
  audit_.reset();
  pending_spans_.reset();
  chain_.reset();
  lifecycle_.reset();
  data_.reset();
  analytics_.reset();
  interactions_.reset();
  if (!file_) return;
  MutexLock lock(&file_->write_mu);
  if (file_->writer.get() == nullptr) return;
  SqliteCheckpointer::Detach(file_->writer.get());
  (void)file_->writer.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

}  // namespace omniflow
