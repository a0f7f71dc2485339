#include "store/postgres/postgres_pending_span_store.h"

namespace omniflow {

namespace {

constexpr const char* kSetAdmin = "SELECT set_config('omniflow.admin', 'on', true)";

}  // namespace

Result<std::vector<pg::Res>> PostgresPendingSpanStore::Run(const std::vector<pg::Query>& queries) {
  Result<pg::Pool::Lease> conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  return (*conn)->Transaction(queries);
}

Status PostgresPendingSpanStore::Add(std::span<const PendingSpan> spans) {
  if (spans.empty()) return Status::Ok();
  std::vector<pg::Query> queries = {{kSetAdmin, {}}};
  for (const PendingSpan& span : spans) {
    // A retried span keeps its row and text; its received time moves, so the trace stays
    // open, and like every arrival it un-parks the trace.
    queries.push_back(
        {"INSERT INTO otlp_pending_spans(user_id, trace_id, span_id, root, genai, received_us, "
         "span) VALUES ($1, $2, $3, $4::boolean, $5::boolean, $6::bigint, $7) "
         "ON CONFLICT (user_id, trace_id, span_id) "
         "DO UPDATE SET received_us = excluded.received_us, parked = false",
         {span.user_id, span.trace_id, span.span_id, span.root ? "true" : "false",
          span.genai ? "true" : "false", std::to_string(span.received_us), span.json}});
  }
  Result<std::vector<pg::Res>> done = Run(queries);
  return done.ok() ? Status::Ok() : done.status();
}

Result<std::vector<PendingTrace>> PostgresPendingSpanStore::Due(const DueTimes& times,
                                                                int limit) {
  Result<std::vector<pg::Res>> done = Run(
      {{kSetAdmin, {}},
       {"SELECT user_id, trace_id FROM otlp_pending_spans GROUP BY user_id, trace_id "
        "HAVING (max(received_us) < $1::bigint AND bool_or(root) AND NOT bool_and(parked)) "
        "OR (max(received_us) < $2::bigint AND (bool_or(root) OR NOT bool_or(genai))) "
        "OR min(received_us) < $3::bigint "
        "ORDER BY min(received_us) LIMIT $4::integer",
        {std::to_string(times.quiet_before_us), std::to_string(times.parent_wait_before_us),
         std::to_string(times.expire_before_us), std::to_string(limit)}}});
  if (!done.ok()) return done.status();
  const pg::Res& r = (*done)[1];
  std::vector<PendingTrace> due;
  for (int i = 0; i < r.rows(); ++i) {
    due.push_back({std::string(r.Text(i, 0)), std::string(r.Text(i, 1))});
  }
  return due;
}

Result<PendingSpanStore::TraceSpans> PostgresPendingSpanStore::Spans(const PendingTrace& trace) {
  Result<std::vector<pg::Res>> done =
      Run({{"SELECT set_config('omniflow.user_id', $1, true)", {trace.user_id}},
           {"SELECT span, received_us FROM otlp_pending_spans WHERE user_id = $1 AND trace_id = $2",
            {trace.user_id, trace.trace_id}}});
  if (!done.ok()) return done.status();
  const pg::Res& r = (*done)[1];
  TraceSpans out;
  for (int i = 0; i < r.rows(); ++i) {
    out.jsons.emplace_back(r.Text(i, 0));
    const int64_t received = r.Int(i, 1);
    if (i == 0 || received > out.newest_received_us) out.newest_received_us = received;
    if (i == 0 || received < out.oldest_received_us) out.oldest_received_us = received;
  }
  return out;
}

Status PostgresPendingSpanStore::Park(const PendingTrace& trace, int64_t up_to_us) {
  Result<std::vector<pg::Res>> done =
      Run({{"SELECT set_config('omniflow.user_id', $1, true)", {trace.user_id}},
           {"UPDATE otlp_pending_spans SET parked = true "
            "WHERE user_id = $1 AND trace_id = $2 AND received_us <= $3::bigint",
            {trace.user_id, trace.trace_id, std::to_string(up_to_us)}}});
  return done.ok() ? Status::Ok() : done.status();
}

Result<int64_t> PostgresPendingSpanStore::Remove(const PendingTrace& trace, int64_t up_to_us) {
  Result<std::vector<pg::Res>> done =
      Run({{"SELECT set_config('omniflow.user_id', $1, true)", {trace.user_id}},
           {"WITH gone AS (DELETE FROM otlp_pending_spans WHERE user_id = $1 AND trace_id = $2 "
            "AND received_us <= $3::bigint RETURNING 1) SELECT count(*) FROM gone",
            {trace.user_id, trace.trace_id, std::to_string(up_to_us)}}});
  if (!done.ok()) return done.status();
  return (*done)[1].Int(0, 0);
}

}  // namespace omniflow
