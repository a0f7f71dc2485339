#include "store/postgres/postgres_lifecycle_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <string_view>

#include "core/ids.h"

namespace omniflow {

namespace {

constexpr const char* kSetUser = "SELECT set_config('omniflow.user_id', $1, true)";
constexpr const char* kSetAdmin = "SELECT set_config('omniflow.admin', 'on', true)";
// Tries of an erasure that a deadlock rolled back.
constexpr int kAttempts = 5;
// The user's erasure-and-hold lock: an erasure and the setting of a hold on the same user never
// overlap. (The one-key form: its key space is not the two-key one of the migrations' lock.)
constexpr const char* kHoldLock = "SELECT pg_advisory_xact_lock(hashtextextended('omniflow.erase:' || $1, 0))";

}  // namespace

Result<std::vector<pg::Res>> PostgresLifecycleStore::Run(std::vector<pg::Query> queries,
                                                         std::string_view begin) {
  Result<pg::Pool::Lease> conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  return (*conn)->Transaction(queries, begin);
}

// ---- Retention overrides and holds ----------------------------------------------------------

Status PostgresLifecycleStore::SetRetention(const std::string& user_id, int days) {
  if (Status s = ValidateRetentionDays(days); !s.ok()) return s;
  return Run({{"INSERT INTO retention_overrides(user_id, days, updated_us) "
               "VALUES ($1, $2::integer, $3::bigint) ON CONFLICT (user_id) DO UPDATE SET "
               "days = excluded.days, updated_us = excluded.updated_us",
               {user_id, std::to_string(days), std::to_string(Clock::Real()->NowMicros())}}})
      .status();
}

Result<std::optional<int>> PostgresLifecycleStore::GetRetention(const std::string& user_id) {
  Result<std::vector<pg::Res>> done =
      Run({{"SELECT days FROM retention_overrides WHERE user_id = $1", {user_id}}});
  if (!done.ok()) return done.status();
  if ((*done)[0].rows() == 0) return std::optional<int>();
  return std::optional<int>(static_cast<int>((*done)[0].Int(0, 0)));
}

Status PostgresLifecycleStore::DeleteRetention(const std::string& user_id) {
  Result<std::vector<pg::Res>> done =
      Run({{"DELETE FROM retention_overrides WHERE user_id = $1", {user_id}}});
  if (!done.ok()) return done.status();
  if ((*done)[0].affected() == 0) return Status::NotFound("no retention override for " + user_id);
  return Status::Ok();
}

Status PostgresLifecycleStore::SetHold(const LegalHold& hold) {
  if (Status s = ValidateHold(hold); !s.ok()) return s;
  const int64_t since = hold.since_us > 0 ? hold.since_us : Clock::Real()->NowMicros();
  return Run({{kHoldLock, {hold.user_id}},
              {"INSERT INTO legal_holds(user_id, reason, since_us) VALUES ($1, $2, $3::bigint) "
               "ON CONFLICT (user_id) DO UPDATE SET reason = excluded.reason",
               {hold.user_id, hold.reason, std::to_string(since)}}})
      .status();
}

Status PostgresLifecycleStore::ReleaseHold(const std::string& user_id) {
  Result<std::vector<pg::Res>> done =
      Run({{"DELETE FROM legal_holds WHERE user_id = $1", {user_id}}});
  if (!done.ok()) return done.status();
  if ((*done)[0].affected() == 0) return Status::NotFound("no legal hold on " + user_id);
  return Status::Ok();
}

Result<std::optional<LegalHold>> PostgresLifecycleStore::GetHold(const std::string& user_id) {
  Result<std::vector<pg::Res>> done =
      Run({{"SELECT reason, since_us FROM legal_holds WHERE user_id = $1", {user_id}}});
  if (!done.ok()) return done.status();
  const pg::Res& rows = (*done)[0];
  if (rows.rows() == 0) return std::optional<LegalHold>();
  return std::optional<LegalHold>(LegalHold{user_id, std::string(rows.Text(0, 0)), rows.Int(0, 1)});
}

Result<std::vector<LegalHold>> PostgresLifecycleStore::ListHolds() {
  Result<std::vector<pg::Res>> done =
      Run({{"SELECT user_id, reason, since_us FROM legal_holds ORDER BY user_id", {}}});
  if (!done.ok()) return done.status();
  const pg::Res& rows = (*done)[0];
  std::vector<LegalHold> holds;
  for (int i = 0; i < rows.rows(); ++i) {
    holds.push_back(LegalHold{std::string(rows.Text(i, 0)), std::string(rows.Text(i, 1)),
                              rows.Int(i, 2)});
  }
  return holds;
}

// ---- Purge --------------------------------------------------------------------------------

Result<PurgeReport> PostgresLifecycleStore::Purge(const PurgeOptions& options) {
  return RunPurge(*this, options);
}

Result<std::vector<PurgeTarget::UserSpan>> PostgresLifecycleStore::UsersWithData() {
  Result<std::vector<pg::Res>> done =
      Run({{kSetAdmin, {}},
           {"SELECT user_id, first_us FROM interaction_counts WHERE thread_id = '' AND n > 0 "
            "ORDER BY user_id",
            {}}});
  if (!done.ok()) return done.status();
  const pg::Res& rows = (*done)[1];
  std::vector<UserSpan> users;
  for (int i = 0; i < rows.rows(); ++i) {
    users.push_back(UserSpan{std::string(rows.Text(i, 0)), rows.Int(i, 1)});
  }
  return users;
}

Result<std::vector<std::pair<std::string, int>>> PostgresLifecycleStore::RetentionOverrides() {
  Result<std::vector<pg::Res>> done =
      Run({{"SELECT user_id, days FROM retention_overrides ORDER BY user_id", {}}});
  if (!done.ok()) return done.status();
  const pg::Res& rows = (*done)[0];
  std::vector<std::pair<std::string, int>> overrides;
  for (int i = 0; i < rows.rows(); ++i) {
    overrides.emplace_back(std::string(rows.Text(i, 0)), static_cast<int>(rows.Int(i, 1)));
  }
  return overrides;
}

Result<int64_t> PostgresLifecycleStore::CountBefore(const std::string& user_id, int64_t cutoff_us) {
  Result<std::vector<pg::Res>> done =
      Run({{kSetUser, {user_id}},
           {"SELECT count(*) FROM interactions WHERE user_id = $1 AND ts_us < $2::bigint",
            {user_id, std::to_string(cutoff_us)}}});
  if (!done.ok()) return done.status();
  return (*done)[1].Int(0, 0);
}

// One batch in one transaction, READ COMMITTED: the counts are decremented on the newest row
// version (a save of the same user committing meanwhile keeps its increments), and a batch
// removes the user's oldest rows only, so of the spans only the first interaction can change
// (a span whose newest row went had no row left, and its count row is dropped).
Result<int64_t> PostgresLifecycleStore::RemoveBefore(const std::string& user_id, int64_t cutoff_us,
                                                     int max_rows) {
  const std::string cutoff = std::to_string(cutoff_us);
  Result<std::vector<pg::Res>> done = Run({
      {kSetUser, {user_id}},
      {R"sql(
       WITH doomed AS (
         SELECT ts_us, interaction_id FROM interactions
         WHERE user_id = $1 AND ts_us < $2::bigint
           AND NOT EXISTS (SELECT 1 FROM legal_holds WHERE user_id = $1)
         ORDER BY ts_us, interaction_id LIMIT $3::integer),
       gone AS (
         DELETE FROM interactions i USING doomed d
         WHERE i.user_id = $1 AND i.ts_us = d.ts_us AND i.interaction_id = d.interaction_id
         RETURNING i.interaction_id, i.thread_id, i.chain_seq, i.chain_hash),
       tombstones AS (
         INSERT INTO chain_tombstones(seq, hash, reason)
         SELECT chain_seq, chain_hash, 'purged' FROM gone),
       fb AS (
         DELETE FROM feedback f USING gone g
         WHERE f.user_id = $1 AND f.interaction_id = g.interaction_id),
       k AS (
         SELECT thread_id AS t, count(*) AS n FROM gone WHERE thread_id IS NOT NULL GROUP BY 1
         UNION ALL SELECT '', count(*) FROM gone),
       counted AS (
         UPDATE interaction_counts c SET n = c.n - k.n FROM k
         WHERE c.user_id = $1 AND c.thread_id = k.t AND k.n > 0)
       SELECT count(*) FROM gone)sql",
       {user_id, cutoff, std::to_string(max_rows)}},
      {"DELETE FROM interaction_counts WHERE user_id = $1 AND n <= 0", {user_id}},
      {R"sql(
       UPDATE interaction_counts c SET first_us = f.ts_us, first_id = f.interaction_id
       FROM (SELECT ts_us, interaction_id FROM interactions WHERE user_id = $1
             ORDER BY ts_us, interaction_id LIMIT 1) f
       WHERE c.user_id = $1 AND c.thread_id = '' AND c.first_us < $2::bigint)sql",
       {user_id, cutoff}},
      {R"sql(
       UPDATE interaction_counts c SET first_us = f.ts_us, first_id = f.interaction_id
       FROM interaction_counts k
       CROSS JOIN LATERAL (SELECT ts_us, interaction_id FROM interactions i
                           WHERE i.user_id = k.user_id AND i.thread_id = k.thread_id
                           ORDER BY ts_us, interaction_id LIMIT 1) f
       WHERE k.user_id = $1 AND k.thread_id <> '' AND k.first_us < $2::bigint
         AND c.user_id = k.user_id AND c.thread_id = k.thread_id)sql",
       {user_id, cutoff}},
  });
  if (!done.ok()) return done.status();
  return (*done)[1].Int(0, 0);
}

// ---- Erasure ------------------------------------------------------------------------------

// One transaction, READ COMMITTED, in one round trip, that first takes two locks:
// - the user's erasure-and-hold lock (kHoldLock, also taken by SetHold), so that a hold set
//   meanwhile comes wholly before the erasure (which then refuses and changes nothing) or
//   wholly after it;
// - the row lock on the user's total count (created if the user has none yet). Every save of
//   the user takes that lock before its commit (Append locks count rows in key order, the
//   user's total first), so from then on no interaction of the user commits until the erasure
//   has: each statement below sees the same interactions, and a save waiting on the lock is
//   kept whole (rows, counts and idempotency key) once the erasure has committed.
// Under REPEATABLE READ, as before, a save of the user committing during the erasure made it
// fail to serialize, and under continuous saves every retry failed the same way.
//
// What "erased" means physically on PostgreSQL: DELETE marks the rows dead; their bytes stay in
// the table's and indexes' pages until VACUUM (run below as far as the role may, else by
// autovacuum) prunes them, and even then a freed slot is overwritten only when the page is
// reused; VACUUM FULL rewrites the table into new files. The WAL keeps the original inserts
// until its segments are recycled after checkpoints (max_wal_size, wal_keep_size, replication
// slots), and WAL archives, base backups and replicas keep them as long as they are retained.
// Those copies are the operator's to expire (docs/lifecycle.md).
Result<ErasureReport> PostgresLifecycleStore::EraseUser(const std::string& user_id) {
  constexpr const char* kNotHeld = " AND NOT EXISTS (SELECT 1 FROM legal_holds WHERE user_id = $1)";
  const std::vector<pg::Query> queries = {
      {kSetUser, {user_id}},
      {kHoldLock, {user_id}},
      {"SELECT reason FROM legal_holds WHERE user_id = $1", {user_id}},
      {std::string("INSERT INTO interaction_counts AS c(user_id, thread_id, n) "
                   "SELECT $1, '', 0 WHERE TRUE") + kNotHeld +
           " ON CONFLICT (user_id, thread_id) DO UPDATE SET n = c.n",
       {user_id}},
      // Each erased row leaves its place in the hash chain as a tombstone.
      {std::string("WITH gone AS (DELETE FROM interactions WHERE user_id = $1") + kNotHeld +
           " RETURNING interaction_id, thread_id, tool_calls, chain_seq, chain_hash), "
           "tombstones AS (INSERT INTO chain_tombstones(seq, hash, reason) "
           "SELECT chain_seq, chain_hash, 'erased' FROM gone) "
           "SELECT interaction_id, thread_id, tool_calls FROM gone ORDER BY interaction_id",
       {user_id}},
      {std::string("WITH f AS (DELETE FROM feedback WHERE user_id = $1") + kNotHeld +
           " RETURNING 1) SELECT count(*) FROM f",
       {user_id}},
      {std::string("WITH d AS (DELETE FROM data_entries WHERE user_id = $1") + kNotHeld +
           " RETURNING blob) SELECT count(DISTINCT blob), count(*) FROM d",
       {user_id}},
      // With the user's total's row, made above when the user had none.
      {std::string("DELETE FROM interaction_counts WHERE user_id = $1") + kNotHeld, {user_id}},
      {std::string("DELETE FROM retention_overrides WHERE user_id = $1") + kNotHeld, {user_id}},
      // The user's idempotency keys name erased interactions.
      {std::string("DELETE FROM idempotency_keys WHERE user_id = $1") + kNotHeld, {user_id}},
      // Replays' copies of the user's interactions and their results.
      {std::string("DELETE FROM replay_items WHERE user_id = $1") + kNotHeld, {user_id}},
      // OTLP spans of the user's traces not yet written.
      {std::string("DELETE FROM otlp_pending_spans WHERE user_id = $1") + kNotHeld, {user_id}},
      // Replays' copies of the user's data documents.
      {std::string("DELETE FROM replay_snapshots WHERE user_id = $1") + kNotHeld, {user_id}},
  };
  Result<std::vector<pg::Res>> done = Status::Unavailable("not run");
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    done = Run(queries);
    // Aborted (a deadlock, rolled back) or Unavailable (a lost connection, before COMMIT was
    // sent): worth another try.
    if (done.ok() || (done.status().code() != Status::Code::kAborted &&
                      done.status().code() != Status::Code::kUnavailable)) {
      break;
    }
  }
  if (!done.ok()) return done.status();
  const std::vector<pg::Res>& r = *done;
  if (r[2].rows() > 0) {  // then every statement after it changed nothing (kNotHeld)
    return Status::FailedPrecondition("user " + user_id + " is under a legal hold (" +
                                    std::string(r[2].Text(0, 0)) + "); release it to erase");
  }
  ErasureReport report;
  std::set<std::string_view> threads;
  const pg::Res& gone = r[4];
  report.interaction_ids.reserve(static_cast<size_t>(gone.rows()));
  for (int i = 0; i < gone.rows(); ++i) {
    report.interaction_ids.emplace_back(gone.Text(i, 0));
    if (!gone.IsNull(i, 1)) threads.insert(gone.Text(i, 1));
    report.tool_calls += gone.Int(i, 2);
  }
  report.interactions = gone.rows();
  report.threads = static_cast<int64_t>(threads.size());
  report.feedback = r[5].Int(0, 0);
  report.data_documents = r[6].Int(0, 0);
  report.data_entries = r[6].Int(0, 1);
  // ORDER BY interaction_id under COLLATE "C" is bytewise, as std::sort; sorting again keeps the
  // promise whatever the collation.
  std::sort(report.interaction_ids.begin(), report.interaction_ids.end());
  Vacuum();
  return report;
}

void PostgresLifecycleStore::Vacuum() {
  // Best effort: only the tables' owner may vacuum them (others get a warning and nothing
  // happens), and autovacuum gets there anyway.
  Result<pg::Pool::Lease> conn = pool_->Acquire();
  if (!conn.ok()) return;
  // One statement alone: VACUUM cannot run in a transaction block (nor a multi-statement string).
  Result<pg::Res> done = (*conn)->Exec(
      "VACUUM interactions, feedback, data_entries, interaction_counts, replay_items, "
      "replay_snapshots",
      {});
  if (!done.ok()) {
    spdlog::warn("event=erasure_vacuum_failed error=\"{}\"", done.status().message());
  }
}

}  // namespace omniflow
