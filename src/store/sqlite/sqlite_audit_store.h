// SqliteAuditStore: the audit facet of a SqliteDatabase (the audit_log table of the audit
// migration). Appends run on the file's one write connection under its mutex, one transaction
// per Append; reads too (the log is read rarely, by an operator). A purge deletes in
// transactions of at most batch_rows rows, releasing the mutex between them.
#pragma once

#include "store/audit_store.h"
#include "store/sqlite/sqlite_file.h"

namespace omniflow {

class SqliteAuditStore final : public AuditStore {
 public:
  // REQUIRES: `file` migrated; it outlives the store.
  explicit SqliteAuditStore(SqliteFile* file) : file_(file) {}

  Status Append(std::span<AuditEntry> entries) override;
  Result<AuditPage> List(const AuditQuery& query) override;
  Result<int64_t> PurgeBefore(int64_t cutoff_us, bool dry_run, int batch_rows) override;

 private:
  SqliteFile* const file_;
};

}  // namespace omniflow
