// The SQLite side of the hash chain (trust/chain.h, store/chain_store.h): chaining the rows a
// file held before the chain existed, loading the head, and the ChainStore facet.
#pragma once

#include "store/chain_store.h"
#include "store/sqlite/sqlite_file.h"

namespace omniflow {

// Chains the interactions without a hash (stored before migration 7), in seq order, and
// writes chain_head when it is missing; then loads the head into file->chain. One transaction;
// a no-op after the first time. REQUIRES: the file migrated.
Status ChainExisting(SqliteFile* file);

// Statements shared by the writers of chained records.
namespace sqlite_chain {
// Sets chain_head to `head` (in the caller's transaction).
Status WriteHead(sqlite::Db& db, const trust::ChainHead& head);
}  // namespace sqlite_chain

class SqliteChainStore final : public ChainStore {
 public:
  explicit SqliteChainStore(SqliteFile* file) : file_(file) {}

  Result<trust::ChainHead> Head() override;
  Status Walk(int64_t from_seq, const std::function<void(const ChainSnapshot&)>& start,
              const std::function<bool(const trust::ChainRecord&)>& visit) override;

 private:
  SqliteFile* const file_;
};

}  // namespace omniflow
