#include "store/postgres/postgres_audit_store.h"

#include <string>
#include <vector>

#include "store/paging.h"
#include "store/postgres/pg_migrations.h"
#include "store/postgres/postgres_chain_store.h"
#include "trust/chain.h"

namespace omniflow {

namespace {

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
  Result<pg::Pool::Lease> lease = pool_->Acquire();
  if (!lease.ok()) return lease.status();
  pg::Conn& conn = **lease;
  // Each entry is the hash chain's next link (trust/chain.h): its seq is the link's.
  Result<trust::ChainHead> head = BeginChained(conn);
  if (!head.ok()) return head.status();
  trust::ChainHead chain = *head;
  trust::ChainHasher hasher;
  std::vector<pg::Query> queries;
  std::vector<int64_t> seqs;
  for (const AuditEntry& entry : entries) {
    AuditEntry linked = entry;
    linked.seq = ++chain.seq;
    chain.hash = hasher.Next(chain.hash, AuditEntryJson(linked));
    seqs.push_back(linked.seq);
    queries.push_back(
        {"INSERT INTO audit_log(seq, chain_hash, ts_us, actor, action, target_user, path, status, "
         "count, request_id) VALUES ($1::bigint, decode($2, 'hex'), $3::bigint, $4, $5, $6, $7, "
         "$8::integer, $9::bigint, $10)",
         {std::to_string(linked.seq), ChainHashHex(chain.hash), std::to_string(entry.ts_us),
          entry.actor, entry.action, entry.target_user, entry.path, std::to_string(entry.status),
          Number(entry.count), entry.request_id}});
  }
  queries.push_back(MoveChainHead(chain));
  Result<std::vector<pg::Res>> done = conn.Transaction(queries, kInChainedTransaction);
  if (!done.ok()) return done.status();
  for (size_t i = 0; i < entries.size(); ++i) entries[i].seq = seqs[i];
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
        // Each purged entry leaves its place in the hash chain as a tombstone.
        Run(pool_, {{"WITH gone AS (DELETE FROM audit_log WHERE seq IN (SELECT seq FROM audit_log "
                     "WHERE ts_us < $1::bigint ORDER BY ts_us LIMIT $2::bigint) "
                     "RETURNING seq, chain_hash), "
                     "tombstones AS (INSERT INTO chain_tombstones(seq, hash, reason) "
                     "SELECT seq, chain_hash, 'purged' FROM gone) SELECT count(*) FROM gone",
                     {cutoff, std::to_string(batch)}}});
    if (!done.ok()) return done.status();
    const int64_t n = (*done)[0].Int(0, 0);
    removed += n;
    if (n < batch) return removed;
  }
}

}  // namespace omniflow
