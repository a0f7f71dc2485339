#include "store/postgres/postgres_chain_store.h"

#include <libpq-fe.h>
#include <simdjson.h>

#include <string>

#include "store/audit_store.h"
#include "store/sqlite/compact_body.h"

namespace omniflow {

namespace {

// A hash read as encode(hash, 'hex'); nullopt when it is not 32 bytes.
std::optional<trust::ChainHash> HexHash(std::string_view hex) {
  Result<trust::ChainHash> hash = trust::ParseChainHash("sha256:" + std::string(hex));
  if (!hash.ok()) return std::nullopt;
  return *hash;
}

constexpr int kFetch = 2000;

// The canonical JSON of the audit entry `seq` whose columns came as json_build_array(ts_us,
// actor, action, target_user, path, status, count, request_id).
Result<std::string> AuditJsonFromColumns(int64_t seq, std::string_view columns) {
  simdjson::dom::parser parser;
  simdjson::dom::array values;
  if (parser.parse(columns.data(), columns.size()).get(values) != simdjson::SUCCESS ||
      values.size() != 8) {
    return Status::Internal("the audit entry " + std::to_string(seq) + " cannot be read");
  }
  AuditEntry e;
  e.seq = seq;
  std::string_view text;
  int64_t number = 0;
  bool ok = values.at(0).get(e.ts_us) == simdjson::SUCCESS;
  ok = ok && values.at(1).get(text) == simdjson::SUCCESS;
  e.actor = std::string(text);
  ok = ok && values.at(2).get(text) == simdjson::SUCCESS;
  e.action = std::string(text);
  if (!values.at(3).is_null()) {
    ok = ok && values.at(3).get(text) == simdjson::SUCCESS;
    e.target_user = std::string(text);
  }
  ok = ok && values.at(4).get(text) == simdjson::SUCCESS;
  e.path = std::string(text);
  ok = ok && values.at(5).get(number) == simdjson::SUCCESS;
  e.status = static_cast<int>(number);
  if (!values.at(6).is_null()) {
    ok = ok && values.at(6).get(number) == simdjson::SUCCESS;
    e.count = number;
  }
  ok = ok && values.at(7).get(text) == simdjson::SUCCESS;
  e.request_id = std::string(text);
  if (!ok) return Status::Internal("the audit entry " + std::to_string(seq) + " cannot be read");
  return AuditEntryJson(e);
}

constexpr const char* kLockHead =
    "SELECT set_config('omniflow.writer', 'on', true), seq, encode(hash, 'hex') "
    "FROM chain_head WHERE id = 1 FOR UPDATE";

}  // namespace

Result<trust::ChainHead> BeginChained(pg::Conn& conn, std::span<const pg::Query> before) {
  if (Status s = conn.EnsureConnected(); !s.ok()) return s;
  const std::string begin_and_lock = std::string("BEGIN; ") + kLockHead;
  auto start = [&]() -> Result<pg::Res> {
    if (before.empty()) return conn.Exec(begin_and_lock);
    Result<pg::Res> done = conn.Exec("BEGIN");
    for (const pg::Query& q : before) {
      if (done.ok()) done = conn.Exec(q.sql, q.params);
    }
    return done.ok() ? conn.Exec(kLockHead) : std::move(done);
  };
  Result<pg::Res> head = start();
  if (!head.ok() && !conn.connected()) {
    if (Status s = conn.EnsureConnected(); !s.ok()) return s;
    head = start();
  }
  Result<trust::ChainHead> out = Status::Internal("the hash chain has no head row");
  if (head.ok() && head->rows() == 1) {
    if (std::optional<trust::ChainHash> hash = HexHash(head->Text(0, 2))) {
      out = trust::ChainHead{head->Int(0, 1), *hash};
    } else {
      out = Status::Internal("chain_head holds a hash that is not 32 bytes");
    }
  } else if (!head.ok()) {
    out = head.status();
  }
  if (!out.ok() && conn.connected() && PQtransactionStatus(conn.get()) != PQTRANS_IDLE) {
    (void)conn.Exec("ROLLBACK");
  }
  return out;
}

pg::Query MoveChainHead(const trust::ChainHead& head) {
  return {"UPDATE chain_head SET seq = $1::bigint, hash = decode($2, 'hex') WHERE id = 1",
          {std::to_string(head.seq), ChainHashHex(head.hash)}};
}

pg::Query AdvanceChainHead(const trust::ChainHead& expected, const trust::ChainHead& head) {
  return {"SELECT omniflow_advance_chain_head($1::bigint, decode($2, 'hex'), $3::bigint, "
          "decode($4, 'hex'))",
          {std::to_string(expected.seq), ChainHashHex(expected.hash), std::to_string(head.seq),
           ChainHashHex(head.hash)}};
}

namespace {
constexpr const char* kChainSeqLocks = "1869442666";  // 'omnj'
std::string SeqLockKey(int64_t seq) { return std::to_string(seq % 2147483647); }
}  // namespace

pg::Query ClaimChainSeq(const trust::ChainHead& head) {
  return {std::string("SELECT set_config('omniflow.writer', 'on', true), pg_advisory_xact_lock(") +
              kChainSeqLocks + ", $1::integer)",
          {SeqLockKey(head.seq)}};
}

pg::Query AwaitChainSeq(const trust::ChainHead& expected) {
  return {"SELECT omniflow_await_chain_seq($1::bigint)", {std::to_string(expected.seq)}};
}

std::string ChainHashHex(const trust::ChainHash& hash) {
  return trust::ChainHashText(hash).substr(7);
}

Result<trust::ChainHead> ReadChainHead(pg::Conn& conn) {
  if (Status s = conn.EnsureConnected(); !s.ok()) return s;
  Result<pg::Res> head = conn.Exec("SELECT seq, encode(hash, 'hex') FROM chain_head WHERE id = 1");
  if (!head.ok()) return head.status();
  if (head->rows() != 1) return trust::ChainHead{};
  std::optional<trust::ChainHash> hash = HexHash(head->Text(0, 1));
  if (!hash) return Status::Internal("chain_head holds a hash that is not 32 bytes");
  return trust::ChainHead{head->Int(0, 0), *hash};
}

Result<trust::ChainHead> PostgresChainStore::Head() {
  Result<pg::Pool::Lease> conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  return ReadChainHead(**conn);
}

Status PostgresChainStore::Walk(int64_t from_seq,
                                const std::function<void(const ChainSnapshot&)>& start,
                                const std::function<bool(const trust::ChainRecord&)>& visit) {
  Result<pg::Pool::Lease> lease = pool_->Acquire();
  if (!lease.ok()) return lease.status();
  pg::Conn& conn = **lease;
  auto fail = [&conn](Status s) {
    if (conn.get() && PQtransactionStatus(conn.get()) != PQTRANS_IDLE) (void)conn.Exec("ROLLBACK");
    return s;
  };
  // One snapshot for the head and every row; omniflow.admin lets it read every user's rows.
  if (Result<pg::Res> r = conn.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !r.ok()) {
    return fail(r.status());
  }
  if (Result<pg::Res> r = conn.Exec("SELECT set_config('omniflow.admin', 'on', true)"); !r.ok()) {
    return fail(r.status());
  }
  ChainSnapshot snapshot;
  {
    Result<pg::Res> head =
        conn.Exec("SELECT seq, encode(hash, 'hex'), contiguous_from FROM chain_head WHERE id = 1");
    if (!head.ok()) return fail(head.status());
    if (head->rows() == 1) {
      std::optional<trust::ChainHash> hash = HexHash(head->Text(0, 1));
      if (!hash) return fail(Status::Internal("chain_head holds a hash that is not 32 bytes"));
      snapshot.head = trust::ChainHead{head->Int(0, 0), *hash};
      snapshot.contiguous_from = head->Int(0, 2);
    }
  }
  const std::string from = std::to_string(from_seq);
  {
    Result<pg::Res> before = conn.Exec(
        "SELECT encode(hash, 'hex') FROM (SELECT chain_seq AS seq, chain_hash AS hash "
        "FROM interactions WHERE chain_seq < $1::bigint UNION ALL SELECT seq, chain_hash "
        "FROM audit_log WHERE seq < $1::bigint UNION ALL SELECT seq, hash "
        "FROM chain_tombstones WHERE seq < $1::bigint) x ORDER BY seq DESC LIMIT 1",
        {from});
    if (!before.ok()) return fail(before.status());
    if (before->rows() == 1) {
      std::optional<trust::ChainHash> hash = HexHash(before->Text(0, 0));
      if (!hash) {
        return fail(Status::Internal("the record before seq " + from +
                                     " holds a hash that is not 32 bytes"));
      }
      snapshot.before = *hash;
    }
  }
  start(snapshot);
  // Interactions and tombstones in seq order; the canonical JSON of an interaction is its body.
  Result<pg::Res> declared = conn.Exec(
      "DECLARE chain_walk NO SCROLL CURSOR FOR "
      "SELECT chain_seq, 'i', interaction_id, body, encode(chain_hash, 'hex'), user_id, ts_us, "
      "thread_id FROM interactions WHERE chain_seq >= " + from +
      " UNION ALL SELECT seq, 'a', NULL, json_build_array(ts_us, actor, action, target_user, "
      "path, status, count, request_id)::text, encode(chain_hash, 'hex'), NULL, NULL, NULL "
      "FROM audit_log WHERE seq >= " + from +
      " UNION ALL SELECT seq, 't', reason, NULL, encode(hash, 'hex'), NULL, NULL, NULL "
      "FROM chain_tombstones WHERE seq >= " + from + " ORDER BY 1");
  if (!declared.ok()) return fail(declared.status());
  bool going = true;
  while (going) {
    Result<pg::Res> rows = conn.Exec("FETCH " + std::to_string(kFetch) + " FROM chain_walk");
    if (!rows.ok()) return fail(rows.status());
    for (int i = 0; i < rows->rows() && going; ++i) {
      trust::ChainRecord record;
      record.seq = rows->Int(i, 0);
      if (rows->Text(i, 1) == "i") {
        record.kind = trust::ChainRecord::Kind::kInteraction;
        record.id = std::string(rows->Text(i, 2));
        record.json = std::string(rows->Text(i, 3));
        // The columns history and its filters read (user, time, ids) are copies of the
        // record's fields: they must still say what it says.
        std::optional<std::string_view> thread;
        if (!rows->IsNull(i, 7)) thread = rows->Text(i, 7);
        if (!ColumnsMatch(record.json, record.id, rows->Int(i, 6), rows->Text(i, 5), thread)) {
          record.columns_differ =
              "its user_id, ts_us, interaction_id or thread_id column no longer matches it";
        }
      } else if (rows->Text(i, 1) == "a") {
        record.kind = trust::ChainRecord::Kind::kAudit;
        record.id = std::to_string(record.seq);
        Result<std::string> json = AuditJsonFromColumns(record.seq, rows->Text(i, 3));
        if (!json.ok()) return fail(json.status());
        record.json = std::move(*json);
      } else {
        record.kind = trust::ChainRecord::Kind::kTombstone;
        record.id = std::string(rows->Text(i, 2)) + " record";
      }
      record.stored = HexHash(rows->Text(i, 4));
      going = visit(record);
    }
    if (rows->rows() < kFetch) break;
  }
  (void)conn.Exec("COMMIT");
  return Status::Ok();
}

}  // namespace omniflow
