// An Exporter reads a filtered set of interactions from the store page by page, oldest first,
// and encodes them in an export format (export_format.h), a piece at a time: the HTTP export
// streams the pieces as they are made, `omniflow export` writes them to a file. Memory stays
// bounded by one page and one piece (and, for openai, one thread) whatever the export's size.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "api/export_format.h"
#include "core/status.h"
#include "store/interaction_store.h"

namespace omniflow::api {

struct ExportFilter {
  std::optional<std::string> user_id;    // none: every user
  std::optional<std::string> thread_id;  // only this thread
  std::optional<int64_t> from_us;        // inclusive
  std::optional<int64_t> to_us;          // exclusive
};

// Not thread-safe: one caller at a time (calls may come from different threads in turn).
class Exporter {
 public:
  // `store` must outlive the exporter. `page_rows` rows are read per store call.
  Exporter(InteractionStore* store, ExportFormat format, ExportFilter filter, int page_rows = 500);

  // Appends the next part of the export to `*out`: at least `min_bytes` unless the export ends
  // first. Returns true once the whole export has been appended. A store failure is returned
  // as it is (the caller decides what its user sees).
  Result<bool> Fill(std::string* out, size_t min_bytes);

  // Interactions exported so far.
  int64_t rows() const { return rows_; }

 private:
  // The store query of the current phase: openai reads threads (grouped) and then the
  // interactions without a thread; the other formats read everything in time order.
  ScanQuery PhaseQuery() const;

  InteractionStore* store_;
  ExportEncoder encoder_;
  ExportFormat format_;
  ExportFilter filter_;
  int page_rows_;
  int phase_ = 0;
  int phases_ = 1;
  bool begun_ = false;
  bool done_ = false;
  std::optional<ScanCursor> after_;
  int64_t rows_ = 0;
};

}  // namespace omniflow::api
