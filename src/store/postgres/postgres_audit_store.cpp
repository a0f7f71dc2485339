#include "store/postgres/postgres_audit_store.h"

#include <string>
#include <vector>

#include "store/paging.h"
#include "store/postgres/pg_migrations.h"

namespace omniflow {

namespace {

// The audit log's append lock (in the migrations' two-key space): appends commit one at a time,
// in the order they take seqs.
constexpr int kAuditLock = 2;

std::optional<std::string> Number(const std::optional<int64_t>& value) {
  if (!value) return std::nullopt;
  return std::to_string(*value);
}

// Runs `queries` in one transaction on a pooled connection.
Result<std::vector<pg::Res>> Run(pg::Pool* pool, const std::vector<pg::Query>& queries) {
  Result<pg::Pool::Lease> conn = pool->Acquire();
  if (!conn.ok()) return conn.status();
  return (*conn)->Transaction(queries);
}

}  // namespace

Status PostgresAuditStore::Append(std::span<AuditEntry> entries) {
  for (const AuditEntry& entry : entries) {
    if (Status s = ValidateAuditEntry(entry); !s.ok()) return s;
  }
  if (entries.empty()) return Status::Ok();
  std::vector<pg::Query> queries;
  queries.push_back({"SELECT pg_advisory_xact_lock(" + std::to_string(pg::kLockSpace) + ", " +
                         std::to_string(kAuditLock) + ")",
                     {}});
  for (const AuditEntry& entry : entries) {
    queries.push_back(
        {"INSERT INTO audit_log(ts_us, actor, action, target_user, path, status, count, "
         "request_id) VALUES ($1::bigint, $2, $3, $4, $5, $6::integer, $7::bigint, $8) "
         "RETURNING seq",
         {std::to_string(entry.ts_us), entry.actor, entry.action, entry.target_user, entry.path,
          std::to_string(entry.status), Number(entry.count), entry.request_id}});
  }
  Result<std::vector<pg::Res>> done = Run(pool_, queries);
  if (!done.ok()) return done.status();
  for (size_t i = 0; i < entries.size(); ++i) entries[i].seq = (*done)[i + 1].Int(0, 0);
  return Status::Ok();
}

Result<AuditPage> PostgresAuditStore::List(const AuditQuery& query) {
  if (Status s = ValidateAuditQuery(query); !s.ok()) return s;
  std::string sql =
      "SELECT seq, ts_us, actor, action, target_user, path, status, count, request_id "
      "FROM audit_log WHERE true";
  std::vector<std::optional<std::string>> params;
  auto where = [&](const char* condition, std::string value) {
    params.push_back(std::move(value));
    sql += std::string(" AND ") + condition + std::to_string(params.size());
  };
  if (query.from_us) where("ts_us >= $", std::to_string(*query.from_us));
  if (query.to_us) where("ts_us < $", std::to_string(*query.to_us));
  if (query.action) where("action = $", *query.action);
  if (query.actor) where("actor = $", *query.actor);
  if (query.target_user) where("target_user = $", *query.target_user);
  if (query.before_seq) where("seq < $", std::to_string(*query.before_seq));
  sql += " ORDER BY seq DESC LIMIT " + std::to_string(FetchLimit(query.limit));
  Result<std::vector<pg::Res>> done = Run(pool_, {{sql, params}});
  if (!done.ok()) return done.status();
  const pg::Res& rows = (*done)[0];
  AuditPage page;
  const int shown = RowsOnPage(rows.rows(), query.limit, &page.has_more);
  for (int i = 0; i < shown; ++i) {
    AuditEntry entry;
    entry.seq = rows.Int(i, 0);
    entry.ts_us = rows.Int(i, 1);
    entry.actor = std::string(rows.Text(i, 2));
    entry.action = std::string(rows.Text(i, 3));
    if (!rows.IsNull(i, 4)) entry.target_user = std::string(rows.Text(i, 4));
    entry.path = std::string(rows.Text(i, 5));
    entry.status = static_cast<int>(rows.Int(i, 6));
    if (!rows.IsNull(i, 7)) entry.count = rows.Int(i, 7);
    entry.request_id = std::string(rows.Text(i, 8));
    page.items.push_back(std::move(entry));
  }
  if (page.has_more && !page.items.empty()) page.next = page.items.back().seq;
  return page;
}

Result<int64_t> PostgresAuditStore::PurgeBefore(int64_t cutoff_us, bool dry_run, int batch_rows) {
  const std::string cutoff = std::to_string(cutoff_us);
  if (dry_run) {
    Result<std::vector<pg::Res>> done =
        Run(pool_, {{"SELECT count(*) FROM audit_log WHERE ts_us < $1::bigint", {cutoff}}});
    if (!done.ok()) return done.status();
    return (*done)[0].Int(0, 0);
  }
  const int64_t batch = batch_rows > 0 ? batch_rows : 1000;
  int64_t removed = 0;
  while (true) {
    Result<std::vector<pg::Res>> done =
        Run(pool_, {{"DELETE FROM audit_log WHERE seq IN (SELECT seq FROM audit_log WHERE ts_us < "
                     "$1::bigint ORDER BY ts_us LIMIT $2::bigint)",
                     {cutoff, std::to_string(batch)}}});
    if (!done.ok()) return done.status();
    const int64_t n = (*done)[0].affected();
    removed += n;
    if (n < batch) return removed;
  }
}

}  // namespace omniflow
