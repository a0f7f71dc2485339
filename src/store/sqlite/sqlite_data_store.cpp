// SqliteDataStore: the data facet of a SqliteDatabase (table data_entries, migration 2). Data
// operations are few and small, so they all run on the file's one write connection, under its
// mutex (sqlite_file.h).
#include "store/sqlite/sqlite_data_store.h"

#include "core/mutex.h"
#include "store/sqlite/sqlite_db.h"

namespace omniflow {

namespace {

class SqliteDataStore final : public DataStore {
 public:
  explicit SqliteDataStore(SqliteFile* file) : file_(file) {}

  Result<Added> Add(const std::string& user, const std::string& blob,
                    std::string_view entry) override {
    MutexLock lock(&file_->write_mu);
    sqlite::Transaction txn(file_->writer);
    if (!txn.status.ok()) return txn.status;
    NewEntry made = MakeEntry(entry);
    Added added;
    added.entry_id = made.entry_id;
    Result<sqlite::Stmt> insert = file_->writer.Prepare(
        "INSERT INTO data_entries(user_id, blob, entry_id, seq, body) VALUES(?1, ?2, ?3, "
        "(SELECT COALESCE(MAX(seq), 0) + 1 FROM data_entries WHERE user_id = ?1 AND blob = ?2), ?4)");
    if (!insert.ok()) return insert.status();
    insert->Bind(1, user);
    insert->Bind(2, blob);
    insert->Bind(3, added.entry_id);
    insert->Bind(4, made.body);
    if (Status s = insert->Run(); !s.ok()) return s;
    Result<int64_t> count = Count(user, blob);
    if (!count.ok()) return count.status();
    added.entry_count = *count;
    if (Status s = txn.Commit(); !s.ok()) return s;
    return added;
  }

  Result<std::vector<std::string>> Get(const std::string& user, const std::string& blob) override {
    MutexLock lock(&file_->write_mu);
    Result<sqlite::Stmt> select = file_->writer.Prepare(
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
    MutexLock lock(&file_->write_mu);
    Result<sqlite::Stmt> select = file_->writer.Prepare(
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
    MutexLock lock(&file_->write_mu);
    Result<sqlite::Stmt> update = file_->writer.Prepare(
        "UPDATE data_entries SET body = ?4 WHERE user_id = ?1 AND blob = ?2 AND entry_id = ?3");
    if (!update.ok()) return update.status();
    update->Bind(1, user);
    update->Bind(2, blob);
    update->Bind(3, entry_id);
    update->Bind(4, merged);
    if (Status s = update->Run(); !s.ok()) return s;
    if (sqlite3_changes(file_->writer.get()) == 0) return Status::NotFound("no entry " + entry_id + " in " + blob);
    return Status::Ok();
  }

  Result<int64_t> Delete(const std::string& user, const std::string& blob,
                         const std::string& entry_id) override {
    MutexLock lock(&file_->write_mu);
    sqlite::Transaction txn(file_->writer);
    if (!txn.status.ok()) return txn.status;
    Result<sqlite::Stmt> del = file_->writer.Prepare(
        "DELETE FROM data_entries WHERE user_id = ?1 AND blob = ?2 AND entry_id = ?3");
    if (!del.ok()) return del.status();
    del->Bind(1, user);
    del->Bind(2, blob);
    del->Bind(3, entry_id);
    if (Status s = del->Run(); !s.ok()) return s;
    if (sqlite3_changes(file_->writer.get()) == 0) return Status::NotFound("no entry " + entry_id + " in " + blob);
    Result<int64_t> count = Count(user, blob);
    if (!count.ok()) return count.status();
    if (Status s = txn.Commit(); !s.ok()) return s;
    return *count;
  }

  Result<std::vector<std::pair<std::string, int64_t>>> List(const std::string& user) override {
    MutexLock lock(&file_->write_mu);
    Result<sqlite::Stmt> select = file_->writer.Prepare(
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
  Result<int64_t> Count(const std::string& user, const std::string& blob) REQUIRES(file_->write_mu) {
    Result<sqlite::Stmt> count =
        file_->writer.Prepare("SELECT COUNT(*) FROM data_entries WHERE user_id = ?1 AND blob = ?2");
    if (!count.ok()) return count.status();
    count->Bind(1, user);
    count->Bind(2, blob);
    Result<bool> row = count->Step();
    if (!row.ok()) return row.status();
    return count->Int(0);
  }

  SqliteFile* const file_;
};

}  // namespace

std::unique_ptr<DataStore> NewSqliteDataStore(SqliteFile* file) {
  return std::make_unique<SqliteDataStore>(file);
}

}  // namespace omniflow
