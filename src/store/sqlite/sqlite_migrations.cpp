// The SQLite schema's history: every migration, in order, each applied once in its own
// transaction and recorded in schema_migrations (version, applied_at).
#include "store/sqlite/sqlite_migrations.h"

#include <iterator>
#include <string>

namespace omniflow {

namespace {

// Each migration runs once, in its own transaction, recorded in schema_migrations.
constexpr const char* kMigrations[] = {
    // 1: interactions, newest-first indexes, kept counts ('' thread = the user's total).
    R"sql(
    CREATE TABLE interactions(
      seq INTEGER PRIMARY KEY,
      user_id TEXT NOT NULL,
      ts_us INTEGER NOT NULL,
      interaction_id TEXT NOT NULL,
      thread_id TEXT,
      tool_calls INTEGER NOT NULL DEFAULT 0,
      tool_failures INTEGER NOT NULL DEFAULT 0,
      body TEXT NOT NULL);
    CREATE UNIQUE INDEX interactions_by_user_time ON interactions(user_id, ts_us, interaction_id);
    CREATE INDEX interactions_by_user_thread_time
      ON interactions(user_id, thread_id, ts_us, interaction_id) WHERE thread_id IS NOT NULL;
    CREATE TABLE interaction_counts(
      user_id TEXT NOT NULL,
      thread_id TEXT NOT NULL,
      n INTEGER NOT NULL,
      PRIMARY KEY(user_id, thread_id)) WITHOUT ROWID;
    )sql",
    // 2: the per-user JSON documents of the data tools (tasks.json, notes.json, ...).
    R"sql(
    CREATE TABLE data_entries(
      user_id TEXT NOT NULL,
      blob TEXT NOT NULL,
      entry_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      body TEXT NOT NULL,
      PRIMARY KEY(user_id, blob, entry_id)) WITHOUT ROWID;
    CREATE INDEX data_entries_in_order ON data_entries(user_id, blob, seq);
    )sql",
    // 3: analytics: a trigram full-text index over user messages and assistant responses, and
    // aggregates kept by the writer in the same transaction as each insert (per hour, per tool;
    // first and last activity of each user and thread), plus feedback. Existing rows are
    // back-filled.
    R"sql(
CREATE INDEX interactions_by_time ON interactions(ts_us, interaction_id);
CREATE INDEX interactions_failed_by_time ON interactions(ts_us, interaction_id)
  WHERE tool_failures > 0;
-- Contentless (the text lives in interactions.body), rowids only (detail=none, no column
-- sizes): the smallest and cheapest trigram index. A search ANDs the trigrams of each term to
-- find candidates, then checks the substring on the candidates' text.
CREATE VIRTUAL TABLE interactions_fts USING fts5(
  user_message, assistant_response, content='', tokenize='trigram', detail=none, columnsize=0);
-- One row per (interaction, tool name); failed = any call of that tool failed.
CREATE TABLE interaction_tools(
  seq INTEGER NOT NULL,
  tool_name TEXT NOT NULL,
  failed INTEGER NOT NULL,
  ts_us INTEGER NOT NULL,
  PRIMARY KEY(seq, tool_name)) WITHOUT ROWID;
CREATE INDEX interaction_tools_by_name ON interaction_tools(tool_name, ts_us);
-- Per UTC hour, per user; user_id '' holds the totals over all users.
CREATE TABLE stats_hourly(
  user_id TEXT NOT NULL,
  hour_us INTEGER NOT NULL,
  interactions INTEGER NOT NULL,
  tool_calls INTEGER NOT NULL,
  tool_failures INTEGER NOT NULL,
  PRIMARY KEY(user_id, hour_us)) WITHOUT ROWID;
-- Per UTC day, per user, keyed by day first: today's rows sit together at the end of the tree,
-- and "users active in a range" reads just the range.
CREATE TABLE stats_daily_users(
  day_us INTEGER NOT NULL,
  user_id TEXT NOT NULL,
  interactions INTEGER NOT NULL,
  PRIMARY KEY(day_us, user_id)) WITHOUT ROWID;
CREATE TABLE stats_tools_hourly(
  user_id TEXT NOT NULL,
  hour_us INTEGER NOT NULL,
  tool_name TEXT NOT NULL,
  calls INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  PRIMARY KEY(user_id, hour_us, tool_name)) WITHOUT ROWID;
-- Users and threads: the kept counts of migration 1 ('' thread = the user's total) learn when
-- they began and ended, so that a save touches no further table for them.
ALTER TABLE interaction_counts ADD COLUMN first_us INTEGER;
ALTER TABLE interaction_counts ADD COLUMN last_us INTEGER;
ALTER TABLE interaction_counts ADD COLUMN first_seq INTEGER;
ALTER TABLE interaction_counts ADD COLUMN last_seq INTEGER;
CREATE INDEX interaction_counts_threads_by_last ON interaction_counts(last_us)
  WHERE thread_id <> '';
CREATE VIEW threads AS
  SELECT user_id, thread_id, n, first_us, last_us, first_seq, last_seq
  FROM interaction_counts WHERE thread_id <> '';
CREATE VIEW users AS
  SELECT user_id, n, first_us, last_us FROM interaction_counts WHERE thread_id = '';
CREATE TABLE feedback(
  user_id TEXT NOT NULL,
  interaction_id TEXT NOT NULL,
  ts_us INTEGER NOT NULL,
  score REAL NOT NULL,
  comment TEXT NOT NULL,
  updated_us INTEGER NOT NULL,
  PRIMARY KEY(user_id, interaction_id)) WITHOUT ROWID;
CREATE INDEX feedback_by_time ON feedback(ts_us);
CREATE INDEX feedback_by_user_time ON feedback(user_id, ts_us);

-- Back-fill from rows stored before this migration.
INSERT INTO interactions_fts(rowid, user_message, assistant_response)
  SELECT seq, json_extract(body, '$.user_message'), json_extract(body, '$.assistant_response')
  FROM interactions;
INSERT INTO interaction_tools(seq, tool_name, failed, ts_us)
  SELECT i.seq, json_extract(t.value, '$.tool_name'),
         max(coalesce(json_extract(t.value, '$.status'), 'success') <> 'success'), i.ts_us
  FROM interactions i, json_each(i.body, '$.tool_calls') t
  GROUP BY i.seq, json_extract(t.value, '$.tool_name');
INSERT INTO stats_hourly(user_id, hour_us, interactions, tool_calls, tool_failures)
  SELECT user_id, ts_us - ts_us % 3600000000, count(*), sum(tool_calls), sum(tool_failures)
  FROM interactions GROUP BY 1, 2;
INSERT INTO stats_hourly(user_id, hour_us, interactions, tool_calls, tool_failures)
  SELECT '', ts_us - ts_us % 3600000000, count(*), sum(tool_calls), sum(tool_failures)
  FROM interactions GROUP BY 2;
INSERT INTO stats_daily_users(day_us, user_id, interactions)
  SELECT ts_us - ts_us % 86400000000, user_id, count(*) FROM interactions GROUP BY 1, 2;
INSERT INTO stats_tools_hourly(user_id, hour_us, tool_name, calls, failures)
  SELECT i.user_id, i.ts_us - i.ts_us % 3600000000, json_extract(t.value, '$.tool_name'),
         count(*), sum(coalesce(json_extract(t.value, '$.status'), 'success') <> 'success')
  FROM interactions i, json_each(i.body, '$.tool_calls') t GROUP BY 1, 2, 3;
INSERT INTO stats_tools_hourly(user_id, hour_us, tool_name, calls, failures)
  SELECT '', hour_us, tool_name, sum(calls), sum(failures)
  FROM stats_tools_hourly GROUP BY 2, 3;
UPDATE interaction_counts SET
  first_seq = (SELECT seq FROM interactions i WHERE i.user_id = interaction_counts.user_id
               ORDER BY ts_us, interaction_id LIMIT 1),
  last_seq = (SELECT seq FROM interactions i WHERE i.user_id = interaction_counts.user_id
              ORDER BY ts_us DESC, interaction_id DESC LIMIT 1)
  WHERE thread_id = '';
UPDATE interaction_counts SET
  first_seq = (SELECT seq FROM interactions i WHERE i.user_id = interaction_counts.user_id
               AND i.thread_id = interaction_counts.thread_id ORDER BY ts_us, interaction_id LIMIT 1),
  last_seq = (SELECT seq FROM interactions i WHERE i.user_id = interaction_counts.user_id
              AND i.thread_id = interaction_counts.thread_id
              ORDER BY ts_us DESC, interaction_id DESC LIMIT 1)
  WHERE thread_id <> '';
UPDATE interaction_counts SET
  first_us = (SELECT ts_us FROM interactions WHERE seq = first_seq),
  last_us = (SELECT ts_us FROM interactions WHERE seq = last_seq);
)sql",
    // 4: the full-text index is fed off the save path (sqlite_search_indexer.h); its watermark
    // starts after every row indexed so far.
    R"sql(
    CREATE TABLE search_index_progress(
      id INTEGER PRIMARY KEY CHECK (id = 1),
      indexed_seq INTEGER NOT NULL);
    INSERT INTO search_index_progress(id, indexed_seq)
      SELECT 1, coalesce(max(seq), 0) FROM interactions;
    )sql",
    // 5: idempotency keys of saves (store/idempotency.h), unique per user, kept at least 24 h
    // (ts_us is the save's).
    R"sql(
    CREATE TABLE idempotency_keys(
      user_id TEXT NOT NULL,
      key TEXT NOT NULL,
      interaction_id TEXT NOT NULL,
      ts_us INTEGER NOT NULL,
      request_hash TEXT NOT NULL,
      PRIMARY KEY(user_id, key)) WITHOUT ROWID;
    CREATE INDEX idempotency_keys_by_time ON idempotency_keys(ts_us);
    )sql",
    // 6: the data lifecycle (store/lifecycle_store.h): per-user retention overrides (days >= 1
    // keeps that many days, 0 keeps forever) and legal holds (never purged nor erased).
    R"sql(
    CREATE TABLE retention_overrides(
      user_id TEXT PRIMARY KEY,
      days INTEGER NOT NULL CHECK (days >= 0),
      updated_us INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE legal_holds(
      user_id TEXT PRIMARY KEY,
      reason TEXT NOT NULL,
      since_us INTEGER NOT NULL) WITHOUT ROWID;
    )sql",
    // 7: the hash chain (trust/chain.h). Each interaction keeps its link's hash; a deleted one
    // leaves a tombstone with its seq and hash; chain_head is the newest link, written with
    // every batch. Rows stored before are chained by ChainExisting (sqlite_chain.h) when the
    // file is opened, in seq order; seqs from contiguous_from on are given out one by one.
    R"sql(
    ALTER TABLE interactions ADD COLUMN chain_hash BLOB;
    CREATE TABLE chain_tombstones(
      seq INTEGER PRIMARY KEY,
      hash BLOB NOT NULL,
      reason TEXT NOT NULL CHECK (reason IN ('erased', 'purged')));
    CREATE TABLE chain_head(
      id INTEGER PRIMARY KEY CHECK (id = 1),
      seq INTEGER NOT NULL,
      hash BLOB NOT NULL,
      contiguous_from INTEGER NOT NULL);
    )sql",
    // 8: the audit log (store/audit_store.h): who did what to whose data, never any content.
    // seq is the entry's place in the hash chain (trust/chain.h), shared with interactions and
    // never reused; chain_hash its link.
    R"sql(
    CREATE TABLE audit_log(
      seq INTEGER PRIMARY KEY,
      chain_hash BLOB NOT NULL,
      ts_us INTEGER NOT NULL,
      actor TEXT NOT NULL,
      action TEXT NOT NULL,
      target_user TEXT,
      path TEXT NOT NULL,
      status INTEGER NOT NULL,
      count INTEGER,
      request_id TEXT NOT NULL);
    CREATE INDEX audit_log_by_time ON audit_log(ts_us);
    CREATE INDEX audit_log_by_action ON audit_log(action, seq);
    CREATE INDEX audit_log_by_actor ON audit_log(actor, seq);
    CREATE INDEX audit_log_by_target ON audit_log(target_user, seq);
    )sql",
    // 9: erasures under way (sqlite_lifecycle_store.h): the user, and the last seq the erasure
    // takes (later saves of the user are new data and stay). A row here outlives a crash, and
    // the next open finishes its erasure before anything reads the store. No content.
    R"sql(
    CREATE TABLE erasures(
      user_id TEXT PRIMARY KEY,
      upto_seq INTEGER NOT NULL,
      started_us INTEGER NOT NULL);
    )sql",
    // 10: OTLP spans awaiting their trace (store/pending_span_store.h): held until the trace
    // has been quiet long enough to write its interactions, or has expired; erased with
    // their user.
    R"sql(
    CREATE TABLE otlp_pending_spans(
      user_id TEXT NOT NULL,
      trace_id TEXT NOT NULL,
      span_id TEXT NOT NULL,
      root INTEGER NOT NULL,
      received_us INTEGER NOT NULL,
      span TEXT NOT NULL,
      PRIMARY KEY(user_id, trace_id, span_id)) WITHOUT ROWID;
    CREATE INDEX otlp_pending_spans_by_time ON otlp_pending_spans(received_us);
    )sql",
    // 11: replays (store/replay_store.h): a candidate model or prompt run over historical
    // interactions. Each item copies its original interaction and holds its result once
    // replayed (result_json NULL until then); user erasure deletes the user's items.
    R"sql(
    CREATE TABLE replays(
      replay_id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      actor TEXT NOT NULL,
      spec_json TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('selecting', 'running', 'done', 'failed')),
      error TEXT NOT NULL DEFAULT '',
      created_us INTEGER NOT NULL,
      finished_us INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE replay_items(
      replay_id TEXT NOT NULL,
      item_no INTEGER NOT NULL,
      user_id TEXT NOT NULL,
      interaction_id TEXT NOT NULL,
      ts_us INTEGER NOT NULL,
      original_json TEXT NOT NULL,
      result_json TEXT,
      changed INTEGER NOT NULL DEFAULT 0,
      fixed INTEGER NOT NULL DEFAULT 0,
      introduced INTEGER NOT NULL DEFAULT 0,
      same_tools INTEGER NOT NULL DEFAULT 0,
      error INTEGER NOT NULL DEFAULT 0,
      latency_ms INTEGER NOT NULL DEFAULT 0,
      original_latency_ms INTEGER NOT NULL DEFAULT 0,
      tokens INTEGER NOT NULL DEFAULT 0,
      original_tokens INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (replay_id, item_no));
    CREATE INDEX replay_items_by_user ON replay_items(user_id);
    )sql",
    // 12: token usage and its cost (docs/cost.md), as priced when saved: on the row (NULL when
    // the save reported no usage), and per UTC hour, user ('' = every user) and model ('' =
    // none given) for GET /api/stats. Rows stored before keep no usage (their metadata is not
    // re-read).
    R"sql(
    ALTER TABLE interactions ADD COLUMN usage_model TEXT;
    ALTER TABLE interactions ADD COLUMN input_tokens INTEGER;
    ALTER TABLE interactions ADD COLUMN cached_input_tokens INTEGER;
    ALTER TABLE interactions ADD COLUMN output_tokens INTEGER;
    ALTER TABLE interactions ADD COLUMN reasoning_tokens INTEGER;
    ALTER TABLE interactions ADD COLUMN cost_nanos INTEGER;
    CREATE TABLE stats_usage_hourly(
      user_id TEXT NOT NULL,
      hour_us INTEGER NOT NULL,
      model TEXT NOT NULL,
      interactions INTEGER NOT NULL,
      input INTEGER NOT NULL,
      cached_input INTEGER NOT NULL,
      output INTEGER NOT NULL,
      reasoning INTEGER NOT NULL,
      cost_nanos INTEGER NOT NULL,
      unpriced INTEGER NOT NULL,
      PRIMARY KEY(user_id, hour_us, model)) WITHOUT ROWID;
    -- usage_by_user over every user reads just the range's hours.
    CREATE INDEX stats_usage_hourly_by_hour ON stats_usage_hourly(hour_us) WHERE user_id <> '';
    )sql",
    // 13: the tool index as one b-tree keyed by tool, time and row. A search's tool filter
    // finds an interaction's entry by that whole key, and a save inserts one entry per tool
    // where it inserted two (the (tool_name, ts_us) index this replaces was never read).
    R"sql(
    CREATE TABLE interaction_tools_by_key(
      tool_name TEXT NOT NULL,
      ts_us INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      failed INTEGER NOT NULL,
      PRIMARY KEY(tool_name, ts_us, seq)) WITHOUT ROWID;
    INSERT INTO interaction_tools_by_key(tool_name, ts_us, seq, failed)
      SELECT tool_name, ts_us, seq, failed FROM interaction_tools ORDER BY tool_name, ts_us, seq;
    DROP TABLE interaction_tools;
    ALTER TABLE interaction_tools_by_key RENAME TO interaction_tools;
    )sql",
    // 14: OTLP spans kept for their ids only (otlp/decode.h LinkJson: every span without
    // gen_ai.* attributes, so that a chat span's ancestry can be walked through them; genai 0),
    // and the traces the assembler found waiting for a missing parent (parked 1, cleared by
    // any span arriving). Erased with their user like every held span.
    R"sql(
    ALTER TABLE otlp_pending_spans ADD COLUMN genai INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE otlp_pending_spans ADD COLUMN parked INTEGER NOT NULL DEFAULT 0;
    )sql",
    // 15: token usage and cost in replays (docs/replay.md): each item's original as stored with
    // it (copied when the items are chosen) and the replay's, priced by the server's table.
    // NULL counts: no usage; a NULL cost: no price. Items stored before have neither.
    R"sql(
    ALTER TABLE replay_items ADD COLUMN original_usage_model TEXT;
    ALTER TABLE replay_items ADD COLUMN original_input_tokens INTEGER;
    ALTER TABLE replay_items ADD COLUMN original_cached_input_tokens INTEGER;
    ALTER TABLE replay_items ADD COLUMN original_output_tokens INTEGER;
    ALTER TABLE replay_items ADD COLUMN original_reasoning_tokens INTEGER;
    ALTER TABLE replay_items ADD COLUMN original_cost_nanos INTEGER;
    ALTER TABLE replay_items ADD COLUMN usage_model TEXT;
    ALTER TABLE replay_items ADD COLUMN input_tokens INTEGER;
    ALTER TABLE replay_items ADD COLUMN cached_input_tokens INTEGER;
    ALTER TABLE replay_items ADD COLUMN output_tokens INTEGER;
    ALTER TABLE replay_items ADD COLUMN reasoning_tokens INTEGER;
    ALTER TABLE replay_items ADD COLUMN cost_nanos INTEGER;
    )sql",
    // 16: each replay's copy of its users' data documents, taken when its items are chosen, so
    // that a replay resumed after a restart runs on the same documents (replay/runner.h). A
    // copy of user data: erasure deletes a user's rows.
    R"sql(
    CREATE TABLE replay_snapshots(
      replay_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      documents TEXT NOT NULL,
      PRIMARY KEY (replay_id, user_id));
    CREATE INDEX replay_snapshots_by_user ON replay_snapshots(user_id);
    )sql",
    // 17: summaries that keep /api/stats and /api/users independent of how many users and
    // threads a store holds (measured on 10M interactions of 1,000 users: usage by user, the
    // thread count, the feedback summary and the users page each read every row of a big
    // table). Triggers on the tables they summarise keep them, so that every path writing those
    // tables (saves, erasure, retention, feedback) keeps them exact.
    //  - stats_user_threads: threads per user.
    //  - stats_thread_hours: threads by the UTC hour of their last (edge 0) and first (edge 1)
    //    interaction; threads active in [from, to) = last >= from minus first >= to.
    //  - stats_usage_daily_users, stats_usage_users: token usage per user per UTC day, and of all
    //    time (from stats_usage_hourly).
    //  - stats_feedback_hourly: feedback per user per UTC hour of the rated interaction, and for
    //    all users under user_id ''.
    // And two indexes of interaction_counts: each user's threads by last activity, for
    // /api/threads?user_id= (the busiest user of that store has 115,000 threads, which the page
    // sorted whole), and the users' own rows (thread_id ''), which the users view found by
    // reading every thread's row (2M rows: 0.2 s for /api/users' count alone).
    R"sql(
    CREATE INDEX interaction_counts_threads_by_user_last
      ON interaction_counts(user_id, last_us, n, first_us) WHERE thread_id <> '';
    -- The threads by last activity carry what the busiest threads of a range need (their count
    -- and first time), so that stats' sample of the 5,000 latest reads no table row.
    DROP INDEX interaction_counts_threads_by_last;
    CREATE INDEX interaction_counts_threads_by_last ON interaction_counts(last_us, n, first_us)
      WHERE thread_id <> '';
    CREATE INDEX interaction_counts_users ON interaction_counts(last_us, user_id, n, first_us)
      WHERE thread_id = '';

    CREATE TABLE stats_user_threads(
      user_id TEXT PRIMARY KEY,
      threads INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO stats_user_threads(user_id, threads)
      SELECT user_id, count(*) FROM interaction_counts WHERE thread_id <> '' GROUP BY user_id;
    CREATE TRIGGER stats_user_threads_add AFTER INSERT ON interaction_counts
    WHEN new.thread_id <> '' BEGIN
      INSERT INTO stats_user_threads(user_id, threads) VALUES(new.user_id, 1)
        ON CONFLICT(user_id) DO UPDATE SET threads = threads + 1;
    END;
    CREATE TRIGGER stats_user_threads_remove AFTER DELETE ON interaction_counts
    WHEN old.thread_id <> '' BEGIN
      UPDATE stats_user_threads SET threads = threads - 1 WHERE user_id = old.user_id;
      DELETE FROM stats_user_threads WHERE user_id = old.user_id AND threads <= 0;
    END;

    CREATE TABLE stats_thread_hours(
      edge INTEGER NOT NULL,
      hour_us INTEGER NOT NULL,
      threads INTEGER NOT NULL,
      PRIMARY KEY(edge, hour_us)) WITHOUT ROWID;
    INSERT INTO stats_thread_hours(edge, hour_us, threads)
      SELECT 0, last_us - last_us % 3600000000, count(*) FROM interaction_counts
      WHERE thread_id <> '' AND last_us IS NOT NULL GROUP BY 2;
    INSERT INTO stats_thread_hours(edge, hour_us, threads)
      SELECT 1, first_us - first_us % 3600000000, count(*) FROM interaction_counts
      WHERE thread_id <> '' AND first_us IS NOT NULL GROUP BY 2;
    CREATE TRIGGER stats_thread_hours_add AFTER INSERT ON interaction_counts
    WHEN new.thread_id <> '' AND new.last_us IS NOT NULL BEGIN
      INSERT INTO stats_thread_hours(edge, hour_us, threads)
        SELECT 0, new.last_us - new.last_us % 3600000000, 1 WHERE 1
        UNION ALL
        SELECT 1, new.first_us - new.first_us % 3600000000, 1 WHERE new.first_us IS NOT NULL
        ON CONFLICT(edge, hour_us) DO UPDATE SET threads = threads + 1;
    END;
    CREATE TRIGGER stats_thread_hours_move AFTER UPDATE OF first_us, last_us ON interaction_counts
    WHEN new.thread_id <> '' AND (
      old.last_us IS NULL OR new.last_us IS NULL OR old.first_us IS NULL OR new.first_us IS NULL
      OR old.last_us - old.last_us % 3600000000 <> new.last_us - new.last_us % 3600000000
      OR old.first_us - old.first_us % 3600000000 <> new.first_us - new.first_us % 3600000000)
    BEGIN
      UPDATE stats_thread_hours SET threads = threads - 1
        WHERE (edge = 0 AND old.last_us IS NOT NULL AND hour_us = old.last_us - old.last_us % 3600000000)
           OR (edge = 1 AND old.first_us IS NOT NULL AND hour_us = old.first_us - old.first_us % 3600000000);
      INSERT INTO stats_thread_hours(edge, hour_us, threads)
        SELECT 0, new.last_us - new.last_us % 3600000000, 1 WHERE new.last_us IS NOT NULL
        UNION ALL
        SELECT 1, new.first_us - new.first_us % 3600000000, 1 WHERE new.first_us IS NOT NULL
        ON CONFLICT(edge, hour_us) DO UPDATE SET threads = threads + 1;
      DELETE FROM stats_thread_hours WHERE threads <= 0 AND (
        (edge = 0 AND hour_us = old.last_us - old.last_us % 3600000000)
        OR (edge = 1 AND hour_us = old.first_us - old.first_us % 3600000000));
    END;
    CREATE TRIGGER stats_thread_hours_remove AFTER DELETE ON interaction_counts
    WHEN old.thread_id <> '' BEGIN
      UPDATE stats_thread_hours SET threads = threads - 1
        WHERE (edge = 0 AND old.last_us IS NOT NULL AND hour_us = old.last_us - old.last_us % 3600000000)
           OR (edge = 1 AND old.first_us IS NOT NULL AND hour_us = old.first_us - old.first_us % 3600000000);
      DELETE FROM stats_thread_hours WHERE threads <= 0 AND (
        (edge = 0 AND hour_us = old.last_us - old.last_us % 3600000000)
        OR (edge = 1 AND hour_us = old.first_us - old.first_us % 3600000000));
    END;

    CREATE TABLE stats_usage_daily_users(
      day_us INTEGER NOT NULL,
      user_id TEXT NOT NULL,
      interactions INTEGER NOT NULL,
      input INTEGER NOT NULL,
      cached_input INTEGER NOT NULL,
      output INTEGER NOT NULL,
      reasoning INTEGER NOT NULL,
      cost_nanos INTEGER NOT NULL,
      unpriced INTEGER NOT NULL,
      PRIMARY KEY(day_us, user_id)) WITHOUT ROWID;
    INSERT INTO stats_usage_daily_users
      SELECT hour_us - hour_us % 86400000000, user_id, sum(interactions), sum(input),
             sum(cached_input), sum(output), sum(reasoning), sum(cost_nanos), sum(unpriced)
      FROM stats_usage_hourly WHERE user_id <> '' GROUP BY 1, 2;
    CREATE TABLE stats_usage_users(
      user_id TEXT PRIMARY KEY,
      interactions INTEGER NOT NULL,
      input INTEGER NOT NULL,
      cached_input INTEGER NOT NULL,
      output INTEGER NOT NULL,
      reasoning INTEGER NOT NULL,
      cost_nanos INTEGER NOT NULL,
      unpriced INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO stats_usage_users
      SELECT user_id, sum(interactions), sum(input), sum(cached_input), sum(output),
             sum(reasoning), sum(cost_nanos), sum(unpriced)
      FROM stats_usage_hourly WHERE user_id <> '' GROUP BY 1;
    CREATE TRIGGER stats_usage_daily_users_add AFTER INSERT ON stats_usage_hourly
    WHEN new.user_id <> '' BEGIN
      INSERT INTO stats_usage_daily_users VALUES(new.hour_us - new.hour_us % 86400000000,
        new.user_id, new.interactions, new.input, new.cached_input, new.output, new.reasoning,
        new.cost_nanos, new.unpriced)
        ON CONFLICT(day_us, user_id) DO UPDATE SET
          interactions = interactions + excluded.interactions, input = input + excluded.input,
          cached_input = cached_input + excluded.cached_input, output = output + excluded.output,
          reasoning = reasoning + excluded.reasoning,
          cost_nanos = cost_nanos + excluded.cost_nanos, unpriced = unpriced + excluded.unpriced;
      INSERT INTO stats_usage_users VALUES(new.user_id, new.interactions, new.input,
        new.cached_input, new.output, new.reasoning, new.cost_nanos, new.unpriced)
        ON CONFLICT(user_id) DO UPDATE SET
          interactions = interactions + excluded.interactions, input = input + excluded.input,
          cached_input = cached_input + excluded.cached_input, output = output + excluded.output,
          reasoning = reasoning + excluded.reasoning,
          cost_nanos = cost_nanos + excluded.cost_nanos, unpriced = unpriced + excluded.unpriced;
    END;
    CREATE TRIGGER stats_usage_daily_users_change AFTER UPDATE ON stats_usage_hourly
    WHEN new.user_id <> '' BEGIN
      UPDATE stats_usage_daily_users SET
        interactions = interactions + new.interactions - old.interactions,
        input = input + new.input - old.input,
        cached_input = cached_input + new.cached_input - old.cached_input,
        output = output + new.output - old.output,
        reasoning = reasoning + new.reasoning - old.reasoning,
        cost_nanos = cost_nanos + new.cost_nanos - old.cost_nanos,
        unpriced = unpriced + new.unpriced - old.unpriced
      WHERE day_us = new.hour_us - new.hour_us % 86400000000 AND user_id = new.user_id;
      UPDATE stats_usage_users SET
        interactions = interactions + new.interactions - old.interactions,
        input = input + new.input - old.input,
        cached_input = cached_input + new.cached_input - old.cached_input,
        output = output + new.output - old.output,
        reasoning = reasoning + new.reasoning - old.reasoning,
        cost_nanos = cost_nanos + new.cost_nanos - old.cost_nanos,
        unpriced = unpriced + new.unpriced - old.unpriced
      WHERE user_id = new.user_id;
    END;
    CREATE TRIGGER stats_usage_daily_users_remove AFTER DELETE ON stats_usage_hourly
    WHEN old.user_id <> '' BEGIN
      UPDATE stats_usage_daily_users SET
        interactions = interactions - old.interactions, input = input - old.input,
        cached_input = cached_input - old.cached_input, output = output - old.output,
        reasoning = reasoning - old.reasoning, cost_nanos = cost_nanos - old.cost_nanos,
        unpriced = unpriced - old.unpriced
      WHERE day_us = old.hour_us - old.hour_us % 86400000000 AND user_id = old.user_id;
      DELETE FROM stats_usage_daily_users
      WHERE day_us = old.hour_us - old.hour_us % 86400000000 AND user_id = old.user_id
        AND interactions <= 0;
      UPDATE stats_usage_users SET
        interactions = interactions - old.interactions, input = input - old.input,
        cached_input = cached_input - old.cached_input, output = output - old.output,
        reasoning = reasoning - old.reasoning, cost_nanos = cost_nanos - old.cost_nanos,
        unpriced = unpriced - old.unpriced
      WHERE user_id = old.user_id;
      DELETE FROM stats_usage_users WHERE user_id = old.user_id AND interactions <= 0;
    END;

    CREATE TABLE stats_feedback_hourly(
      user_id TEXT NOT NULL,
      hour_us INTEGER NOT NULL,
      n INTEGER NOT NULL,
      positive INTEGER NOT NULL,
      neutral INTEGER NOT NULL,
      negative INTEGER NOT NULL,
      score_sum REAL NOT NULL,
      PRIMARY KEY(user_id, hour_us)) WITHOUT ROWID;
    INSERT INTO stats_feedback_hourly
      SELECT user_id, ts_us - ts_us % 3600000000, count(*), sum(score >= 0.5),
             sum(score >= 0 AND score < 0.5), sum(score < 0), sum(score)
      FROM feedback GROUP BY 1, 2;
    INSERT INTO stats_feedback_hourly
      SELECT '', ts_us - ts_us % 3600000000, count(*), sum(score >= 0.5),
             sum(score >= 0 AND score < 0.5), sum(score < 0), sum(score)
      FROM feedback GROUP BY 2;
    CREATE TRIGGER stats_feedback_hourly_add AFTER INSERT ON feedback BEGIN
      INSERT INTO stats_feedback_hourly
        SELECT u, new.ts_us - new.ts_us % 3600000000, 1, new.score >= 0.5,
               new.score >= 0 AND new.score < 0.5, new.score < 0, new.score
        FROM (SELECT new.user_id AS u UNION ALL SELECT '') WHERE 1
        ON CONFLICT(user_id, hour_us) DO UPDATE SET n = n + 1,
          positive = positive + excluded.positive, neutral = neutral + excluded.neutral,
          negative = negative + excluded.negative, score_sum = score_sum + excluded.score_sum;
    END;
    CREATE TRIGGER stats_feedback_hourly_change AFTER UPDATE OF score ON feedback BEGIN
      UPDATE stats_feedback_hourly SET
        positive = positive + (new.score >= 0.5) - (old.score >= 0.5),
        neutral = neutral + (new.score >= 0 AND new.score < 0.5) - (old.score >= 0 AND old.score < 0.5),
        negative = negative + (new.score < 0) - (old.score < 0),
        score_sum = score_sum + new.score - old.score
      WHERE user_id IN (new.user_id, '') AND hour_us = new.ts_us - new.ts_us % 3600000000;
    END;
    CREATE TRIGGER stats_feedback_hourly_remove AFTER DELETE ON feedback BEGIN
      UPDATE stats_feedback_hourly SET n = n - 1, positive = positive - (old.score >= 0.5),
        neutral = neutral - (old.score >= 0 AND old.score < 0.5),
        negative = negative - (old.score < 0), score_sum = score_sum - old.score
      WHERE user_id IN (old.user_id, '') AND hour_us = old.ts_us - old.ts_us % 3600000000;
      DELETE FROM stats_feedback_hourly
      WHERE user_id IN (old.user_id, '') AND hour_us = old.ts_us - old.ts_us % 3600000000 AND n <= 0;
    END;
    )sql",
};

}  // namespace

Result<MigrationReport> MigrateSqlite(sqlite::Db& db) {
  Status s = db.Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations("
      "version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  if (!s.ok()) return s;
  MigrationReport report;
  const int64_t count = static_cast<int64_t>(std::size(kMigrations));
  for (int64_t version = 1; version <= count; ++version) {
    s = db.Exec("BEGIN IMMEDIATE");
    if (!s.ok()) return s;
    Result<sqlite::Stmt> seen = db.Prepare("SELECT 1 FROM schema_migrations WHERE version = ?1");
    if (!seen.ok()) {
      (void)db.Exec("ROLLBACK");
      return seen.status();
    }
    seen->Bind(1, version);
    Result<bool> applied = seen->Step();
    if (applied.ok() && !*applied) {
      ++report.applied;
      s = db.Exec(kMigrations[version - 1]);
      if (s.ok()) {
        Result<sqlite::Stmt> record = db.Prepare(
            "INSERT INTO schema_migrations(version, applied_at) "
            "VALUES(?1, strftime('%Y-%m-%dT%H:%M:%fZ','now'))");
        s = record.ok() ? (record->Bind(1, version), record->Run()) : record.status();
      }
    } else if (!applied.ok()) {
      s = applied.status();
    }
    seen = sqlite::Stmt();
    if (!s.ok()) {
      (void)db.Exec("ROLLBACK");
      return Status(IsTransient(s.code())
                        ? Status::Unavailable("migration " + std::to_string(version) + ": " + s.message())
                        : Status::Internal("migration " + std::to_string(version) + ": " + s.message()));
    }
    s = db.Exec("COMMIT");
    if (!s.ok()) return s;
  }
  Result<sqlite::Stmt> version = db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!version.ok()) return version.status();
  Result<bool> row = version->Step();
  if (!row.ok()) return row.status();
  report.version = static_cast<int>(version->Int(0));
  return report;
}

}  // namespace omniflow
