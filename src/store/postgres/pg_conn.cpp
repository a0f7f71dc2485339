#include "store/postgres/pg_conn.h"

#include <charconv>
#include <utility>

namespace omniflow::pg {

Res& Res::operator=(Res&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

Res::~Res() {
  if (r_) PQclear(r_);
}

std::string_view Res::Text(int row, int col) const {
  return std::string_view(PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col)));
}

int64_t Res::Int(int row, int col) const {
  std::string_view text = Text(row, col);
  int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

int64_t Res::affected() const {
  if (!r_) return 0;
  std::string_view text = PQcmdTuples(r_);
  int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

Status ErrorStatus(PGconn* conn, const PGresult* result, std::string_view what) {
  std::string state;
  std::string message;
  if (result) {
    if (const char* s = PQresultErrorField(result, PG_DIAG_SQLSTATE)) state = s;
    // The primary message only: DETAIL may quote row values (user ids, message text).
    if (const char* m = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)) message = m;
  }
  if (message.empty() && conn) {
    message = PQerrorMessage(conn);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  }
  std::string text = std::string(what) + ": " + (message.empty() ? "unknown error" : message);
  if (!state.empty()) text += " (SQLSTATE " + state + ")";
  const bool lost = !conn || PQstatus(conn) != CONNECTION_OK;
  return StatusForSqlState(state, lost, std::move(text));
}

Status StatusForSqlState(std::string_view state, bool connection_lost, std::string message) {
  const std::string_view cls = state.substr(0, std::min<size_t>(2, state.size()));
  // Serialization failure, deadlock: the transaction was rolled back, so the whole of it may
  // be tried again. Not 40003 (statement_completion_unknown): whether it took effect is not
  // known, so a blind retry could apply it twice.
  if (cls == "40" && state != "40003") return Status::Aborted(std::move(message));
  // Without a connection or a SQLSTATE the server was not reached, or went away.
  if (connection_lost || state.empty()) return Status::Unavailable(std::move(message));
  if (state == "23505") return Status::AlreadyExists(std::move(message));  // unique_violation
  if (cls == "23") return Status::FailedPrecondition(std::move(message));  // other constraints
  // Disk full, out of memory, too many connections: the server's resources are used up.
  if (cls == "53") return Status::ResourceExhausted(std::move(message));
  // query_canceled: statement_timeout (or a cancel request) stopped the statement.
  if (state == "57014") return Status::DeadlineExceeded(std::move(message));
  // Connection exceptions, operator intervention (shutdown, restart), system errors (I/O), and
  // a read-only server (a standby, or default_transaction_read_only).
  if (cls == "08" || cls == "57" || cls == "58" || state == "25006") {
    return Status::Unavailable(std::move(message));
  }
  return Status::Internal(std::move(message));
}

Conn& Conn::operator=(Conn&& o) noexcept {
  if (this != &o) {
    if (conn_) PQfinish(conn_);
    conn_ = o.conn_;
    url_ = std::move(o.url_);
    o.conn_ = nullptr;
  }
  return *this;
}

Conn::~Conn() {
  if (conn_) PQfinish(conn_);
}

namespace {
PGconn* ConnectRaw(const std::string& url) {
  // Later keywords override earlier ones: the URL's own settings win over these defaults.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"5", "omniflow", url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  // Server notices ("relation already exists, skipping") are not for the server's stderr.
  if (conn) PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return conn;
}
}  // namespace

Result<Conn> Conn::Connect(const std::string& url) {
  PGconn* raw = ConnectRaw(url);
  if (!raw) return Status::Unavailable("cannot allocate a PostgreSQL connection");
  Conn conn(raw, url);
  if (PQstatus(raw) != CONNECTION_OK) {
    return ErrorStatus(raw, nullptr, "cannot connect to " + RedactUrl(url));
  }
  return conn;
}

Status Conn::EnsureConnected() {
  if (connected()) return Status::Ok();
  if (conn_) PQfinish(conn_);
  conn_ = ConnectRaw(url_);
  if (!conn_) return Status::Unavailable("cannot allocate a PostgreSQL connection");
  if (PQstatus(conn_) != CONNECTION_OK) {
    return ErrorStatus(conn_, nullptr, "cannot connect to " + RedactUrl(url_));
  }
  return Status::Ok();
}

Result<Res> Conn::Exec(const std::string& sql,
                       const std::vector<std::optional<std::string>>& params) {
  if (Status s = EnsureConnected(); !s.ok()) return s;
  PGresult* r;
  if (params.empty()) {
    r = PQexec(conn_, sql.c_str());
  } else {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    r = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                     nullptr, nullptr, 0);
  }
  Res res(r);
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return ErrorStatus(conn_, r, "query failed");
  return res;
}

Result<std::vector<Res>> Conn::Transaction(std::span<const Query> queries, std::string_view begin) {
  maybe_committed_ = false;
  if (Status s = EnsureConnected(); !s.ok()) return s;
  auto drop = [this](Status s) {
    // The protocol state is unknown after a failure while sending or reading: start afresh.
    PQfinish(conn_);
    conn_ = nullptr;
    return s;
  };
  if (PQenterPipelineMode(conn_) != 1) return drop(ErrorStatus(conn_, nullptr, "pipeline mode"));
  auto send = [this](const std::string& sql, const std::vector<std::optional<std::string>>& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    return PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, 0) == 1;
  };
  bool sent = send(std::string(begin), {});
  for (const Query& q : queries) sent = sent && send(q.sql, q.params);
  // The server runs each statement as it arrives, without waiting for the sync: once COMMIT is
  // queued, a failure to send the rest leaves its outcome unknown.
  const bool commit_queued = sent && send("COMMIT", {});
  sent = commit_queued && PQpipelineSync(conn_) == 1;
  if (!sent) {
    maybe_committed_ = commit_queued;
    return drop(ErrorStatus(conn_, nullptr, "sending a transaction"));
  }

  Status first_error;
  std::vector<Res> results;
  results.reserve(queries.size());
  const size_t expected = queries.size() + 2;
  bool refused = false;    // the server failed a statement before COMMIT: nothing committed
  bool committed = false;  // COMMIT answered: everything committed
  // The connection is gone: done if COMMIT answered, else the outcome may be unknown.
  auto lost = [&](Status s) -> Result<std::vector<Res>> {
    if (committed) {
      (void)drop(Status::Ok());
      return std::move(results);
    }
    maybe_committed_ = !refused;
    return drop(std::move(s));
  };
  for (size_t i = 0; i < expected; ++i) {
    const bool is_commit = i + 1 == expected;
    Res r(PQgetResult(conn_));
    if (!r.get()) return lost(ErrorStatus(conn_, nullptr, "reading a transaction"));
    ExecStatusType st = PQresultStatus(r.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      if (first_error.ok() && st != PGRES_PIPELINE_ABORTED) {
        first_error = ErrorStatus(conn_, r.get(), is_commit ? "commit failed" : "query failed");
        // An error the server sent (it has a SQLSTATE; libpq's own have none) for a statement
        // before COMMIT aborts the transaction. One on COMMIT itself does when the session
        // lives on; a session ended there (FATAL) may have ended after committing.
        const bool from_server = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) != nullptr;
        refused = from_server && (!is_commit || PQstatus(conn_) == CONNECTION_OK);
      }
      if (PQstatus(conn_) != CONNECTION_OK) return lost(first_error);
    } else if (i > 0 && !is_commit) {
      results.push_back(std::move(r));
    } else if (is_commit && first_error.ok()) {
      committed = true;
    }
    // Each statement's results end with a null result.
    if (PGresult* extra = PQgetResult(conn_)) {
      PQclear(extra);
      return lost(Status::Internal("unexpected extra result in a pipeline"));
    }
  }
  Res sync(PQgetResult(conn_));
  if (!sync.get() || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) {
    return lost(first_error.ok() ? ErrorStatus(conn_, sync.get(), "pipeline sync") : first_error);
  }
  if (PQexitPipelineMode(conn_) != 1) return lost(ErrorStatus(conn_, nullptr, "leaving pipeline mode"));
  if (!first_error.ok()) {
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) PQclear(PQexec(conn_, "ROLLBACK"));
    return first_error;
  }
  return results;
}

void ArrayLiteral::Separator() {
  if (!empty_) text_.push_back(',');
  empty_ = false;
}

void ArrayLiteral::Add(std::string_view value) {
  Separator();
  text_.push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') text_.push_back('\\');
    text_.push_back(c);
  }
  text_.push_back('"');
}

void ArrayLiteral::Add(int64_t value) {
  Separator();
  text_.append(std::to_string(value));
}

void ArrayLiteral::AddNull() {
  Separator();
  text_.append("NULL");
}

std::string ArrayLiteral::Take() && {
  text_.push_back('}');
  return std::move(text_);
}

Pool::Lease::~Lease() {
  if (conn_) pool_->Release(std::move(conn_));
}

Result<Pool::Lease> Pool::Acquire() {
  {
    MutexLock lock(&mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Conn> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
  }
  Result<Conn> conn = Conn::Connect(url_);
  if (!conn.ok()) return conn.status();
  return Lease(this, std::make_unique<Conn>(std::move(*conn)));
}

void Pool::Release(std::unique_ptr<Conn> conn) {
  if (!conn->connected()) return;
  MutexLock lock(&mu_);
  if (idle_.size() < keep_) idle_.push_back(std::move(conn));
}

bool IsPostgresUrl(std::string_view url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

std::string RedactUrl(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  size_t at = url.find('@', scheme + 3);
  size_t slash = url.find('/', scheme + 3);
  if (at == std::string_view::npos || (slash != std::string_view::npos && at > slash)) {
    // No credentials in the authority part; a password may still come as ?password=.
    size_t q = url.find("password=");
    return q == std::string_view::npos ? std::string(url) : std::string(url.substr(0, q)) + "password=***";
  }
  std::string_view userinfo = url.substr(scheme + 3, at - scheme - 3);
  size_t colon = userinfo.find(':');
  std::string out(url.substr(0, scheme + 3));
  out.append(userinfo.substr(0, colon));
  out.append(url.substr(at));
  size_t q = out.find("password=");
  if (q != std::string::npos) out = out.substr(0, q) + "password=***";
  return out;
}

}  // namespace omniflow::pg
