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
    -- Id slots (core/ids.h): each running server leases one, renewing it while it lives.
    CREATE TABLE id_slots(
      slot integer PRIMARY KEY,
      holder text NOT NULL,
      expires_at timestamptz NOT NULL);
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
    // 3: analytics (store/analytics_store.h). Aggregates are computed at query time from these
    // indexes; the kept counts learn each user's and thread's first and last interaction;
    // search matches omniflow_search_text(body) (no trigram index: see docs/scaling.md);
    // feedback. Analytics over every user (the admin's view) set
    // omniflow.admin, which permits reading, never writing.
    R"sql(
    -- The stored body as jsonb, for analytics. jsonb cannot hold \u0000 (text cannot hold
    -- NUL), so such bodies are read with U+FFFD in its place; a body jsonb refuses otherwise
    -- reads as {}. Never fails, so that no save and no report can fail on hostile content.
    CREATE FUNCTION omniflow_doc(body text) RETURNS jsonb
      LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $f$
    BEGIN
      RETURN body::jsonb;
    EXCEPTION WHEN others THEN
      BEGIN
        RETURN replace(body, '\u0000', '\ufffd')::jsonb;
      EXCEPTION WHEN others THEN
        RETURN '{}'::jsonb;
      END;
    END $f$;
    -- What search matches: the user's message and the assistant's response, ASCII lower-cased
    -- (as SQLite's lower()), one per line.
    CREATE FUNCTION omniflow_search_text(body text) RETURNS text
      LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $f$
    DECLARE
      doc jsonb := omniflow_doc(body);
    BEGIN
      RETURN lower(COALESCE(doc ->> 'user_message', '') COLLATE "C") || E'\n' ||
             lower(COALESCE(doc ->> 'assistant_response', '') COLLATE "C");
    END $f$;
    ALTER TABLE interaction_counts
      ADD COLUMN first_us bigint, ADD COLUMN first_id text COLLATE "C",
      ADD COLUMN last_us bigint, ADD COLUMN last_id text COLLATE "C";
    CREATE INDEX interaction_counts_threads_by_last ON interaction_counts(last_us)
      WHERE thread_id <> '';
    CREATE INDEX interactions_by_time ON interactions(ts_us, interaction_id);
    CREATE TABLE feedback(
      user_id text COLLATE "C" NOT NULL,
      interaction_id text COLLATE "C" NOT NULL,
      ts_us bigint NOT NULL,
      score double precision NOT NULL,
      comment text NOT NULL,
      updated_us bigint NOT NULL,
      PRIMARY KEY (user_id, interaction_id));
    CREATE INDEX feedback_by_time ON feedback(ts_us);
    ALTER TABLE feedback ENABLE ROW LEVEL SECURITY;
    ALTER TABLE feedback FORCE ROW LEVEL SECURITY;
    CREATE POLICY feedback_of_user ON feedback
      USING (user_id = current_setting('omniflow.user_id', true));
    CREATE POLICY feedback_admin_reads ON feedback FOR SELECT
      USING (current_setting('omniflow.admin', true) = 'on');
    CREATE POLICY interactions_admin_reads ON interactions FOR SELECT
      USING (current_setting('omniflow.admin', true) = 'on');
    CREATE POLICY counts_admin_reads ON interaction_counts FOR SELECT
      USING (current_setting('omniflow.admin', true) = 'on');
    -- Back-fill the spans of rows stored before this migration.
    SELECT set_config('omniflow.admin', 'on', true), set_config('omniflow.writer', 'on', true);
    UPDATE interaction_counts c SET first_us = f.ts_us, first_id = f.interaction_id,
                                    last_us = l.ts_us, last_id = l.interaction_id
    FROM interaction_counts k
    CROSS JOIN LATERAL (SELECT ts_us, interaction_id FROM interactions i
                        WHERE i.user_id = k.user_id AND (k.thread_id = '' OR i.thread_id = k.thread_id)
                        ORDER BY ts_us, interaction_id LIMIT 1) f
    CROSS JOIN LATERAL (SELECT ts_us, interaction_id FROM interactions i
                        WHERE i.user_id = k.user_id AND (k.thread_id = '' OR i.thread_id = k.thread_id)
                        ORDER BY ts_us DESC, interaction_id DESC LIMIT 1) l
    WHERE c.user_id = k.user_id AND c.thread_id = k.thread_id;
    )sql",
    // 4: idempotency keys of saves (store/idempotency.h), unique per user, kept at least 24 h
    // (ts_us is the save's); the writer finds, inserts and purges them for every user.
    R"sql(
    CREATE TABLE idempotency_keys(
      user_id text COLLATE "C" NOT NULL,
      key text COLLATE "C" NOT NULL,
      interaction_id text COLLATE "C" NOT NULL,
      ts_us bigint NOT NULL,
      request_hash text NOT NULL,
      PRIMARY KEY (user_id, key));
    CREATE INDEX idempotency_keys_by_time ON idempotency_keys(ts_us);
    ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
    ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
    CREATE POLICY idempotency_keys_of_user ON idempotency_keys
      USING (user_id = current_setting('omniflow.user_id', true));
    CREATE POLICY idempotency_keys_writer ON idempotency_keys
      USING (current_setting('omniflow.writer', true) = 'on');
    )sql",
    // 5: the data lifecycle (store/lifecycle_store.h): per-user retention overrides (days >= 1
    // keeps that many days, 0 keeps forever) and legal holds (never purged nor erased). The
    // operator's policy, not a user's data: no row-level security.
    R"sql(
    CREATE TABLE retention_overrides(
      user_id text COLLATE "C" PRIMARY KEY,
      days integer NOT NULL CHECK (days >= 0),
      updated_us bigint NOT NULL);
    CREATE TABLE legal_holds(
      user_id text COLLATE "C" PRIMARY KEY,
      reason text NOT NULL,
      since_us bigint NOT NULL);
    )sql",
    // 6: the hash chain (trust/chain.h). Each interaction keeps its link's seq and hash; a
    // deleted one leaves a tombstone with both; chain_head is the newest link, locked by each
    // batch before it is hashed and moved in the same transaction. No content: no row-level
    // security. Rows stored before are chained here, oldest first.
    R"sql(
    ALTER TABLE interactions ADD COLUMN chain_seq bigint, ADD COLUMN chain_hash bytea;
    CREATE TABLE chain_tombstones(
      seq bigint PRIMARY KEY,
      hash bytea NOT NULL,
      reason text NOT NULL CHECK (reason IN ('erased', 'purged')));
    CREATE TABLE chain_head(
      id integer PRIMARY KEY CHECK (id = 1),
      seq bigint NOT NULL,
      hash bytea NOT NULL,
      contiguous_from bigint NOT NULL);
    DO $do$
    DECLARE
      r record;
      h bytea := decode(repeat('00', 32), 'hex');
      n bigint := 0;
    BEGIN
      PERFORM set_config('omniflow.admin', 'on', true);
      FOR r IN SELECT user_id, ts_us, interaction_id, body FROM interactions
               ORDER BY ts_us, interaction_id, user_id LOOP
        n := n + 1;
        h := sha256(h || convert_to(r.body, 'UTF8'));
        PERFORM set_config('omniflow.user_id', r.user_id, true);
        UPDATE interactions SET chain_seq = n, chain_hash = h
          WHERE user_id = r.user_id AND ts_us = r.ts_us AND interaction_id = r.interaction_id;
      END LOOP;
      INSERT INTO chain_head(id, seq, hash, contiguous_from) VALUES (1, n, h, n + 1);
    END $do$;
    )sql",
    // 7: the audit log (store/audit_store.h): who did what to whose data, never any content.
    // seq is the entry's place in the hash chain (trust/chain.h), shared with interactions:
    // appends lock the chain's head first, so seq order is commit order across servers;
    // chain_hash is the entry's link. The operator's record, not a user's data: no row-level
    // security (the application role reads it only through the admin-key route).
    R"sql(
    CREATE TABLE audit_log(
      seq bigint PRIMARY KEY,
      chain_hash bytea NOT NULL,
      ts_us bigint NOT NULL,
      actor text COLLATE "C" NOT NULL,
      action text COLLATE "C" NOT NULL,
      target_user text COLLATE "C",
      path text NOT NULL,
      status integer NOT NULL,
      count bigint,
      request_id text NOT NULL);
    CREATE INDEX audit_log_by_time ON audit_log(ts_us);
    CREATE INDEX audit_log_by_action ON audit_log(action, seq);
    CREATE INDEX audit_log_by_actor ON audit_log(actor, seq);
    CREATE INDEX audit_log_by_target ON audit_log(target_user, seq);
    )sql",
    // 8: OTLP spans awaiting their trace (store/pending_span_store.h): held until the trace
    // has been quiet long enough to write its interactions, or has expired; erased with
    // their user. Row-level security: the user's own rows, or every row for the trace
    // assembler's scan (omniflow.admin).
    R"sql(
    CREATE TABLE otlp_pending_spans(
      user_id text COLLATE "C" NOT NULL,
      trace_id text COLLATE "C" NOT NULL,
      span_id text COLLATE "C" NOT NULL,
      root boolean NOT NULL,
      received_us bigint NOT NULL,
      span text NOT NULL,
      PRIMARY KEY (user_id, trace_id, span_id));
    CREATE INDEX otlp_pending_spans_by_time ON otlp_pending_spans(received_us);
    ALTER TABLE otlp_pending_spans ENABLE ROW LEVEL SECURITY;
    ALTER TABLE otlp_pending_spans FORCE ROW LEVEL SECURITY;
    CREATE POLICY otlp_pending_spans_of_user ON otlp_pending_spans
      USING (user_id = current_setting('omniflow.user_id', true)
             OR current_setting('omniflow.admin', true) = 'on');
    )sql",
    // 9: replays (store/replay_store.h): a candidate model or prompt run over historical
    // interactions. Each item copies its original interaction and holds its result once
    // replayed (result_json NULL until then); user erasure deletes the user's items. The
    // operator's tool (admin key only), like the audit log: no row-level security.
    R"sql(
    CREATE TABLE replays(
      replay_id text COLLATE "C" PRIMARY KEY,
      name text NOT NULL,
      actor text NOT NULL,
      spec_json text NOT NULL,
      state text NOT NULL CHECK (state IN ('selecting', 'running', 'done', 'failed')),
      error text NOT NULL DEFAULT '',
      created_us bigint NOT NULL,
      finished_us bigint NOT NULL DEFAULT 0);
    CREATE TABLE replay_items(
      replay_id text COLLATE "C" NOT NULL REFERENCES replays(replay_id) ON DELETE CASCADE,
      item_no bigint NOT NULL,
      user_id text COLLATE "C" NOT NULL,
      interaction_id text COLLATE "C" NOT NULL,
      ts_us bigint NOT NULL,
      original_json text NOT NULL,
      result_json text,
      changed integer NOT NULL DEFAULT 0,
      fixed integer NOT NULL DEFAULT 0,
      introduced integer NOT NULL DEFAULT 0,
      same_tools integer NOT NULL DEFAULT 0,
      error integer NOT NULL DEFAULT 0,
      latency_ms bigint NOT NULL DEFAULT 0,
      original_latency_ms bigint NOT NULL DEFAULT 0,
      tokens bigint NOT NULL DEFAULT 0,
      original_tokens bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (replay_id, item_no));
    CREATE INDEX replay_items_by_user ON replay_items(user_id);
    )sql",
    // 10: token usage and its cost (docs/cost.md), as priced when saved, on the row (NULL when
    // the save reported no usage); GET /api/stats sums them over the range as it counts the
    // rows. Rows stored before keep no usage (their metadata is not re-read).
    R"sql(
    ALTER TABLE interactions ADD COLUMN usage_model text COLLATE "C",
      ADD COLUMN input_tokens bigint, ADD COLUMN cached_input_tokens bigint,
      ADD COLUMN output_tokens bigint, ADD COLUMN reasoning_tokens bigint,
      ADD COLUMN cost_nanos bigint;
    )sql",
    // 11: OTLP spans kept for their ids only (otlp/decode.h LinkJson: every span without
    // gen_ai.* attributes, so that a chat span's ancestry can be walked through them; genai
    // false), and the traces the assembler found waiting for a missing parent (parked, cleared
    // by any span arriving). Erased with their user like every held span; same row-level
    // security.
    R"sql(
    ALTER TABLE otlp_pending_spans ADD COLUMN genai boolean NOT NULL DEFAULT true,
      ADD COLUMN parked boolean NOT NULL DEFAULT false;
    )sql",
    // 12: token usage and cost in replays (docs/replay.md): each item's original as stored with
    // it (copied when the items are chosen) and the replay's, priced by the server's table.
    // NULL counts: no usage; a NULL cost: no price. Items stored before have neither.
    R"sql(
    ALTER TABLE replay_items ADD COLUMN original_usage_model text COLLATE "C",
      ADD COLUMN original_input_tokens bigint, ADD COLUMN original_cached_input_tokens bigint,
      ADD COLUMN original_output_tokens bigint, ADD COLUMN original_reasoning_tokens bigint,
      ADD COLUMN original_cost_nanos bigint,
      ADD COLUMN usage_model text COLLATE "C",
      ADD COLUMN input_tokens bigint, ADD COLUMN cached_input_tokens bigint,
      ADD COLUMN output_tokens bigint, ADD COLUMN reasoning_tokens bigint,
      ADD COLUMN cost_nanos bigint;
    )sql",
    // 13: each replay's copy of its users' data documents, taken when its items are chosen, so
    // that a replay resumed after a restart runs on the same documents (replay/runner.h). A
    // copy of user data: erasure deletes a user's rows.
    R"sql(
    CREATE TABLE replay_snapshots(
      replay_id text COLLATE "C" NOT NULL REFERENCES replays(replay_id) ON DELETE CASCADE,
      user_id text COLLATE "C" NOT NULL,
      documents text NOT NULL,
      PRIMARY KEY (replay_id, user_id));
    CREATE INDEX replay_snapshots_by_user ON replay_snapshots(user_id);
    )sql",
    // 14: moving the chain's head only from the head a batch was hashed on (parallel writer
    // connections, store/postgres/postgres_chain_store.h AdvanceChainHead). In READ COMMITTED
    // the FOR UPDATE waits for a batch in flight that moved the head and then reads the head it
    // committed (or the old one, had it rolled back); a head that is not the expected one fails
    // the transaction with SQLSTATE 40O01 (class 40: retried).
    R"sql(
    CREATE FUNCTION omniflow_advance_chain_head(expected_seq bigint, expected_hash bytea,
                                                new_seq bigint, new_hash bytea)
    RETURNS void LANGUAGE plpgsql AS $fn$
    DECLARE
      s bigint;
      h bytea;
    BEGIN
      SELECT seq, hash INTO s, h FROM chain_head WHERE id = 1 FOR UPDATE;
      IF s IS DISTINCT FROM expected_seq OR h IS DISTINCT FROM expected_hash THEN
        RAISE EXCEPTION 'the hash chain head is at seq %, not at % as this batch expected',
          s, expected_seq USING ERRCODE = '40O01';
      END IF;
      UPDATE chain_head SET seq = new_seq, hash = new_hash WHERE id = 1;
    END $fn$;
    -- Waits for the batch that leaves the head at expected_seq to end, when it is in flight
    -- (it holds the advisory lock ('omnj', its seq) from its first statement) or about to be
    -- (not yet committed nor holding it: polled for up to about 100 ms).
    CREATE FUNCTION omniflow_await_chain_seq(expected_seq bigint)
    RETURNS void LANGUAGE plpgsql AS $fn$
    DECLARE
      key integer := (expected_seq % 2147483647)::integer;
    BEGIN
      FOR i IN 1..100 LOOP
        IF (SELECT seq FROM chain_head WHERE id = 1) >= expected_seq THEN
          RETURN;
        END IF;
        IF EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 1869442666
                   AND objid = key::oid AND objsubid = 2 AND granted AND mode = 'ExclusiveLock')
        THEN
          PERFORM pg_advisory_xact_lock_shared(1869442666, key);
          RETURN;
        END IF;
        PERFORM pg_sleep(0.001);
      END LOOP;
    END $fn$;
    )sql",
};

Result<int> Version(Conn& conn) {
  Result<Res> exists = conn.Exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists.ok()) return exists.status();
  if (exists->Text(0, 0) != "t") return 0;
  Result<Res> r = conn.Exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!r.ok()) return r.status();
  return static_cast<int>(r->Int(0, 0));
}

}  // namespace

Result<MigrationReport> Migrate(Conn& conn) {
  const std::string lock = "SELECT pg_advisory_xact_lock(" + std::to_string(kLockSpace) + ", " +
                           std::to_string(kMigrationLock) + ");\n";
  MigrationReport report;
  const int count = static_cast<int>(std::size(kMigrations));
  // Up to date (every start but the first): no lock, no DDL, so a role without CREATE rights
  // (the application role of docs/scaling.md) starts fine.
  Result<int> current = Version(conn);
  if (!current.ok()) return current.status();
  if (*current >= count) {
    report.version = *current;
    return report;
  }
  for (int v = 1; v <= count; ++v) {
    // Under the lock, a migration another server applied meanwhile is skipped (the INSERT
    // finds it done and the script stops there with nothing changed).
    std::string script =
        "BEGIN;\n" + lock +
        "SET LOCAL client_min_messages = warning;\n"
        "CREATE TABLE IF NOT EXISTS schema_migrations("
        "version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());\n"
        "SELECT 1 FROM schema_migrations WHERE version = " + std::to_string(v) + ";\n";
    Result<Res> seen = conn.Exec(script);
    if (!seen.ok()) {
      if (PQtransactionStatus(conn.get()) != PQTRANS_IDLE) (void)conn.Exec("ROLLBACK");
      return seen.status();
    }
    if (seen->rows() > 0) {
      if (Result<Res> done = conn.Exec("COMMIT"); !done.ok()) return done.status();
      continue;
    }
    Result<Res> applied = conn.Exec(std::string(kMigrations[v - 1]) +
                                    "\nINSERT INTO schema_migrations(version) VALUES (" +
                                    std::to_string(v) + ");\nCOMMIT;");
    if (!applied.ok()) {
      if (PQtransactionStatus(conn.get()) != PQTRANS_IDLE) (void)conn.Exec("ROLLBACK");
      Status s = applied.status();
      return Status(IsTransient(s.code())
                        ? Status::Unavailable("migration " + std::to_string(v) + ": " + s.message())
                        : Status::Internal("migration " + std::to_string(v) + ": " + s.message()));
    }
    ++report.applied;
  }
  Result<int> version = Version(conn);
  if (!version.ok()) return version.status();
  report.version = *version;
  return report;
}

}  // namespace omniflow::pg
