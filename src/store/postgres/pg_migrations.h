// The PostgreSQL schema as numbered migrations, recorded in schema_migrations and applied under
// an advisory lock, so that several servers starting at once on one database apply each
// migration exactly once. The numbering follows the SQLite store's (1 interactions, 2 data).
#pragma once

#include "store/interaction_store.h"
#include "store/postgres/pg_conn.h"

namespace omniflow::pg {

// Advisory lock keys (first key: 'omni'): migrations, then the id slots.
constexpr int kLockSpace = 0x6F6D6E69;
constexpr int kMigrationLock = 1;
constexpr int kIdSlotLockBase = 100;

// Applies every pending migration on `conn`; holds the migration lock meanwhile.
Result<MigrationReport> Migrate(Conn& conn);

}  // namespace omniflow::pg
