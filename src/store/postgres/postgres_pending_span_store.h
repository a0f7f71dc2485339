// PostgresPendingSpanStore: the pending-spans facet of a PostgresDatabase (the
// otlp_pending_spans table of its migration), on the database's pool. Each call is one
// transaction; row-level security admits the user's own rows (omniflow.user_id) and, for the
// trace assembler's scan across users, omniflow.admin.
#pragma once

#include "store/pending_span_store.h"
#include "store/postgres/pg_conn.h"

namespace omniflow {

class PostgresPendingSpanStore final : public PendingSpanStore {
 public:
  // REQUIRES: the database migrated; `pool` outlives the store.
  explicit PostgresPendingSpanStore(pg::Pool* pool) : pool_(pool) {}

  Status Add(std::span<const PendingSpan> spans) override;
  Result<std::vector<PendingTrace>> Due(const DueTimes& times, int limit) override;
  Status Park(const PendingTrace& trace, int64_t up_to_us) override;
  Result<TraceSpans> Spans(const PendingTrace& trace) override;
  Result<int64_t> Remove(const PendingTrace& trace, int64_t up_to_us) override;

 private:
  Result<std::vector<pg::Res>> Run(const std::vector<pg::Query>& queries);

  pg::Pool* const pool_;
};

}  // namespace omniflow
