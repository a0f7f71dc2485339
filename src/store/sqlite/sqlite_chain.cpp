#include "store/sqlite/sqlite_chain.h"

#include <optional>
#include <string>
#include <vector>

#include "store/audit_store.h"
#include "store/sqlite/compact_body.h"

namespace omniflow {

namespace {

// The canonical JSON of the interactions row `stmt` is on, whose columns are
// seq, user_id, ts_us, interaction_id, thread_id, body (and anything after).
std::string RowJson(const sqlite::Stmt& stmt) {
  std::optional<std::string_view> thread;
  if (!stmt.IsNull(4)) thread = stmt.Text(4);
  return ExpandBody(stmt.Text(5), stmt.Text(3), stmt.Int(2), stmt.Text(1), thread);
}

constexpr const char* kRowColumns = "seq, user_id, ts_us, interaction_id, thread_id, body";

}  // namespace

namespace sqlite_chain {

Status WriteHead(sqlite::Db& db, const trust::ChainHead& head) {
  Result<sqlite::Stmt> update = db.Prepare("UPDATE chain_head SET seq = ?1, hash = ?2 WHERE id = 1");
  if (!update.ok()) return update.status();
  update->Bind(1, head.seq);
  update->BindBlob(2, trust::ChainHashBytes(head.hash));
  return update->Run();
}

}  // namespace sqlite_chain

Status ChainExisting(SqliteFile* file) {
  MutexLock lock(&file->write_mu);
  sqlite::Db& db = file->writer;
  sqlite::Transaction txn(db);
  if (!txn.status.ok()) return txn.status;
  Result<sqlite::Stmt> head = db.Prepare("SELECT seq, hash FROM chain_head WHERE id = 1");
  if (!head.ok()) return head.status();
  Result<bool> found = head->Step();
  if (!found.ok()) return found.status();
  if (*found) {
    std::optional<trust::ChainHash> hash = trust::ChainHashFromBytes(head->Blob(1));
    if (!hash) return Status::Internal("chain_head holds a hash that is not 32 bytes");
    file->chain = trust::ChainHead{head->Int(0), *hash};
    return Status::Ok();  // the transaction only read: its rollback changes nothing
  }
  head->Reset();
  // The first open after migration 7: chain what is there, oldest seq first.
  Result<sqlite::Stmt> rows = db.Prepare(std::string("SELECT ") + kRowColumns +
                                         " FROM interactions ORDER BY seq");
  Result<sqlite::Stmt> set = db.Prepare("UPDATE interactions SET chain_hash = ?2 WHERE seq = ?1");
  if (!rows.ok()) return rows.status();
  if (!set.ok()) return set.status();
  trust::ChainHead chain;
  while (true) {
    Result<bool> row = rows->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    chain.seq = rows->Int(0);
    chain.hash = file->hasher.Next(chain.hash, RowJson(*rows));
    set->Reset();
    set->Bind(1, chain.seq);
    set->BindBlob(2, trust::ChainHashBytes(chain.hash));
    if (Status s = set->Run(); !s.ok()) return s;
  }
  rows->Reset();
  Result<sqlite::Stmt> insert = db.Prepare(
      "INSERT INTO chain_head(id, seq, hash, contiguous_from) VALUES(1, ?1, ?2, ?3)");
  if (!insert.ok()) return insert.status();
  insert->Bind(1, chain.seq);
  insert->BindBlob(2, trust::ChainHashBytes(chain.hash));
  insert->Bind(3, chain.seq + 1);
  if (Status s = insert->Run(); !s.ok()) return s;
  if (Status s = txn.Commit(); !s.ok()) return s;
  file->chain = chain;
  return Status::Ok();
}

Result<trust::ChainHead> SqliteChainStore::Head() {
  MutexLock lock(&file_->write_mu);
  return file_->chain;
}

Status SqliteChainStore::Walk(int64_t from_seq,
                              const std::function<void(const ChainSnapshot&)>& start,
                              const std::function<bool(const trust::ChainRecord&)>& visit) {
  // A connection of its own, read-only: one read transaction is the snapshot, and saves go on.
  Result<sqlite::Db> db = sqlite::Db::Open(file_->path, SQLITE_OPEN_READONLY);
  if (!db.ok()) return db.status();
  if (Status s = db->Exec("BEGIN"); !s.ok()) return s;
  ChainSnapshot snapshot;
  {
    Result<sqlite::Stmt> head =
        db->Prepare("SELECT seq, hash, contiguous_from FROM chain_head WHERE id = 1");
    if (!head.ok()) return head.status();
    Result<bool> found = head->Step();
    if (!found.ok()) return found.status();
    if (*found) {
      std::optional<trust::ChainHash> hash = trust::ChainHashFromBytes(head->Blob(1));
      if (!hash) return Status::Internal("chain_head holds a hash that is not 32 bytes");
      snapshot.head = trust::ChainHead{head->Int(0), *hash};
      snapshot.contiguous_from = head->Int(2);
    }
  }
  // The hash the walk starts from: the last record's before from_seq, whichever kind it is.
  {
    Result<sqlite::Stmt> before = db->Prepare(
        "SELECT hash FROM (SELECT max(seq) AS seq, chain_hash AS hash FROM interactions "
        "WHERE seq < ?1 UNION ALL SELECT max(seq), chain_hash FROM audit_log WHERE seq < ?1 "
        "UNION ALL SELECT max(seq), hash FROM chain_tombstones WHERE seq < ?1) "
        "WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1");
    if (!before.ok()) return before.status();
    before->Bind(1, from_seq);
    Result<bool> found = before->Step();
    if (!found.ok()) return found.status();
    if (*found) {
      std::optional<trust::ChainHash> hash = trust::ChainHashFromBytes(before->Blob(0));
      if (!hash) {
        return Status::Internal("the record before seq " + std::to_string(from_seq) +
                                " holds a hash that is not 32 bytes");
      }
      snapshot.before = *hash;
    }
  }
  start(snapshot);
  // Interactions, audit entries and tombstones merged by seq, each read in its own seq order.
  struct Source {
    sqlite::Stmt stmt;
    Result<bool> at = false;  // on a row
    trust::ChainRecord (*read)(const sqlite::Stmt&);
  };
  const struct {
    std::string sql;
    trust::ChainRecord (*read)(const sqlite::Stmt&);
  } kinds[] = {
      {std::string("SELECT ") + kRowColumns +
           ", chain_hash FROM interactions WHERE seq >= ?1 ORDER BY seq",
       [](const sqlite::Stmt& st) {
         trust::ChainRecord r;
         r.seq = st.Int(0);
         r.kind = trust::ChainRecord::Kind::kInteraction;
         r.id = std::string(st.Text(3));
         r.json = RowJson(st);
         r.stored = trust::ChainHashFromBytes(st.Blob(6));
         return r;
       }},
      {"SELECT seq, ts_us, actor, action, target_user, path, status, count, request_id, "
       "chain_hash FROM audit_log WHERE seq >= ?1 ORDER BY seq",
       [](const sqlite::Stmt& st) {
         AuditEntry e;
         e.seq = st.Int(0);
         e.ts_us = st.Int(1);
         e.actor = std::string(st.Text(2));
         e.action = std::string(st.Text(3));
         if (!st.IsNull(4)) e.target_user = std::string(st.Text(4));
         e.path = std::string(st.Text(5));
         e.status = static_cast<int>(st.Int(6));
         if (!st.IsNull(7)) e.count = st.Int(7);
         e.request_id = std::string(st.Text(8));
         trust::ChainRecord r;
         r.seq = e.seq;
         r.kind = trust::ChainRecord::Kind::kAudit;
         r.id = std::to_string(e.seq);
         r.json = AuditEntryJson(e);
         r.stored = trust::ChainHashFromBytes(st.Blob(9));
         return r;
       }},
      {"SELECT seq, hash, reason FROM chain_tombstones WHERE seq >= ?1 ORDER BY seq",
       [](const sqlite::Stmt& st) {
         trust::ChainRecord r;
         r.seq = st.Int(0);
         r.kind = trust::ChainRecord::Kind::kTombstone;
         r.id = std::string(st.Text(2)) + " record";
         r.stored = trust::ChainHashFromBytes(st.Blob(1));
         return r;
       }},
  };
  std::vector<Source> sources;
  for (const auto& kind : kinds) {
    Result<sqlite::Stmt> stmt = db->Prepare(kind.sql);
    if (!stmt.ok()) return stmt.status();
    stmt->Bind(1, from_seq);
    sources.push_back(Source{std::move(*stmt), false, kind.read});
    sources.back().at = sources.back().stmt.Step();
  }
  while (true) {
    Source* next = nullptr;
    for (Source& source : sources) {
      if (!source.at.ok()) return source.at.status();
      if (*source.at && (next == nullptr || source.stmt.Int(0) < next->stmt.Int(0))) {
        next = &source;
      }
    }
    if (next == nullptr) break;
    trust::ChainRecord record = next->read(next->stmt);
    next->at = next->stmt.Step();
    if (!visit(record)) break;
  }
  return Status::Ok();
}

}  // namespace omniflow
