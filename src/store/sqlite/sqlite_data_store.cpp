// SqliteDataStore: the DataStore on the same SQLite file as the interactions (table
// data_entries, created by the interaction store's migration 2), through its own connection.
// Data operations are few and small, so one connection behind a mutex serves them all.

#include <filesystem>

#include "core/mutex.h"
#include "store/data_store.h"
#include "store/sqlite/sqlite_checkpointer.h"
#include "store/sqlite/sqlite_data_store.h"
#include "store/sqlite/sqlite_db.h"

namespace omniflow {

namespace {

class SqliteDataStore final : public DataStore {
 public:
  SqliteDataStore(std::shared_ptr<SqliteCheckpointer> checkpointer, sqlite::Db db)
      : checkpointer_(std::move(checkpointer)), db_(std::move(db)) {
    checkpointer_->Attach(db_.get());
  }

  Result<Added> Add(const std::string& user, const std::string& blob,
                    std::string_view entry) override {
    MutexLock lock(&mu_);
    Transaction txn(db_);
    if (!txn.status.ok()) return txn.status;
    Added added;
    added.entry_id = NewEntryId();
    // {"entry_id":"E...", <fields of entry>}
    std::string body = "{\"entry_id\":\"" + added.entry_id + "\"";
    if (entry.size() > 2) body.append(",").append(entry.substr(1));
    else body.append("}");
    Result<sqlite::Stmt> insert = db_.Prepare(
        "INSERT INTO data_entries(user_id, blob, entry_id, seq, body) VALUES(?1, ?2, ?3, "
        "(SELECT COALESCE(MAX(seq), 0) + 1 FROM data_entries WHERE user_id = ?1 AND blob = ?2), ?4)");
    if (!insert.ok()) return insert.status();
    insert->Bind(1, user);
    insert->Bind(2, blob);
    insert->Bind(3, added.entry_id);
    insert->Bind(4, body);
    if (Status s = insert->Run(); !s.ok()) return s;
    Result<int64_t> count = Count(user, blob);
    if (!count.ok()) return count.status();
    added.entry_count = *count;
    if (Status s = txn.Commit(); !s.ok()) return s;
    return added;
  }

  Result<std::vector<std::string>> Get(const std::string& user, const std::string& blob) override {
    MutexLock lock(&mu_);
    Result<sqlite::Stmt> select = db_.Prepare(
        "SELECT body FROM data_entries WHERE user_id = ?1 AND blob = ?2 ORDER BY seq");
    if (!select.ok()) return select.status();
    select->Bind(1, user);
    select->Bind(2, blob);
    std::vector<std::string> entries;
    while (true) {
      Result<bool> row = select->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      entries.emplace_back(select->Text(0));
    }
    return entries;
  }

  Result<std::string> GetEntry(const std::string& user, const std::string& blob,
                               const std::string& entry_id) override {
    MutexLock lock(&mu_);
    Result<sqlite::Stmt> select = db_.Prepare(
        "SELECT body FROM data_entries WHERE user_id = ?1 AND blob = ?2 AND entry_id = ?3");
    if (!select.ok()) return select.status();
    select->Bind(1, user);
    select->Bind(2, blob);
    select->Bind(3, entry_id);
    Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("no entry " + entry_id + " in " + blob);
    return std::string(select->Text(0));
  }

  Status Replace(const std::string& user, const std::string& blob, const std::string& entry_id,
                 std::string_view merged) override {
    MutexLock lock(&mu_);
    Result<sqlite::Stmt> update = db_.Prepare(
        "UPDATE data_entries SET body = ?4 WHERE user_id = ?1 AND blob = ?2 AND entry_id = ?3");
    if (!update.ok()) return update.status();
    update->Bind(1, user);
    update->Bind(2, blob);
    update->Bind(3, entry_id);
    update->Bind(4, merged);
    if (Status s = update->Run(); !s.ok()) return s;
    if (sqlite3_changes(db_.get()) == 0) return Status::NotFound("no entry " + entry_id + " in " + blob);
    return Status::Ok();
  }

  Result<int64_t> Delete(const std::string& user, const std::string& blob,
                         const std::string& entry_id) override {
    MutexLock lock(&mu_);
    Transaction txn(db_);
    if (!txn.status.ok()) return txn.status;
    Result<sqlite::Stmt> del = db_.Prepare(
        "DELETE FROM data_entries WHERE user_id = ?1 AND blob = ?2 AND entry_id = ?3");
    if (!del.ok()) return del.status();
    del->Bind(1, user);
    del->Bind(2, blob);
    del->Bind(3, entry_id);
    if (Status s = del->Run(); !s.ok()) return s;
    if (sqlite3_changes(db_.get()) == 0) return Status::NotFound("no entry " + entry_id + " in " + blob);
    Result<int64_t> count = Count(user, blob);
    if (!count.ok()) return count.status();
    if (Status s = txn.Commit(); !s.ok()) return s;
    return *count;
  }

  Result<std::vector<std::pair<std::string, int64_t>>> List(const std::string& user) override {
    MutexLock lock(&mu_);
    Result<sqlite::Stmt> select = db_.Prepare(
        "SELECT blob, COUNT(*) FROM data_entries WHERE user_id = ?1 GROUP BY blob ORDER BY blob");
    if (!select.ok()) return select.status();
    select->Bind(1, user);
    std::vector<std::pair<std::string, int64_t>> blobs;
    while (true) {
      Result<bool> row = select->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      blobs.emplace_back(std::string(select->Text(0)), select->Int(1));
    }
    return blobs;
  }

 private:
  // BEGIN IMMEDIATE ... COMMIT, rolled back unless committed.
  struct Transaction {
    explicit Transaction(sqlite::Db& db) : db(db), status(db.Exec("BEGIN IMMEDIATE")) {}
    ~Transaction() {
      if (status.ok() && !committed) (void)db.Exec("ROLLBACK");
    }
    Status Commit() {
      Status s = db.Exec("COMMIT");
      committed = s.ok();
      return s;
    }
    sqlite::Db& db;
    Status status;
    bool committed = false;
  };

  Result<int64_t> Count(const std::string& user, const std::string& blob) REQUIRES(mu_) {
    Result<sqlite::Stmt> count =
        db_.Prepare("SELECT COUNT(*) FROM data_entries WHERE user_id = ?1 AND blob = ?2");
    if (!count.ok()) return count.status();
    count->Bind(1, user);
    count->Bind(2, blob);
    Result<bool> row = count->Step();
    if (!row.ok()) return row.status();
    return count->Int(0);
  }

  Mutex mu_;
  std::shared_ptr<SqliteCheckpointer> checkpointer_;  // takes db_'s checkpoints; outlives it
  sqlite::Db db_ GUARDED_BY(mu_);
};

}  // namespace

// DataStore::Open (store/data_store.cpp) dispatches here for SQLite URLs.
Result<std::unique_ptr<DataStore>> OpenSqliteDataStore(const StoreOptions& options) {
  std::string dir = options.url.rfind("sqlite:", 0) == 0 && options.url.size() > 7
                        ? options.url.substr(7)
                        : options.data_dir;
  std::string path = (std::filesystem::path(dir) / "omniflow.db").string();
  Result<sqlite::Db> db = sqlite::Db::Open(path, SQLITE_OPEN_READWRITE);
  if (!db.ok()) return db.status();
  if (Status s = db->Exec("PRAGMA synchronous=FULL"); !s.ok()) return s;
  Result<std::shared_ptr<SqliteCheckpointer>> checkpointer = SqliteCheckpointer::ForFile(
      path, CheckpointOptions::ForWakePages(options.sqlite_checkpoint_pages));
  if (!checkpointer.ok()) return checkpointer.status();
  return std::unique_ptr<DataStore>(new SqliteDataStore(std::move(*checkpointer), std::move(*db)));
}

}  // namespace omniflow
