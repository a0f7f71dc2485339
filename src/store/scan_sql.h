// The one statement behind InteractionStore::Scan on both engines: interactions oldest first
// (or by thread), filtered, after a keyset cursor, with each one's feedback score. Only the
// placeholders differ between SQLite (?N) and PostgreSQL ($N::type).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "store/interaction_store.h"

namespace omniflow {

enum class SqlDialect { kSqlite, kPostgres };

struct ScanStatement {
  // Selects body, ts_us, interaction_id, user_id, thread_id, feedback score (NULL when none),
  // at most query.limit + 1 rows (the extra one says that more follow).
  std::string sql;
  std::vector<std::variant<int64_t, std::string>> params;  // $1, $2, ... in order
};

ScanStatement BuildScanStatement(const ScanQuery& query, SqlDialect dialect);

// The cursor that continues after `row` in `order`.
ScanCursor CursorAfter(const ScannedInteraction& row, ScanOrder order);

}  // namespace omniflow
