#include "store/sqlite/sqlite_audit_store.h"

#include <string>
#include <vector>

#include "core/mutex.h"
#include "store/paging.h"
#include "store/sqlite/sqlite_chain.h"
#include "store/sqlite/sqlite_db.h"

namespace omniflow {

Status SqliteAuditStore::Append(std::span<AuditEntry> entries) {
  for (const AuditEntry& entry : entries) {
    if (Status s = ValidateAuditEntry(entry); !s.ok()) return s;
  }
  if (entries.empty()) return Status::Ok();
  MutexLock lock(&file_->write_mu);
  sqlite::Transaction tx(file_->writer);
  if (!tx.status.ok()) return tx.status;
  // Each entry is the hash chain's next link (trust/chain.h): its seq is the link's, given out
  // after the file's head, which moves once the transaction has committed.
  Result<sqlite::Stmt> insert = file_->writer.Prepare(
      "INSERT INTO audit_log(seq, chain_hash, ts_us, actor, action, target_user, path, status, "
      "count, request_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  if (!insert.ok()) return insert.status();
  trust::ChainHead chain = file_->chain;
  std::vector<int64_t> seqs;
  for (AuditEntry& entry : entries) {
    AuditEntry linked = entry;
    linked.seq = ++chain.seq;
    chain.hash = file_->hasher.Next(chain.hash, AuditEntryJson(linked));
    seqs.push_back(linked.seq);
    insert->Reset();
    insert->Bind(1, linked.seq);
    insert->BindBlob(2, trust::ChainHashBytes(chain.hash));
    insert->Bind(3, entry.ts_us);
    insert->Bind(4, entry.actor);
    insert->Bind(5, entry.action);
    if (entry.target_user) {
      insert->Bind(6, *entry.target_user);
    } else {
      insert->BindNull(6);
    }
    insert->Bind(7, entry.path);
    insert->Bind(8, int64_t{entry.status});
    if (entry.count) {
      insert->Bind(9, *entry.count);
    } else {
      insert->BindNull(9);
    }
    insert->Bind(10, entry.request_id);
    if (Status s = insert->Run(); !s.ok()) return s;
  }
  insert = sqlite::Stmt();
  if (Status s = sqlite_chain::WriteHead(file_->writer, chain); !s.ok()) return s;
  if (Status s = tx.Commit(); !s.ok()) return s;
  file_->chain = chain;
  for (size_t i = 0; i < entries.size(); ++i) entries[i].seq = seqs[i];
  return Status::Ok();
}

Result<AuditPage> SqliteAuditStore::List(const AuditQuery& query) {
  if (Status s = ValidateAuditQuery(query); !s.ok()) return s;
  std::string sql =
      "SELECT seq, ts_us, actor, action, target_user, path, status, count, request_id "
      "FROM audit_log WHERE 1";
  if (query.from_us) sql += " AND ts_us >= ?1";
  if (query.to_us) sql += " AND ts_us < ?2";
  if (query.action) sql += " AND action = ?3";
  if (query.actor) sql += " AND actor = ?4";
  if (query.target_user) sql += " AND target_user = ?5";
  if (query.before_seq) sql += " AND seq < ?6";
  sql += " ORDER BY seq DESC LIMIT ?7";
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> select = file_->writer.Prepare(sql);
  if (!select.ok()) return select.status();
  if (query.from_us) select->Bind(1, *query.from_us);
  if (query.to_us) select->Bind(2, *query.to_us);
  if (query.action) select->Bind(3, *query.action);
  if (query.actor) select->Bind(4, *query.actor);
  if (query.target_user) select->Bind(5, *query.target_user);
  if (query.before_seq) select->Bind(6, *query.before_seq);
  select->Bind(7, FetchLimit(query.limit));
  AuditPage page;
  while (true) {
    Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (PageIsFull(page.items.size(), query.limit, &page.has_more)) break;
    AuditEntry entry;
    entry.seq = select->Int(0);
    entry.ts_us = select->Int(1);
    entry.actor = std::string(select->Text(2));
    entry.action = std::string(select->Text(3));
    if (!select->IsNull(4)) entry.target_user = std::string(select->Text(4));
    entry.path = std::string(select->Text(5));
    entry.status = static_cast<int>(select->Int(6));
    if (!select->IsNull(7)) entry.count = select->Int(7);
    entry.request_id = std::string(select->Text(8));
    page.items.push_back(std::move(entry));
  }
  if (page.has_more && !page.items.empty()) page.next = page.items.back().seq;
  return page;
}

Result<int64_t> SqliteAuditStore::PurgeBefore(int64_t cutoff_us, bool dry_run, int batch_rows) {
  if (dry_run) {
    MutexLock lock(&file_->write_mu);
    Result<sqlite::Stmt> count =
        file_->writer.Prepare("SELECT count(*) FROM audit_log WHERE ts_us < ?1");
    if (!count.ok()) return count.status();
    count->Bind(1, cutoff_us);
    Result<bool> row = count->Step();
    if (!row.ok()) return row.status();
    return count->Int(0);
  }
  const int64_t batch = batch_rows > 0 ? batch_rows : 1000;
  int64_t removed = 0;
  while (true) {
    // One batch per transaction, the mutex released between them so that saves go first.
    MutexLock lock(&file_->write_mu);
    sqlite::Transaction tx(file_->writer);
    if (!tx.status.ok()) return tx.status;
    // Each purged entry leaves its place in the hash chain as a tombstone.
    Result<sqlite::Stmt> tombstones = file_->writer.Prepare(
        "INSERT INTO chain_tombstones(seq, hash, reason) SELECT seq, chain_hash, 'purged' "
        "FROM audit_log WHERE ts_us < ?1 ORDER BY ts_us LIMIT ?2");
    if (!tombstones.ok()) return tombstones.status();
    tombstones->Bind(1, cutoff_us);
    tombstones->Bind(2, batch);
    if (Status s = tombstones->Run(); !s.ok()) return s;
    const int64_t n = sqlite3_changes(file_->writer.get());
    tombstones = sqlite::Stmt();
    Result<sqlite::Stmt> remove = file_->writer.Prepare(
        "DELETE FROM audit_log WHERE seq IN (SELECT seq FROM chain_tombstones "
        "WHERE seq IN (SELECT seq FROM audit_log WHERE ts_us < ?1))");
    if (!remove.ok()) return remove.status();
    remove->Bind(1, cutoff_us);
    if (Status s = remove->Run(); !s.ok()) return s;
    if (sqlite3_changes(file_->writer.get()) != n) {
      return Status::Internal("the audit purge's tombstones and deletions differ");
    }
    remove = sqlite::Stmt();
    if (Status s = tx.Commit(); !s.ok()) return s;
    removed += n;
    if (n < batch) return removed;
  }
}

}  // namespace omniflow
