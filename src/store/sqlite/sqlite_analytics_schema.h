// The analytics part of the SQLite schema (migration 3): a trigram full-text index over user
// messages and assistant responses, and aggregates kept by the writer in the same transaction
// as each insert (per hour, per tool, per thread, per user), plus feedback. Existing rows are
// back-filled when the migration runs.
#pragma once

namespace omniflow {

inline constexpr char kAnalyticsMigrationSql[] = R"sql(
CREATE INDEX interactions_by_time ON interactions(ts_us, interaction_id);
CREATE INDEX interactions_failed_by_time ON interactions(ts_us, interaction_id)
  WHERE tool_failures > 0;
-- Contentless: the text lives in interactions.body; the index alone costs ~the text size.
CREATE VIRTUAL TABLE interactions_fts USING fts5(
  user_message, assistant_response, content='', tokenize='trigram');
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
CREATE INDEX stats_hourly_users ON stats_hourly(hour_us, user_id) WHERE user_id <> '';
CREATE TABLE stats_tools_hourly(
  user_id TEXT NOT NULL,
  hour_us INTEGER NOT NULL,
  tool_name TEXT NOT NULL,
  calls INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  PRIMARY KEY(user_id, hour_us, tool_name)) WITHOUT ROWID;
CREATE TABLE threads(
  user_id TEXT NOT NULL,
  thread_id TEXT NOT NULL,
  n INTEGER NOT NULL,
  first_us INTEGER NOT NULL,
  last_us INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq INTEGER NOT NULL,
  PRIMARY KEY(user_id, thread_id)) WITHOUT ROWID;
CREATE INDEX threads_by_last ON threads(last_us);
CREATE INDEX threads_by_user_last ON threads(user_id, last_us);
CREATE TABLE users(
  user_id TEXT PRIMARY KEY,
  n INTEGER NOT NULL,
  first_us INTEGER NOT NULL,
  last_us INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX users_by_last ON users(last_us);
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
INSERT INTO stats_tools_hourly(user_id, hour_us, tool_name, calls, failures)
  SELECT i.user_id, i.ts_us - i.ts_us % 3600000000, json_extract(t.value, '$.tool_name'),
         count(*), sum(coalesce(json_extract(t.value, '$.status'), 'success') <> 'success')
  FROM interactions i, json_each(i.body, '$.tool_calls') t GROUP BY 1, 2, 3;
INSERT INTO stats_tools_hourly(user_id, hour_us, tool_name, calls, failures)
  SELECT '', hour_us, tool_name, sum(calls), sum(failures)
  FROM stats_tools_hourly GROUP BY 2, 3;
INSERT INTO threads(user_id, thread_id, n, first_us, last_us, first_seq, last_seq)
  SELECT user_id, thread_id, count(*), min(ts_us), max(ts_us), 0, 0
  FROM interactions WHERE thread_id IS NOT NULL GROUP BY 1, 2;
UPDATE threads SET
  first_seq = (SELECT seq FROM interactions i WHERE i.user_id = threads.user_id
               AND i.thread_id = threads.thread_id ORDER BY ts_us, interaction_id LIMIT 1),
  last_seq = (SELECT seq FROM interactions i WHERE i.user_id = threads.user_id
              AND i.thread_id = threads.thread_id ORDER BY ts_us DESC, interaction_id DESC LIMIT 1);
INSERT INTO users(user_id, n, first_us, last_us)
  SELECT user_id, count(*), min(ts_us), max(ts_us) FROM interactions GROUP BY 1;
)sql";

}  // namespace omniflow
