#include "store/sqlite/sqlite_db.h"

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace omniflow::sqlite {

Status ErrorStatus(sqlite3* db, int rc, std::string_view what) {
  const char* engine_message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string msg(what);
  msg += ": ";
  msg += engine_message;
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      // A taken key is the caller's to know about; any other constraint guards the stored state.
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE) {
        return Status::AlreadyExists(std::move(msg));
      }
      return Status::FailedPrecondition(std::move(msg));
    case SQLITE_BUSY:
      // In WAL mode, a read transaction that wants to write after another connection committed
      // must start again from a fresh snapshot.
      if (rc == SQLITE_BUSY_SNAPSHOT) return Status::Aborted(std::move(msg));
      // Otherwise another connection held the lock for longer than the busy handler waits.
      return Status::Unavailable(std::move(msg));
    case SQLITE_LOCKED:
      // A conflict with another statement on the same connection (or shared cache): retrying
      // the transaction once that one has finished may succeed.
      return Status::Aborted(std::move(msg));
    case SQLITE_FULL:
      return Status::ResourceExhausted(msg + " (disk full)");
    case SQLITE_NOMEM:
      return Status::ResourceExhausted(std::move(msg));
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return Status::Unavailable(std::move(msg));
    case SQLITE_ERROR:
      // FTS5 reports a MATCH expression it cannot parse (syntax, unsupported query kinds) as a
      // plain SQLITE_ERROR whose message starts with "fts5: "; SQLite has no code of its own for
      // it. The expression comes from the caller, so the caller's query is at fault.
      if (std::string_view(engine_message).starts_with("fts5: ")) {
        return Status::InvalidArgument(std::move(msg));
      }
      return Status::Internal(std::move(msg));
    default:
      return Status::Internal(std::move(msg));
  }
}

Stmt& Stmt::operator=(Stmt&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = other.stmt_;
    other.stmt_ = nullptr;
  }
  return *this;
}

Stmt::~Stmt() { sqlite3_finalize(stmt_); }

void Stmt::Bind(int index, std::string_view text) {
  // A default-constructed view has no data pointer; SQLite would bind that as NULL.
  const char* data = text.data() ? text.data() : "";
  sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), SQLITE_STATIC);
}

void Stmt::Bind(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

void Stmt::BindBlob(int index, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data() ? bytes.data() : "", static_cast<int>(bytes.size()),
                    SQLITE_STATIC);
}

void Stmt::BindNull(int index) { sqlite3_bind_null(stmt_, index); }

Result<bool> Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return ErrorStatus(sqlite3_db_handle(stmt_), rc, "statement failed");
}

Status Stmt::Run() {
  while (true) {
    Result<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
  }
}

void Stmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string_view Stmt::Blob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  int n = sqlite3_column_bytes(stmt_, column);
  return blob ? std::string_view(static_cast<const char*>(blob), static_cast<size_t>(n))
              : std::string_view();
}

std::string_view Stmt::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  int n = sqlite3_column_bytes(stmt_, column);
  return text ? std::string_view(reinterpret_cast<const char*>(text), static_cast<size_t>(n))
              : std::string_view();
}

int64_t Stmt::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

bool Stmt::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

Db::~Db() { sqlite3_close_v2(db_); }

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = other.db_;
    other.db_ = nullptr;
  }
  return *this;
}

namespace {

// SQLite's own busy_timeout sleeps 1, 2, 5, 10 ... up to 100 ms between tries, so a writer that
// meets another connection's short transaction (the search indexer's) may sleep far longer
// than that transaction lasts. This waits in 100 µs steps for the first 20 ms, then 1 ms steps,
// until `budget` (milliseconds) has passed on the clock. (Counting the sleeps instead let a
// loaded machine, where each short sleep lasts several times its request, stretch a 5 s budget
// to tens of seconds.) SQLite calls the handler from the waiting thread with count 0 first.
int FineBusyWait(void* budget, int count) {
  thread_local std::chrono::steady_clock::time_point started;
  const auto now = std::chrono::steady_clock::now();
  if (count == 0) started = now;
  const auto waited = now - started;
  if (waited >= std::chrono::milliseconds(reinterpret_cast<intptr_t>(budget))) return 0;
  ::usleep(waited < std::chrono::milliseconds(20) ? 100 : 1000);
  return 1;
}

}  // namespace

Result<Db> Db::Open(const std::string& path, int flags, int busy_ms) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = ErrorStatus(db, rc, "cannot open " + path);
    sqlite3_close_v2(db);
    return s;
  }
  sqlite3_busy_handler(db, &FineBusyWait, reinterpret_cast<void*>(static_cast<intptr_t>(busy_ms)));
  sqlite3_extended_result_codes(db, 1);
  return Db(db);
}

Status Db::Exec(std::string_view sql) {
  std::string text(sql);
  char* error = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  sqlite3_free(error);
  if (rc != SQLITE_OK) return ErrorStatus(db_, rc, "exec failed");
  return Status::Ok();
}

Result<Stmt> Db::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return ErrorStatus(db_, rc, "prepare failed");
  return Stmt(stmt);
}

}  // namespace omniflow::sqlite
