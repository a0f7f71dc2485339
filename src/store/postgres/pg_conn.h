// A thin RAII layer over libpq: Conn owns a connection, Res owns a result, Pool lends
// connections to concurrent readers. Transaction() sends BEGIN, the statements and COMMIT in
// one round trip (pipeline mode). Errors come back as Status, classified here from the
// SQLSTATE (see StatusForSqlState) and nowhere else. A Conn is not thread-safe: one user at a
// time.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"

namespace omniflow::pg {

// A result; empty (null) after a failed call.
class Res {
 public:
  Res() = default;
  explicit Res(PGresult* r) : r_(r) {}
  Res(Res&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Res& operator=(Res&& o) noexcept;
  ~Res();

  int rows() const { return r_ ? PQntuples(r_) : 0; }
  std::string_view Text(int row, int col) const;
  int64_t Int(int row, int col) const;
  bool IsNull(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  // Rows an INSERT, UPDATE or DELETE touched.
  int64_t affected() const;
  PGresult* get() const { return r_; }

 private:
  PGresult* r_ = nullptr;
};

// One row of a Res, for readers shared with SQLite that take a row with Text(col), Int(col) and
// IsNull(col) (store/replay_sql.h, store/usage_sums.h).
struct Row {
  const Res& res;
  int row;
  std::string_view Text(int col) const { return res.Text(row, col); }
  int64_t Int(int col) const { return res.Int(row, col); }
  bool IsNull(int col) const { return res.IsNull(row, col); }
};

// One statement with text-format parameters (nullopt binds NULL).
struct Query {
  std::string sql;
  std::vector<std::optional<std::string>> params;
};

class Conn {
 public:
  Conn() = default;
  Conn(Conn&& o) noexcept : conn_(o.conn_), url_(std::move(o.url_)) { o.conn_ = nullptr; }
  Conn& operator=(Conn&& o) noexcept;
  ~Conn();

  // Connects to `url` (postgresql://...). A connect timeout of 5 s applies unless the URL
  // sets one.
  static Result<Conn> Connect(const std::string& url);

  // Runs one statement (with parameters when given) outside any explicit transaction, or a
  // script of several statements when `params` is empty.
  Result<Res> Exec(const std::string& sql, const std::vector<std::optional<std::string>>& params = {});

  // BEGIN `begin` ... COMMIT around `queries` in one round trip; all or nothing. Returns each
  // query's result. Reconnects first if the connection was lost. Once COMMIT has answered, the
  // transaction counts as done even if the connection is lost before the pipeline's end.
  Result<std::vector<Res>> Transaction(std::span<const Query> queries,
                                       std::string_view begin = "BEGIN");

  // After a failed Transaction: true when its COMMIT may have taken effect all the same (the
  // connection was lost after COMMIT was sent and before the server either answered it or
  // refused an earlier statement). False after a Transaction known not to have committed.
  bool maybe_committed() const { return maybe_committed_; }

  // Reconnects when the connection is broken; Ok when usable.
  Status EnsureConnected();
  bool connected() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }
  PGconn* get() const { return conn_; }

 private:
  Conn(PGconn* conn, std::string url) : conn_(conn), url_(std::move(url)) {}
  PGconn* conn_ = nullptr;
  std::string url_;
  bool maybe_committed_ = false;
};

// The Status for a failed `result` (may be null) on `conn`, with `what` saying what was done.
Status ErrorStatus(PGconn* conn, const PGresult* result, std::string_view what);

// The Status for SQLSTATE `state` (empty when the server sent none) with `message`:
//   class 40 (serialization failure, deadlock)          Aborted: retry the whole transaction
//   no SQLSTATE, or `connection_lost`                   Unavailable
//   23505 unique_violation                              AlreadyExists
//   other class 23 (integrity constraints)              FailedPrecondition
//   class 53 (disk full, out of memory, connections)    ResourceExhausted
//   57014 query_canceled (statement_timeout)            DeadlineExceeded
//   classes 08, 57, 58 and 25006 (connection, shutdown,
//     I/O, read-only server)                            Unavailable
//   anything else                                       Internal
Status StatusForSqlState(std::string_view state, bool connection_lost, std::string message);

// Builds a PostgreSQL array literal ({"a","b",NULL}) for a text-format parameter: elements are
// quoted and escaped, so any text (JSON included) round-trips exactly.
class ArrayLiteral {
 public:
  ArrayLiteral() { text_.push_back('{'); }
  void Add(std::string_view value);
  void Add(int64_t value);
  void AddNull();
  std::string Take() &&;

 private:
  void Separator();
  std::string text_;
  bool empty_ = true;
};

// A pool of connections to one URL, for readers. Grows on demand (the number of concurrent
// users is bounded by the server's I/O threads); keeps at most `keep` idle. Thread-safe.
class Pool {
 public:
  Pool(std::string url, size_t keep) : url_(std::move(url)), keep_(keep) {}

  // Returns its connection to the pool when destroyed (dropping it if broken).
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Conn> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    ~Lease();
    Conn* operator->() { return conn_.get(); }
    Conn& operator*() { return *conn_; }

   private:
    Pool* pool_;
    std::unique_ptr<Conn> conn_;
  };

  Result<Lease> Acquire();

 private:
  void Release(std::unique_ptr<Conn> conn) EXCLUDES(mu_);
  const std::string url_;
  const size_t keep_;
  Mutex mu_;
  std::vector<std::unique_ptr<Conn>> idle_ GUARDED_BY(mu_);
};

// True for a URL this layer handles: postgresql://... or postgres://...
bool IsPostgresUrl(std::string_view url);

// The URL without its password, for logs ("postgresql://app@db:5432/omniflow").
std::string RedactUrl(std::string_view url);

}  // namespace omniflow::pg
