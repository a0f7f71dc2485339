#include "store/sqlite/sqlite_pending_span_store.h"

#include "core/mutex.h"
#include "store/sqlite/sqlite_db.h"

namespace omniflow {

Status SqlitePendingSpanStore::Add(std::span<const PendingSpan> spans) {
  if (spans.empty()) return Status::Ok();
  MutexLock lock(&file_->write_mu);
  sqlite::Transaction tx(file_->writer);
  if (!tx.status.ok()) return tx.status;
  // A retried span keeps its row and text; its received time moves, so the trace stays open,
  // and like every arrival it un-parks the trace.
  Result<sqlite::Stmt> insert = file_->writer.Prepare(
      "INSERT INTO otlp_pending_spans(user_id, trace_id, span_id, root, genai, received_us, span) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(user_id, trace_id, span_id) "
      "DO UPDATE SET received_us = excluded.received_us, parked = 0");
  if (!insert.ok()) return insert.status();
  for (const PendingSpan& span : spans) {
    insert->Reset();
    insert->Bind(1, span.user_id);
    insert->Bind(2, span.trace_id);
    insert->Bind(3, span.span_id);
    insert->Bind(4, int64_t{span.root ? 1 : 0});
    insert->Bind(5, int64_t{span.genai ? 1 : 0});
    insert->Bind(6, span.received_us);
    insert->Bind(7, span.json);
    if (Status s = insert->Run(); !s.ok()) return s;
  }
  insert = sqlite::Stmt();
  return tx.Commit();
}

Result<std::vector<PendingTrace>> SqlitePendingSpanStore::Due(const DueTimes& times, int limit) {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> select = file_->writer.Prepare(
      "SELECT user_id, trace_id FROM otlp_pending_spans GROUP BY user_id, trace_id "
      "HAVING (max(received_us) < ?1 AND max(root) = 1 AND min(parked) = 0) "
      "OR (max(received_us) < ?2 AND (max(root) = 1 OR max(genai) = 0)) "
      "OR min(received_us) < ?3 "
      "ORDER BY min(received_us) LIMIT ?4");
  if (!select.ok()) return select.status();
  select->Bind(1, times.quiet_before_us);
  select->Bind(2, times.parent_wait_before_us);
  select->Bind(3, times.expire_before_us);
  select->Bind(4, int64_t{limit});
  std::vector<PendingTrace> due;
  while (true) {
    Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    due.push_back({std::string(select->Text(0)), std::string(select->Text(1))});
  }
  return due;
}

Result<PendingSpanStore::TraceSpans> SqlitePendingSpanStore::Spans(const PendingTrace& trace) {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> select = file_->writer.Prepare(
      "SELECT span, received_us FROM otlp_pending_spans WHERE user_id = ?1 AND trace_id = ?2");
  if (!select.ok()) return select.status();
  select->Bind(1, trace.user_id);
  select->Bind(2, trace.trace_id);
  TraceSpans out;
  while (true) {
    Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.jsons.emplace_back(select->Text(0));
    const int64_t received = select->Int(1);
    if (out.jsons.size() == 1 || received > out.newest_received_us) out.newest_received_us = received;
    if (out.jsons.size() == 1 || received < out.oldest_received_us) out.oldest_received_us = received;
  }
  return out;
}

Status SqlitePendingSpanStore::Park(const PendingTrace& trace, int64_t up_to_us) {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> park = file_->writer.Prepare(
      "UPDATE otlp_pending_spans SET parked = 1 "
      "WHERE user_id = ?1 AND trace_id = ?2 AND received_us <= ?3");
  if (!park.ok()) return park.status();
  park->Bind(1, trace.user_id);
  park->Bind(2, trace.trace_id);
  park->Bind(3, up_to_us);
  return park->Run();
}

Result<int64_t> SqlitePendingSpanStore::Remove(const PendingTrace& trace, int64_t up_to_us) {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> remove = file_->writer.Prepare(
      "DELETE FROM otlp_pending_spans WHERE user_id = ?1 AND trace_id = ?2 AND received_us <= ?3");
  if (!remove.ok()) return remove.status();
  remove->Bind(1, trace.user_id);
  remove->Bind(2, trace.trace_id);
  remove->Bind(3, up_to_us);
  if (Status s = remove->Run(); !s.ok()) return s;
  return static_cast<int64_t>(sqlite3_changes(file_->writer.get()));
}

}  // namespace omniflow
