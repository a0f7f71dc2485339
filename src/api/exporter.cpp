#include "api/exporter.h"

namespace omniflow::api {

Exporter::Exporter(InteractionStore* store, ExportFormat format, ExportFilter filter,
                   int page_rows)
    : store_(store),
      encoder_(format),
      format_(format),
      filter_(std::move(filter)),
      page_rows_(page_rows) {
  // One thread's export needs no second phase: it has no interactions without a thread.
  phases_ = format_ == ExportFormat::kOpenAi && !filter_.thread_id ? 2 : 1;
}

ScanQuery Exporter::PhaseQuery() const {
  ScanQuery q;
  q.user_id = filter_.user_id;
  q.thread_id = filter_.thread_id;
  q.from_us = filter_.from_us;
  q.to_us = filter_.to_us;
  q.limit = page_rows_;
  q.after = after_;
  if (format_ == ExportFormat::kOpenAi) {
    if (phase_ == 0) {
      q.order = ScanOrder::kThread;
    } else {
      q.without_thread = true;
    }
  }
  return q;
}

Result<bool> Exporter::Fill(std::string* out, size_t min_bytes) {
  const size_t start = out->size();
  if (!begun_) {
    encoder_.Begin(out);
    begun_ = true;
  }
  while (!done_ && out->size() - start < min_bytes) {
    Result<ScanPage> page = store_->Scan(PhaseQuery());
    if (!page.ok()) return page.status();
    for (const ScannedInteraction& row : page->items) {
      if (Status s = encoder_.Add(row, out); !s.ok()) return s;
    }
    rows_ += static_cast<int64_t>(page->items.size());
    after_ = std::move(page->next);
    if (!after_ && ++phase_ >= phases_) {
      encoder_.Finish(out);
      done_ = true;
    }
  }
  return done_;
}

}  // namespace omniflow::api
