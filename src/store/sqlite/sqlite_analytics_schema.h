// The analytics part of the SQLite schema (migration 3): a trigram full-text index over user
// messages and assistant responses, and aggregates kept by the writer in the same transaction
// as each insert (per hour, per tool; first and last activity of each user and thread), plus
// feedback. Existing rows are
// back-filled when the migration runs.
#pragma once

namespace omniflow {

inline constexpr char kAnalyticsMigrationSql[] = R"sql(
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
)sql";

}  // namespace omniflow
