// The SQLite schema as numbered migrations (sqlite_migrations.cpp holds the whole history, in
// order). SqliteDatabase runs them once when it opens the file; nothing else creates tables.
// The PostgreSQL schema follows the same numbering (postgres/pg_migrations.cpp).
#pragma once

#include "core/status.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store_options.h"

namespace omniflow {

// Applies every pending migration on `db` (the file's write connection), each in its own
// transaction. Applying twice is a no-op (applied = 0).
Result<MigrationReport> MigrateSqlite(sqlite::Db& db);

}  // namespace omniflow
