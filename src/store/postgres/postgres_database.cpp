#include "store/postgres/postgres_database.h"

#include <algorithm>
#include <utility>

#include "store/postgres/pg_migrations.h"

namespace omniflow {

Result<std::unique_ptr<Database>> PostgresDatabase::Open(const StoreLocation& location,
                                                         const StoreOptions& options) {
  Result<pg::Conn> writer = pg::Conn::Connect(location.url);
  if (!writer.ok()) return writer.status();
  Result<MigrationReport> migrated = pg::Migrate(*writer);
  if (!migrated.ok()) return migrated.status();
  // Idle connections kept for the three facets' readers together.
  const size_t keep = static_cast<size_t>(std::max(1, options.read_connections)) * 3;
  std::unique_ptr<PostgresDatabase> db(new PostgresDatabase(location.url, keep));
  Result<std::unique_ptr<PostgresStore>> interactions =
      PostgresStore::Open(location.url, std::move(*writer), db->pool_.get(),
                          options.pg_write_connections);
  if (interactions.ok()) (*interactions)->set_hash_chain(options.hash_chain);
  if (!interactions.ok()) return interactions.status();
  db->interactions_ = std::move(*interactions);
  db->analytics_ = std::make_unique<PostgresAnalyticsStore>(db->pool_.get());
  db->data_ = std::make_unique<PostgresDataStore>(db->pool_.get());
  db->lifecycle_ = std::make_unique<PostgresLifecycleStore>(db->pool_.get());
  db->audit_ = std::make_unique<PostgresAuditStore>(db->pool_.get());
  db->chain_ = std::make_unique<PostgresChainStore>(db->pool_.get());
  db->replays_ = std::make_unique<PostgresReplayStore>(db->pool_.get());
  db->pending_spans_ = std::make_unique<PostgresPendingSpanStore>(db->pool_.get());
  return std::unique_ptr<Database>(std::move(db));
}

Result<MigrationReport> PostgresDatabase::Migrate(const StoreLocation& location) {
  Result<pg::Conn> conn = pg::Conn::Connect(location.url);
  if (!conn.ok()) return conn.status();
  return pg::Migrate(*conn);
}

// The facets go first (the interactions facet gives its id slot back), then the pool.
Database::Gauges PostgresDatabase::ReadGauges() {
  Gauges gauges;
  Result<pg::Pool::Lease> conn = pool_->Acquire();
  if (!conn.ok()) return gauges;
  Result<pg::Res> size = (*conn)->Exec("SELECT pg_database_size(current_database())");
  if (size.ok() && size->rows() == 1 && !size->IsNull(0, 0)) gauges.size_bytes = size->Int(0, 0);
  return gauges;
}

PostgresDatabase::~PostgresDatabase() {
  replays_.reset();
  audit_.reset();
  pending_spans_.reset();
  chain_.reset();
  lifecycle_.reset();
  data_.reset();
  analytics_.reset();
  interactions_.reset();
}

}  // namespace omniflow
