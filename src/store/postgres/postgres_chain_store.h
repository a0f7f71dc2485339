// PostgresChainStore: the hash chain facet of a PostgresDatabase (store/chain_store.h). The
// writer (postgres_store.cpp) appends links with its batches; this reads the head and walks the
// chain for `omniflow verify`, with a cursor in one REPEATABLE READ transaction.
#pragma once

#include "store/chain_store.h"
#include "store/postgres/pg_conn.h"

namespace omniflow {

class PostgresChainStore final : public ChainStore {
 public:
  explicit PostgresChainStore(pg::Pool* pool) : pool_(pool) {}

  Result<trust::ChainHead> Head() override;
  Status Walk(int64_t from_seq, const std::function<void(const ChainSnapshot&)>& start,
              const std::function<bool(const trust::ChainRecord&)>& visit) override;

 private:
  pg::Pool* const pool_;
};

}  // namespace omniflow
