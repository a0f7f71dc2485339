// SqliteDatabase: the embedded default Database, one SQLite file (omniflow.db in the data dir)
// in WAL mode with synchronous=FULL. It opens the file once, runs the schema history
// (sqlite_migrations.cpp) once, keeps the file's one write connection and its checkpointer
// (sqlite_file.h), and owns the facets built on them.
#pragma once

#include <memory>
#include <string>

#include "store/database.h"
#include "store/sqlite/sqlite_analytics_store.h"
#include "store/sqlite/sqlite_audit_store.h"
#include "store/sqlite/sqlite_chain.h"
#include "store/sqlite/sqlite_file.h"
#include "store/sqlite/sqlite_lifecycle_store.h"
#include "store/sqlite/sqlite_replay_store.h"
#include "store/sqlite/sqlite_pending_span_store.h"
#include "store/sqlite/sqlite_store.h"

namespace omniflow {

class SqliteDatabase final : public Database {
 public:
  // Creates the data dir and the file as needed.
  static Result<std::unique_ptr<Database>> Open(const StoreLocation& location,
                                                const StoreOptions& options);
  static Result<MigrationReport> Migrate(const StoreLocation& location,
                                         const StoreOptions& options);
  // Stops the facets, then folds the WAL back into the file so the next start is quick.
  ~SqliteDatabase() override;

  InteractionStore& interactions() override { return *interactions_; }
  AnalyticsStore& analytics() override { return *analytics_; }
  DataStore& data() override { return *data_; }
  LifecycleStore& lifecycle() override { return *lifecycle_; }
  AuditStore& audit() override { return *audit_; }
  ChainStore& chain() override { return *chain_; }
  ReplayStore& replays() override { return *replays_; }
  PendingSpanStore& pending_spans() override { return *pending_spans_; }
  std::string Describe() const override { return "sqlite:" + file_->path; }
  Gauges ReadGauges() override;

  // For SQLite's own tests and tools.
  SqliteStore& sqlite_store() { return *interactions_; }
  const SqliteFile& file() const { return *file_; }

 private:
  explicit SqliteDatabase(std::unique_ptr<SqliteFile> file) : file_(std::move(file)) {}

  std::unique_ptr<SqliteFile> file_;  // declared first: outlives the facets
  std::unique_ptr<SqliteStore> interactions_;
  std::unique_ptr<SqliteAnalyticsStore> analytics_;
  std::unique_ptr<DataStore> data_;
  std::unique_ptr<SqliteLifecycleStore> lifecycle_;
  std::unique_ptr<SqliteAuditStore> audit_;
  std::unique_ptr<SqliteChainStore> chain_;
  std::unique_ptr<SqliteReplayStore> replays_;
  std::unique_ptr<SqlitePendingSpanStore> pending_spans_;
};

}  // namespace omniflow
