// The SQLite DataStore's factory, for DataStore::Open's dispatch (store/data_store.cpp).
#pragma once

#include <memory>

#include "store/data_store.h"

namespace omniflow {

// Opens the data store on the SQLite file in options.data_dir (or the sqlite:<dir> URL), which
// the interaction store must have created and migrated.
Result<std::unique_ptr<DataStore>> OpenSqliteDataStore(const StoreOptions& options);

}  // namespace omniflow
