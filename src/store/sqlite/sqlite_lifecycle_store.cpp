#include "store/sqlite/sqlite_lifecycle_store.h"

#include <chrono>

#include "core/ids.h"
#include "core/mutex.h"
#include "store/sqlite/sqlite_db.h"

namespace omniflow {

namespace {

// BEGIN IMMEDIATE ... COMMIT on `db`, rolled back unless committed.
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

// Runs `sql` with text parameters; returns how many rows it changed.
Result<int64_t> Change(sqlite::Db& db, const char* sql, std::initializer_list<std::string_view> text,
                       std::initializer_list<int64_t> ints = {}) {
  Result<sqlite::Stmt> stmt = db.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  int i = 1;
  for (std::string_view t : text) stmt->Bind(i++, t);
  for (int64_t v : ints) stmt->Bind(i++, v);
  if (Status s = stmt->Run(); !s.ok()) return s;
  return static_cast<int64_t>(sqlite3_changes(db.get()));
}

}  // namespace

// ---- Retention overrides and holds ----------------------------------------------------------

Status SqliteLifecycleStore::SetRetention(const std::string& user_id, int days) {
  if (Status s = ValidateRetentionDays(days); !s.ok()) return s;
  MutexLock lock(&file_->write_mu);
  Result<int64_t> n = Change(file_->writer,
                             "INSERT INTO retention_overrides(user_id, days, updated_us) "
                             "VALUES(?1, ?2, ?3) ON CONFLICT(user_id) DO UPDATE SET "
                             "days = excluded.days, updated_us = excluded.updated_us",
                             {user_id}, {days, Clock::Real()->NowMicros()});
  return n.status();
}

Result<std::optional<int>> SqliteLifecycleStore::GetRetention(const std::string& user_id) {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> select =
      file_->writer.Prepare("SELECT days FROM retention_overrides WHERE user_id = ?1");
  if (!select.ok()) return select.status();
  select->Bind(1, user_id);
  Result<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<int>();
  return std::optional<int>(static_cast<int>(select->Int(0)));
}

Status SqliteLifecycleStore::DeleteRetention(const std::string& user_id) {
  MutexLock lock(&file_->write_mu);
  Result<int64_t> n =
      Change(file_->writer, "DELETE FROM retention_overrides WHERE user_id = ?1", {user_id});
  if (!n.ok()) return n.status();
  if (*n == 0) return Status::NotFound("no retention override for " + user_id);
  return Status::Ok();
}

Status SqliteLifecycleStore::SetHold(const LegalHold& hold) {
  if (Status s = ValidateHold(hold); !s.ok()) return s;
  const int64_t since = hold.since_us > 0 ? hold.since_us : Clock::Real()->NowMicros();
  MutexLock lock(&file_->write_mu);
  Result<int64_t> n = Change(file_->writer,
                             "INSERT INTO legal_holds(user_id, reason, since_us) VALUES(?1, ?2, ?3) "
                             "ON CONFLICT(user_id) DO UPDATE SET reason = excluded.reason",
                             {hold.user_id, hold.reason}, {since});
  return n.status();
}

Status SqliteLifecycleStore::ReleaseHold(const std::string& user_id) {
  MutexLock lock(&file_->write_mu);
  Result<int64_t> n = Change(file_->writer, "DELETE FROM legal_holds WHERE user_id = ?1", {user_id});
  if (!n.ok()) return n.status();
  if (*n == 0) return Status::NotFound("no legal hold on " + user_id);
  return Status::Ok();
}

Result<std::optional<LegalHold>> SqliteLifecycleStore::GetHold(const std::string& user_id) {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> select =
      file_->writer.Prepare("SELECT reason, since_us FROM legal_holds WHERE user_id = ?1");
  if (!select.ok()) return select.status();
  select->Bind(1, user_id);
  Result<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<LegalHold>();
  return std::optional<LegalHold>(
      LegalHold{user_id, std::string(select->Text(0)), select->Int(1)});
}

Result<std::vector<LegalHold>> SqliteLifecycleStore::ListHolds() {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> select = file_->writer.Prepare(
      "SELECT user_id, reason, since_us FROM legal_holds ORDER BY user_id");
  if (!select.ok()) return select.status();
  std::vector<LegalHold> holds;
  while (true) {
    Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    holds.push_back(LegalHold{std::string(select->Text(0)), std::string(select->Text(1)),
                              select->Int(2)});
  }
  return holds;
}

// ---- Purge --------------------------------------------------------------------------------

Result<PurgeReport> SqliteLifecycleStore::Purge(const PurgeOptions& options) {
  return RunPurge(*this, options);
}

Result<std::vector<PurgeTarget::UserSpan>> SqliteLifecycleStore::UsersWithData() {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> select = file_->writer.Prepare(
      "SELECT user_id, first_us FROM interaction_counts WHERE thread_id = '' AND n > 0 "
      "ORDER BY user_id");
  if (!select.ok()) return select.status();
  std::vector<UserSpan> users;
  while (true) {
    Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    users.push_back(UserSpan{std::string(select->Text(0)), select->Int(1)});
  }
  return users;
}

Result<std::vector<std::pair<std::string, int>>> SqliteLifecycleStore::RetentionOverrides() {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> select =
      file_->writer.Prepare("SELECT user_id, days FROM retention_overrides ORDER BY user_id");
  if (!select.ok()) return select.status();
  std::vector<std::pair<std::string, int>> overrides;
  while (true) {
    Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    overrides.emplace_back(std::string(select->Text(0)), static_cast<int>(select->Int(1)));
  }
  return overrides;
}

Result<int64_t> SqliteLifecycleStore::CountBefore(const std::string& user_id, int64_t cutoff_us) {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> count = file_->writer.Prepare(
      "SELECT count(*) FROM interactions WHERE user_id = ?1 AND ts_us < ?2");
  if (!count.ok()) return count.status();
  count->Bind(1, user_id);
  count->Bind(2, cutoff_us);
  Result<bool> row = count->Step();
  if (!row.ok()) return row.status();
  return count->Int(0);
}

Result<int64_t> SqliteLifecycleStore::RemoveBefore(const std::string&, int64_t, int) {
  return Status::Internal("purge is not implemented yet");
}

// ---- Erasure ------------------------------------------------------------------------------

Result<ErasureReport> SqliteLifecycleStore::EraseUser(const std::string&) {
  return Status::Internal("erasure is not implemented yet");
}

}  // namespace omniflow
