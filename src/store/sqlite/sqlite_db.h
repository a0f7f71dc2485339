// A thin RAII wrapper over SQLite's C API: a Db owns a connection, a Stmt owns a prepared
// statement. Errors come back as Status, classified here from SQLite's result code (see
// ErrorStatus) and nowhere else. Not thread-safe: one thread per Db.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace omniflow::sqlite {

// The Status for SQLite result code `rc` (extended codes are on) on `db`, with `what` saying
// what was being done:
//   a primary key or unique constraint            AlreadyExists
//   any other constraint                          FailedPrecondition
//   a stale WAL snapshot, a table locked          Aborted (retry the transaction)
//   busy beyond the busy handler's wait           Unavailable
//   disk full, out of memory                      ResourceExhausted
//   I/O error, read-only, cannot open, protocol   Unavailable
//   an FTS5 MATCH expression it cannot parse      InvalidArgument
//   anything else                                 Internal
Status ErrorStatus(sqlite3* db, int rc, std::string_view what);

class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Stmt(Stmt&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Stmt& operator=(Stmt&& other) noexcept;
  ~Stmt();

  // Binds (1-based). Text is not copied: it must outlive the next Step/Reset.
  void Bind(int index, std::string_view text);
  void Bind(int index, int64_t value);
  void BindNull(int index);
  // Binds bytes as a BLOB (not copied either).
  void BindBlob(int index, std::string_view bytes);

  // Steps once: true with a row, false when done; an error Status otherwise.
  Result<bool> Step();
  // Runs to completion ignoring rows.
  Status Run();
  void Reset();

  std::string_view Text(int column) const;
  std::string_view Blob(int column) const;  // a BLOB column's bytes (empty for NULL)
  int64_t Int(int column) const;
  bool IsNull(int column) const;

  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class Db {
 public:
  Db() = default;
  Db(Db&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Db& operator=(Db&& other) noexcept;  // closes this connection first
  ~Db();

  // Opens `path` with `flags` (SQLITE_OPEN_*); a locked database is retried in fine steps
  // for up to `busy_ms` before Unavailable.
  static Result<Db> Open(const std::string& path, int flags, int busy_ms = 5000);

  Status Exec(std::string_view sql);
  Result<Stmt> Prepare(std::string_view sql);

  sqlite3* get() const { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

// BEGIN IMMEDIATE on `db` now, ROLLBACK when destroyed unless Commit() succeeded. Check
// `status` (BEGIN's) before using the transaction.
struct Transaction {
  explicit Transaction(Db& db) : db(db), status(db.Exec("BEGIN IMMEDIATE")) {}
  ~Transaction() {
    if (status.ok() && !committed) (void)db.Exec("ROLLBACK");
  }
  Status Commit() {
    Status s = db.Exec("COMMIT");
    committed = s.ok();
    return s;
  }
  Db& db;
  Status status;
  bool committed = false;
};

}  // namespace omniflow::sqlite
