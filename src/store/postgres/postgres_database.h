// PostgresDatabase: the Database for several stateless servers on one PostgreSQL database. It
// applies the schema history (pg_migrations.cpp) once when it opens, keeps one pool of
// connections that every facet's reads and small writes share, and owns the facets; the
// interactions facet adds its writer and its id-slot lease connections.
#pragma once

#include <memory>
#include <string>

#include "store/database.h"
#include "store/postgres/pg_conn.h"
#include "store/postgres/postgres_analytics_store.h"
#include "store/postgres/postgres_audit_store.h"
#include "store/postgres/postgres_chain_store.h"
#include "store/postgres/postgres_data_store.h"
#include "store/postgres/postgres_lifecycle_store.h"
#include "store/postgres/postgres_replay_store.h"
#include "store/postgres/postgres_pending_span_store.h"
#include "store/postgres/postgres_store.h"

namespace omniflow {

class PostgresDatabase final : public Database {
 public:
  static Result<std::unique_ptr<Database>> Open(const StoreLocation& location,
                                                const StoreOptions& options);
  static Result<MigrationReport> Migrate(const StoreLocation& location);
  ~PostgresDatabase() override;

  InteractionStore& interactions() override { return *interactions_; }
  AnalyticsStore& analytics() override { return *analytics_; }
  DataStore& data() override { return *data_; }
  LifecycleStore& lifecycle() override { return *lifecycle_; }
  AuditStore& audit() override { return *audit_; }
  ChainStore& chain() override { return *chain_; }
  ReplayStore& replays() override { return *replays_; }
  PendingSpanStore& pending_spans() override { return *pending_spans_; }
  std::string Describe() const override { return pg::RedactUrl(url_); }
  // size_bytes: pg_database_size of the database (every table and index, all servers' data).
  Gauges ReadGauges() override;

 private:
  PostgresDatabase(std::string url, size_t keep)
      : url_(std::move(url)), pool_(std::make_unique<pg::Pool>(url_, keep)) {}

  const std::string url_;
  std::unique_ptr<pg::Pool> pool_;  // declared before the facets: outlives them
  std::unique_ptr<PostgresStore> interactions_;
  std::unique_ptr<PostgresAnalyticsStore> analytics_;
  std::unique_ptr<PostgresDataStore> data_;
  std::unique_ptr<PostgresLifecycleStore> lifecycle_;
  std::unique_ptr<PostgresAuditStore> audit_;
  std::unique_ptr<PostgresChainStore> chain_;
  std::unique_ptr<PostgresReplayStore> replays_;
  std::unique_ptr<PostgresPendingSpanStore> pending_spans_;
};

}  // namespace omniflow
