// The PostgreSQL schema as numbered migrations, recorded in schema_migrations. Each runs in its
// own transaction that first takes a transaction-scoped advisory lock, so several servers
// starting at once on one database apply each migration exactly once (and it works through
// pgbouncer in transaction mode). The numbering follows the SQLite store's (1 interactions,
// 2 data documents).
#pragma once

#include "store/store_options.h"
#include "store/postgres/pg_conn.h"

namespace omniflow::pg {

// Advisory lock key of the migrations ('omni', 1).
constexpr int kLockSpace = 0x6F6D6E69;
constexpr int kMigrationLock = 1;

// Applies every pending migration on `conn`.
Result<MigrationReport> Migrate(Conn& conn);

}  // namespace omniflow::pg
