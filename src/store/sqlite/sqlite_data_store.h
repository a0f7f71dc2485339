// The data facet of a SqliteDatabase (per-user JSON documents, table data_entries).
#pragma once

#include <memory>

#include "store/data_store.h"
#include "store/sqlite/sqlite_file.h"

namespace omniflow {

// A DataStore on `file`'s write connection. REQUIRES: `file` migrated; it outlives the store.
std::unique_ptr<DataStore> NewSqliteDataStore(SqliteFile* file);

}  // namespace omniflow
