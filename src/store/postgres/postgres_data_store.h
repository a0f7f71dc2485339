// PostgresDataStore: the data facet of a PostgresDatabase (per-user named JSON documents,
// table data_entries of migration 2). Each call is one transaction, sent in one
// round trip, that first sets the user for row-level security. Entry order is a database-wide
// identity column, so entries added through different servers keep their insertion order.
#pragma once

#include <memory>

#include "store/data_store.h"
#include "store/postgres/pg_conn.h"

namespace omniflow {

class PostgresDataStore final : public DataStore {
 public:
  // Runs on `pool`'s connections. REQUIRES: the database migrated; `pool` outlives the store.
  explicit PostgresDataStore(pg::Pool* pool) : pool_(pool) {}

  Result<Added> Add(const std::string& user, const std::string& blob,
                    std::string_view entry_object) override;
  Result<std::vector<std::string>> Get(const std::string& user, const std::string& blob) override;
  Status Replace(const std::string& user, const std::string& blob, const std::string& entry_id,
                 std::string_view merged) override;
  Result<std::string> GetEntry(const std::string& user, const std::string& blob,
                               const std::string& entry_id) override;
  Result<int64_t> Delete(const std::string& user, const std::string& blob,
                         const std::string& entry_id) override;
  Result<std::vector<std::pair<std::string, int64_t>>> List(const std::string& user) override;

 private:
  // Runs `queries` after setting `user`, in one transaction; results exclude the setting's.
  Result<std::vector<pg::Res>> AsUser(const std::string& user, std::vector<pg::Query> queries);

  pg::Pool* const pool_;
};

}  // namespace omniflow
