#include "store/postgres/pg_migrations.h"

#include <iterator>
#include <string>

namespace omniflow::pg {

namespace {

// Row-level security: every read and write runs in a transaction that first sets
// omniflow.user_id (set_config(..., true), transaction-local, so it suits pgbouncer's
// transaction mode). A session without it sees no rows. FORCE applies the policies to the
// table owner too; only superusers and BYPASSRLS roles skip them.
// The group-commit writer inserts many users' rows in one statement: it sets omniflow.writer
// instead, which permits INSERT into interactions (never SELECT) and maintaining the counts.
constexpr const char* kMigrations[] = {
    // 1: interactions, the newest-first key, kept counts ('' thread = the user's total).
    R"sql(
    CREATE TABLE interactions(
      user_id text COLLATE "C" NOT NULL,
      ts_us bigint NOT NULL,
      interaction_id text COLLATE "C" NOT NULL,
      thread_id text COLLATE "C",
      tool_calls integer NOT NULL DEFAULT 0,
      tool_failures integer NOT NULL DEFAULT 0,
      body text NOT NULL,
      PRIMARY KEY (user_id, ts_us, interaction_id));
    CREATE INDEX interactions_by_user_thread_time
      ON interactions(user_id, thread_id, ts_us, interaction_id) WHERE thread_id IS NOT NULL;
    CREATE TABLE interaction_counts(
      user_id text COLLATE "C" NOT NULL,
      thread_id text COLLATE "C" NOT NULL,
      n bigint NOT NULL,
      PRIMARY KEY (user_id, thread_id));
    ALTER TABLE interactions ENABLE ROW LEVEL SECURITY;
    ALTER TABLE interactions FORCE ROW LEVEL SECURITY;
    CREATE POLICY interactions_of_user ON interactions
      USING (user_id = current_setting('omniflow.user_id', true));
    CREATE POLICY interactions_writer_inserts ON interactions FOR INSERT
      WITH CHECK (current_setting('omniflow.writer', true) = 'on');
    ALTER TABLE interaction_counts ENABLE ROW LEVEL SECURITY;
    ALTER TABLE interaction_counts FORCE ROW LEVEL SECURITY;
    CREATE POLICY counts_of_user ON interaction_counts
      USING (user_id = current_setting('omniflow.user_id', true));
    CREATE POLICY counts_writer ON interaction_counts
      USING (current_setting('omniflow.writer', true) = 'on');
    )sql",
    // 2: the per-user JSON documents of the data tools (tasks.json, notes.json, ...). seq keeps
    // insertion order across servers without locking.
    R"sql(
    CREATE TABLE data_entries(
      user_id text COLLATE "C" NOT NULL,
      blob text COLLATE "C" NOT NULL,
      entry_id text COLLATE "C" NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      body text NOT NULL,
      PRIMARY KEY (user_id, blob, entry_id));
    CREATE INDEX data_entries_in_order ON data_entries(user_id, blob, seq);
    ALTER TABLE data_entries ENABLE ROW LEVEL SECURITY;
    ALTER TABLE data_entries FORCE ROW LEVEL SECURITY;
    CREATE POLICY data_of_user ON data_entries
      USING (user_id = current_setting('omniflow.user_id', true));
    )sql",
};

Result<int> Version(Conn& conn) {
  Result<Res> r = conn.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!r.ok()) return r.status();
  return static_cast<int>(r->Int(0, 0));
}

}  // namespace

Result<MigrationReport> Migrate(Conn& conn) {
  const std::string lock = "SELECT pg_advisory_lock(" + std::to_string(kLockSpace) + ", " +
                           std::to_string(kMigrationLock) + ")";
  const std::string unlock = "SELECT pg_advisory_unlock(" + std::to_string(kLockSpace) + ", " +
                             std::to_string(kMigrationLock) + ")";
  if (Result<Res> r = conn.Exec(lock); !r.ok()) return r.status();
  auto finish = [&](Result<MigrationReport> result) {
    (void)conn.Exec(unlock);
    return result;
  };
  Result<Res> created = conn.Exec(
      "SET client_min_messages = warning;"
      "CREATE TABLE IF NOT EXISTS schema_migrations("
      "version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());"
      "RESET client_min_messages");
  if (!created.ok()) return finish(created.status());
  Result<int> version = Version(conn);
  if (!version.ok()) return finish(version.status());
  MigrationReport report;
  const int count = static_cast<int>(std::size(kMigrations));
  for (int v = *version + 1; v <= count; ++v) {
    std::string script = "BEGIN;\n" + std::string(kMigrations[v - 1]) +
                         "\nINSERT INTO schema_migrations(version) VALUES (" + std::to_string(v) +
                         ");\nCOMMIT;";
    Result<Res> applied = conn.Exec(script);
    if (!applied.ok()) {
      if (PQtransactionStatus(conn.get()) != PQTRANS_IDLE) (void)conn.Exec("ROLLBACK");
      Status s = applied.status();
      return finish(Status(s.code() == Status::Code::kUnavailable
                               ? Status::Unavailable("migration " + std::to_string(v) + ": " + s.message())
                               : Status::Internal("migration " + std::to_string(v) + ": " + s.message())));
    }
    ++report.applied;
  }
  version = Version(conn);
  if (!version.ok()) return finish(version.status());
  report.version = *version;
  return finish(report);
}

}  // namespace omniflow::pg
