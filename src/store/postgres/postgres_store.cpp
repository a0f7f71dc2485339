#include "store/postgres/postgres_store.h"

#include <map>
#include <utility>

#include "core/ids.h"
#include "store/postgres/pg_migrations.h"

namespace omniflow {

namespace {

constexpr const char* kSetUser = "SELECT set_config('omniflow.user_id', $1, true)";
constexpr const char* kSetWriter = "SELECT set_config('omniflow.writer', 'on', true)";
constexpr const char* kReadOnly = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

constexpr const char* kInsert =
    "INSERT INTO interactions(user_id, ts_us, interaction_id, thread_id, tool_calls, "
    "tool_failures, body) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], "
    "$4::text[], $5::integer[], $6::integer[], $7::text[])";
// Keys arrive sorted, so concurrent writers lock count rows in the same order (no deadlock).
constexpr const char* kCount =
    "INSERT INTO interaction_counts(user_id, thread_id, n) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) "
    "ON CONFLICT (user_id, thread_id) DO UPDATE SET n = interaction_counts.n + excluded.n";

constexpr const char* kTotal =
    "SELECT n FROM interaction_counts WHERE user_id = $1 AND thread_id = $2";
// [thread filter][cursor], as the SQLite store's. Offset pages pick keys through the index
// first, so skipped rows never load their bodies.
constexpr const char* kHistorySql[2][2] = {
    {"SELECT i.body, i.ts_us, i.interaction_id FROM interactions i JOIN "
     "(SELECT ts_us, interaction_id FROM interactions WHERE user_id = $1 "
     " ORDER BY ts_us DESC, interaction_id DESC LIMIT $2 OFFSET $3) p "
     "ON i.user_id = $1 AND i.ts_us = p.ts_us AND i.interaction_id = p.interaction_id "
     "ORDER BY i.ts_us DESC, i.interaction_id DESC",
     "SELECT body, ts_us, interaction_id FROM interactions "
     "WHERE user_id = $1 AND (ts_us, interaction_id) < ($3, $4) "
     "ORDER BY ts_us DESC, interaction_id DESC LIMIT $2"},
    {"SELECT i.body, i.ts_us, i.interaction_id FROM interactions i JOIN "
     "(SELECT ts_us, interaction_id FROM interactions WHERE user_id = $1 AND thread_id = $4 "
     " ORDER BY ts_us DESC, interaction_id DESC LIMIT $2 OFFSET $3) p "
     "ON i.user_id = $1 AND i.ts_us = p.ts_us AND i.interaction_id = p.interaction_id "
     "ORDER BY i.ts_us DESC, i.interaction_id DESC",
     "SELECT body, ts_us, interaction_id FROM interactions "
     "WHERE user_id = $1 AND thread_id = $5 AND (ts_us, interaction_id) < ($3, $4) "
     "ORDER BY ts_us DESC, interaction_id DESC LIMIT $2"},
};

std::string SlotLockSql(const char* fn, int slot) {
  return std::string("SELECT ") + fn + "(" + std::to_string(pg::kLockSpace) + ", " +
         std::to_string(pg::kIdSlotLockBase + slot) + ")";
}

}  // namespace

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const StoreOptions& options) {
  Result<pg::Conn> writer = pg::Conn::Connect(options.url);
  if (!writer.ok()) return writer.status();
  Result<MigrationReport> migrated = pg::Migrate(*writer);
  if (!migrated.ok()) return migrated.status();

  Result<pg::Conn> lease = pg::Conn::Connect(options.url);
  if (!lease.ok()) return lease.status();
  int slot = -1;
  for (int s = 0; s < kIdSlots && slot < 0; ++s) {
    Result<pg::Res> got = lease->Exec(SlotLockSql("pg_try_advisory_lock", s));
    if (!got.ok()) return got.status();
    if (got->Text(0, 0) == "t") slot = s;
  }
  if (slot < 0) {
    return Status::Unavailable("all " + std::to_string(kIdSlots) +
                               " id slots of this database are held by running servers; stop one "
                               "or give this server its own database");
  }
  return std::unique_ptr<PostgresStore>(
      new PostgresStore(options.url, std::move(*writer), std::move(*lease), slot,
                        static_cast<size_t>(std::max(1, options.read_connections))));
}

PostgresStore::PostgresStore(std::string url, pg::Conn writer, pg::Conn lease, int slot,
                             size_t keep)
    : url_(std::move(url)),
      writer_(std::move(writer)),
      lease_(std::move(lease)),
      slot_(slot),
      readers_(url_, keep) {}

Status PostgresStore::Append(std::span<const InteractionRecord> batch) {
  if (batch.empty()) return Status::Ok();
  Status s;
  // After a lost connection (a database restart drops the slot's lock too), take the slot again
  // before writing ids made in it.
  if (!writer_.connected() || slot_lost_) {
    s = RenewLease();
    if (!s.ok()) {
      last_append_ok_ = false;
      return s;
    }
  }
  // A deadlock or serialization failure is retried; other errors fail the batch.
  for (int attempt = 0; attempt < 3; ++attempt) {
    s = AppendOnce(batch);
    if (s.ok() || s.message().find("SQLSTATE 40") == std::string::npos) break;
  }
  last_append_ok_ = s.ok();
  return s;
}

Status PostgresStore::AppendOnce(std::span<const InteractionRecord> batch) {
  pg::ArrayLiteral users, times, ids, threads, calls, failures, bodies;
  std::map<std::pair<std::string_view, std::string_view>, int64_t> counts;
  for (const InteractionRecord& r : batch) {
    users.Add(r.user_id);
    times.Add(r.ts_us);
    ids.Add(r.interaction_id);
    if (r.thread_id) {
      threads.Add(*r.thread_id);
    } else {
      threads.AddNull();
    }
    calls.Add(static_cast<int64_t>(r.tool_call_count));
    failures.Add(static_cast<int64_t>(r.tool_failure_count));
    bodies.Add(r.json);
    ++counts[{r.user_id, std::string_view()}];
    if (r.thread_id) ++counts[{r.user_id, *r.thread_id}];
  }
  pg::ArrayLiteral count_users, count_threads, count_n;
  for (const auto& [key, n] : counts) {
    count_users.Add(key.first);
    count_threads.Add(key.second);
    count_n.Add(n);
  }
  pg::Query queries[3] = {
      {kSetWriter, {}},
      {kInsert,
       {std::move(users).Take(), std::move(times).Take(), std::move(ids).Take(),
        std::move(threads).Take(), std::move(calls).Take(), std::move(failures).Take(),
        std::move(bodies).Take()}},
      {kCount, {std::move(count_users).Take(), std::move(count_threads).Take(),
                std::move(count_n).Take()}},
  };
  Result<std::vector<pg::Res>> done = writer_.Transaction(queries);
  return done.ok() ? Status::Ok() : done.status();
}

Result<HistoryPage> PostgresStore::History(const HistoryQuery& query) {
  const bool by_thread = query.thread_id.has_value();
  const bool by_cursor = query.after.has_value();
  std::vector<std::optional<std::string>> params = {
      query.user_id,
      // A cursor page fetches one extra row to learn whether more follow.
      std::to_string(static_cast<int64_t>(query.limit) + (by_cursor ? 1 : 0))};
  if (by_cursor) {
    params.push_back(std::to_string(query.after->ts_us));
    params.push_back(query.after->interaction_id);
  } else {
    params.push_back(std::to_string(query.offset));
  }
  if (by_thread) params.push_back(*query.thread_id);
  pg::Query queries[3] = {
      {kSetUser, {query.user_id}},
      {kTotal, {query.user_id, by_thread ? *query.thread_id : std::string()}},
      {kHistorySql[by_thread][by_cursor], std::move(params)},
  };
  Result<pg::Pool::Lease> conn = readers_.Acquire();
  if (!conn.ok()) return conn.status();
  Result<std::vector<pg::Res>> done = (*conn)->Transaction(queries, kReadOnly);
  if (!done.ok()) return done.status();
  const pg::Res& total = (*done)[1];
  const pg::Res& rows = (*done)[2];

  HistoryPage page;
  page.total = total.rows() > 0 ? total.Int(0, 0) : 0;
  int n = rows.rows();
  if (n > query.limit) {
    page.has_more = true;  // the extra row of a cursor page
    n = query.limit;
  }
  page.items.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) page.items.emplace_back(rows.Text(i, 0));
  if (!by_cursor) {
    page.has_more = query.offset + static_cast<int64_t>(page.items.size()) < page.total;
  }
  if (page.has_more && n > 0) {
    page.next = HistoryCursor{rows.Int(n - 1, 1), std::string(rows.Text(n - 1, 2))};
  }
  return page;
}

Result<std::string> PostgresStore::Get(const std::string& user_id,
                                       const std::string& interaction_id) {
  int64_t ts_us = 0;
  if (!TimestampOfInteractionId(interaction_id, &ts_us)) {
    return Status::NotFound("no such interaction");
  }
  pg::Query queries[2] = {
      {kSetUser, {user_id}},
      {"SELECT body FROM interactions WHERE user_id = $1 AND ts_us = $2 AND interaction_id = $3",
       {user_id, std::to_string(ts_us), interaction_id}},
  };
  Result<pg::Pool::Lease> conn = readers_.Acquire();
  if (!conn.ok()) return conn.status();
  Result<std::vector<pg::Res>> done = (*conn)->Transaction(queries, kReadOnly);
  if (!done.ok()) return done.status();
  const pg::Res& row = (*done)[1];
  if (row.rows() == 0) return Status::NotFound("no such interaction");
  return std::string(row.Text(0, 0));
}

Status PostgresStore::RenewLease() {
  std::lock_guard<std::mutex> lock(lease_mu_);
  if (slot_lost_) return Status::Unavailable("this server's id slot was taken by another server; restart it");
  // A round trip tells whether the session (and with it the advisory lock) is still alive.
  if (lease_.connected() && lease_.Exec("SELECT 1").ok()) return Status::Ok();
  if (Status s = lease_.EnsureConnected(); !s.ok()) return s;
  Result<pg::Res> got = lease_.Exec(SlotLockSql("pg_try_advisory_lock", slot_));
  if (!got.ok()) return got.status();
  if (got->Text(0, 0) != "t") {
    // Another process took this slot while the connection was down: its ids and ours could
    // collide, so this process stops saving.
    slot_lost_ = true;
    return Status::Unavailable("this server's id slot was taken by another server; restart it");
  }
  return Status::Ok();
}

Status PostgresStore::CheckWritable() {
  if (Status s = RenewLease(); !s.ok()) return s;
  Result<pg::Pool::Lease> conn = readers_.Acquire();
  if (!conn.ok()) return conn.status();
  Result<pg::Res> r = (*conn)->Exec("SELECT pg_is_in_recovery()");
  if (!r.ok()) return r.status();
  if (r->Text(0, 0) == "t") return Status::Unavailable("the database is a read-only standby");
  if (!last_append_ok_.load()) {
    return Status::Unavailable("the last write failed; it is retried with the next save");
  }
  return Status::Ok();
}

}  // namespace omniflow
