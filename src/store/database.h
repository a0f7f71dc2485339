// A Database is omniflow's whole store on one engine: it owns the connections and the schema,
// and exposes one facet per kind of data (interactions, analytics, data documents, lifecycle, the
// audit log, the hash chain, OTLP spans awaiting their trace, replays). Open() is
// the one place that reads a store URL and picks the engine: "sqlite:<dir>" or none (the
// embedded default, SqliteDatabase) or "postgresql://..." (PostgresDatabase). Every command
// that touches the store (serve, import, demo-data, migrate, ...) opens one Database.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "store/analytics_store.h"
#include "store/audit_store.h"
#include "store/chain_store.h"
#include "store/data_store.h"
#include "store/interaction_store.h"
#include "store/lifecycle_store.h"
#include "store/replay_store.h"
#include "store/pending_span_store.h"
#include "store/store_options.h"

namespace omniflow {

// The engines a store URL can name.
enum class Engine { kSqlite, kPostgres };

// A store URL resolved: its engine, and the data dir (SQLite) or connection URL (PostgreSQL).
struct StoreLocation {
  Engine engine = Engine::kSqlite;
  std::string data_dir;  // SQLite: the directory of omniflow.db
  std::string url;       // PostgreSQL: the connection URL
};

// InvalidArgument for a URL no engine takes.
Result<StoreLocation> LocateStore(const StoreOptions& options);

class Database {
 public:
  virtual ~Database() = default;

  // Opens the store named by `options`: connects, applies pending migrations once, and starts
  // what the engine runs in the background (SQLite: the WAL checkpointer and the search indexer,
  // so every writer through this Database keeps the WAL bounded; PostgreSQL: the id-slot lease).
  static Result<std::unique_ptr<Database>> Open(const StoreOptions& options);

  // Applies the pending migrations of the store named by `options` and nothing else. Applying
  // twice is a no-op. Safe while servers run (PostgreSQL serialises it with an advisory lock).
  static Result<MigrationReport> Migrate(const StoreOptions& options);

  // The facets; they live as long as the Database. Thread-safe as each interface says.
  virtual InteractionStore& interactions() = 0;
  virtual AnalyticsStore& analytics() = 0;
  virtual DataStore& data() = 0;
  virtual LifecycleStore& lifecycle() = 0;
  virtual AuditStore& audit() = 0;
  virtual ChainStore& chain() = 0;
  virtual ReplayStore& replays() = 0;
  virtual PendingSpanStore& pending_spans() = 0;  // OTLP spans awaiting their trace

  // What /metrics shows of the store. Thread-safe; may read the store.
  struct Gauges {
    std::optional<int64_t> size_bytes;        // SQLite: the file and its WAL; PostgreSQL:
                                              // pg_database_size; nullopt when unknown
    std::optional<int64_t> search_index_lag;  // SQLite: saved, not yet searchable; else none
  };
  virtual Gauges ReadGauges() { return {}; }

  // A short name for logs, without secrets: "sqlite:/path/omniflow.db", "postgresql://app@db/x".
  virtual std::string Describe() const = 0;
};

}  // namespace omniflow
