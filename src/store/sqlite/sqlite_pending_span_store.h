// SqlitePendingSpanStore: the pending-spans facet of a SqliteDatabase (the otlp_pending_spans
// table of its migration), on the file's one write connection under its mutex, like every
// other small write.
#pragma once

#include "store/pending_span_store.h"
#include "store/sqlite/sqlite_file.h"

namespace omniflow {

class SqlitePendingSpanStore final : public PendingSpanStore {
 public:
  // REQUIRES: `file` migrated; it outlives the store.
  explicit SqlitePendingSpanStore(SqliteFile* file) : file_(file) {}

  Status Add(std::span<const PendingSpan> spans) override;
  Result<std::vector<PendingTrace>> Due(const DueTimes& times, int limit) override;
  Status Park(const PendingTrace& trace, int64_t up_to_us) override;
  Result<TraceSpans> Spans(const PendingTrace& trace) override;
  Result<int64_t> Remove(const PendingTrace& trace, int64_t up_to_us) override;

 private:
  SqliteFile* const file_;
};

}  // namespace omniflow
