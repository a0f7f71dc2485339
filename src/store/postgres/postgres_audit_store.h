// PostgresAuditStore: the audit facet of a PostgresDatabase (the audit_log table of the audit
// migration), on the database's pool. Each Append is one transaction that first takes the audit
// log's advisory lock, so that seq order is commit order even with several servers appending.
// The log is the operator's record, not a user's data: its table carries no row-level security.
#pragma once

#include "store/audit_store.h"
#include "store/postgres/pg_conn.h"

namespace omniflow {

class PostgresAuditStore final : public AuditStore {
 public:
  // REQUIRES: the database migrated; `pool` outlives the store.
  explicit PostgresAuditStore(pg::Pool* pool) : pool_(pool) {}

  Status Append(std::span<AuditEntry> entries) override;
  Result<AuditPage> List(const AuditQuery& query) override;
  Result<int64_t> PurgeBefore(int64_t cutoff_us, bool dry_run, int batch_rows) override;

 private:
  pg::Pool* const pool_;
};

}  // namespace omniflow
