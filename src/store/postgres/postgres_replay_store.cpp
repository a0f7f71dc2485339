#include "store/postgres/postgres_replay_store.h"

#include <string>
#include <vector>

#include "store/paging.h"
#include "store/replay_sql.h"

namespace omniflow {

namespace {

std::string InfoSelect(const char* where) {
  return std::string("SELECT ") + replay_sql::kInfoColumns + " FROM replays r " + where;
}

}  // namespace

Result<std::vector<pg::Res>> PostgresReplayStore::Run(const std::vector<pg::Query>& queries) {
  Result<pg::Pool::Lease> conn = pool_->Acquire();
  if (!conn.ok()) return conn.status();
  return (*conn)->Transaction(queries);
}

Status PostgresReplayStore::Create(const ReplayInfo& info) {
  if (Status s = ValidateReplayInfo(info); !s.ok()) return s;
  Result<std::vector<pg::Res>> done = Run(
      {{"INSERT INTO replays(replay_id, name, actor, spec_json, state, created_us) "
        "VALUES($1, $2, $3, $4, 'selecting', $5::bigint)",
        {info.replay_id, info.name, info.actor, info.spec_json, std::to_string(info.created_us)}}});
  return done.status();
}

Status PostgresReplayStore::AddTargets(const std::string& replay_id,
                                       std::span<const ReplayTarget> targets,
                                       const std::map<std::string, std::string>& snapshots) {
  pg::ArrayLiteral item_no, user_id, interaction_id, ts_us, original;
  pg::ArrayLiteral usage[6];  // the originals' usage columns, as replay_sql::UsageValues
  for (const ReplayTarget& t : targets) {
    item_no.Add(t.item_no);
    user_id.Add(t.user_id);
    interaction_id.Add(t.interaction_id);
    ts_us.Add(t.ts_us);
    original.Add(t.original_json);
    std::vector<std::optional<std::string>> values = replay_sql::UsageValues(t.original_usage);
    for (size_t i = 0; i < values.size(); ++i) {
      values[i] ? usage[i].Add(*values[i]) : usage[i].AddNull();
    }
  }
  pg::ArrayLiteral snapshot_user, snapshot_documents;
  for (const auto& [user, documents] : snapshots) {
    snapshot_user.Add(user);
    snapshot_documents.Add(documents);
  }
  // The items and snapshots go in only when the state moved: a replay gets its items once.
  Result<std::vector<pg::Res>> done =
      Run({{"SELECT state FROM replays WHERE replay_id = $1 FOR UPDATE", {replay_id}},
           {"WITH moved AS (UPDATE replays SET state = 'running' WHERE replay_id = $1 "
            "AND state = 'selecting' RETURNING replay_id), "
            "snapshots AS (INSERT INTO replay_snapshots(replay_id, user_id, documents) "
            "SELECT m.replay_id, s.* FROM moved m, unnest($13::text[], $14::text[]) AS s) "
            "INSERT INTO replay_items(replay_id, item_no, user_id, interaction_id, ts_us, "
            "original_json, original_usage_model, original_input_tokens, "
            "original_cached_input_tokens, original_output_tokens, original_reasoning_tokens, "
            "original_cost_nanos) SELECT m.replay_id, t.* FROM moved m, unnest($2::bigint[], "
            "$3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::bigint[], "
            "$9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[]) AS t",
            {replay_id, std::move(item_no).Take(), std::move(user_id).Take(),
             std::move(interaction_id).Take(), std::move(ts_us).Take(), std::move(original).Take(),
             std::move(usage[0]).Take(), std::move(usage[1]).Take(), std::move(usage[2]).Take(),
             std::move(usage[3]).Take(), std::move(usage[4]).Take(), std::move(usage[5]).Take(),
             std::move(snapshot_user).Take(), std::move(snapshot_documents).Take()}}});
  if (!done.ok()) return done.status();
  const pg::Res& state = (*done)[0];
  if (state.rows() == 0) return Status::NotFound("no replay " + replay_id);
  if (state.Text(0, 0) != "selecting") {
    return Status::FailedPrecondition("replay " + replay_id + " has its items already");
  }
  return Status::Ok();
}

Result<std::map<std::string, std::string>> PostgresReplayStore::Snapshots(
    const std::string& replay_id) {
  Result<std::vector<pg::Res>> done =
      Run({{"SELECT user_id, documents FROM replay_snapshots WHERE replay_id = $1", {replay_id}}});
  if (!done.ok()) return done.status();
  const pg::Res& rows = (*done)[0];
  std::map<std::string, std::string> out;
  for (int i = 0; i < rows.rows(); ++i) out.emplace(rows.Text(i, 0), rows.Text(i, 1));
  return out;
}

Result<std::vector<ReplayTarget>> PostgresReplayStore::Pending(const std::string& replay_id,
                                                               int limit) {
  Result<std::vector<pg::Res>> done =
      Run({{std::string("SELECT ") + replay_sql::kItemColumns +
                " FROM replay_items WHERE replay_id = $1 AND result_json IS NULL "
                "ORDER BY item_no LIMIT $2::bigint",
            {replay_id, std::to_string(limit)}}});
  if (!done.ok()) return done.status();
  const pg::Res& rows = (*done)[0];
  std::vector<ReplayTarget> out;
  for (int i = 0; i < rows.rows(); ++i) out.push_back(replay_sql::ReadItem(pg::Row{rows, i}).target);
  return out;
}

Result<bool> PostgresReplayStore::SaveResult(const std::string& replay_id, int64_t item_no,
                                             const ReplayResult& result) {
  std::vector<std::optional<std::string>> params = {replay_id, std::to_string(item_no),
                                                    result.result_json};
  for (int64_t n : replay_sql::ResultNumbers(result)) params.push_back(std::to_string(n));
  for (std::optional<std::string>& v : replay_sql::UsageValues(result.usage)) {
    params.push_back(std::move(v));
  }
  Result<std::vector<pg::Res>> done =
      Run({{"WITH saved AS (UPDATE replay_items SET result_json = $3, changed = $4::integer, "
            "fixed = $5::integer, introduced = $6::integer, same_tools = $7::integer, "
            "error = $8::integer, latency_ms = $9::bigint, original_latency_ms = $10::bigint, "
            "tokens = $11::bigint, original_tokens = $12::bigint, usage_model = $13, "
            "input_tokens = $14::bigint, cached_input_tokens = $15::bigint, "
            "output_tokens = $16::bigint, reasoning_tokens = $17::bigint, "
            "cost_nanos = $18::bigint WHERE replay_id = $1 AND "
            "item_no = $2::bigint AND result_json IS NULL RETURNING 1) SELECT count(*) FROM saved",
            std::move(params)}});
  if (!done.ok()) return done.status();
  return (*done)[0].Int(0, 0) > 0;
}

Status PostgresReplayStore::Finish(const std::string& replay_id, const std::string& state,
                                   const std::string& error, int64_t finished_us) {
  Result<std::vector<pg::Res>> done =
      Run({{"WITH f AS (UPDATE replays SET state = $2, error = $3, finished_us = $4::bigint "
            "WHERE replay_id = $1 RETURNING 1) SELECT count(*) FROM f",
            {replay_id, state, error, std::to_string(finished_us)}}});
  if (!done.ok()) return done.status();
  if ((*done)[0].Int(0, 0) == 0) return Status::NotFound("no replay " + replay_id);
  return Status::Ok();
}

Result<ReplayInfo> PostgresReplayStore::Get(const std::string& replay_id) {
  Result<std::vector<pg::Res>> done = Run({{InfoSelect("WHERE r.replay_id = $1"), {replay_id}}});
  if (!done.ok()) return done.status();
  const pg::Res& rows = (*done)[0];
  if (rows.rows() == 0) return Status::NotFound("no replay with that id");
  return replay_sql::ReadInfo(pg::Row{rows, 0});
}

Result<std::vector<ReplayInfo>> PostgresReplayStore::List(int limit) {
  if (limit < 1 || limit > 1000) return Status::InvalidArgument("limit must be 1..1000");
  Result<std::vector<pg::Res>> done =
      Run({{InfoSelect("ORDER BY r.created_us DESC, r.replay_id DESC LIMIT $1::bigint"),
            {std::to_string(limit)}}});
  if (!done.ok()) return done.status();
  const pg::Res& rows = (*done)[0];
  std::vector<ReplayInfo> out;
  for (int i = 0; i < rows.rows(); ++i) out.push_back(replay_sql::ReadInfo(pg::Row{rows, i}));
  return out;
}

Result<ReplaySummary> PostgresReplayStore::Summarize(const std::string& replay_id) {
  Result<std::vector<pg::Res>> done =
      Run({{std::string("SELECT ") + replay_sql::kSummaryColumns +
                " FROM replay_items WHERE replay_id = $1 AND result_json IS NOT NULL",
            {replay_id}}});
  if (!done.ok()) return done.status();
  return replay_sql::ReadSummary(pg::Row{(*done)[0], 0});
}

Result<ReplayItemsPage> PostgresReplayStore::Items(const ReplayItemsQuery& query) {
  if (Status s = ValidateReplayItemsQuery(query); !s.ok()) return s;
  std::string sql = std::string("SELECT ") + replay_sql::kItemColumns +
                    " FROM replay_items WHERE replay_id = $1 AND result_json IS NOT NULL"
                    " AND item_no > $2::bigint";
  if (query.changed_only) sql += " AND changed = 1";
  sql += " ORDER BY item_no LIMIT " + std::to_string(FetchLimit(query.limit));
  Result<std::vector<pg::Res>> done =
      Run({{"SELECT 1 FROM replays WHERE replay_id = $1", {query.replay_id}},
           {sql, {query.replay_id, std::to_string(query.after_item.value_or(-1))}}});
  if (!done.ok()) return done.status();
  if ((*done)[0].rows() == 0) return Status::NotFound("no replay with that id");
  const pg::Res& rows = (*done)[1];
  ReplayItemsPage page;
  const int shown = RowsOnPage(rows.rows(), query.limit, &page.has_more);
  for (int i = 0; i < shown; ++i) page.items.push_back(replay_sql::ReadItem(pg::Row{rows, i}));
  if (page.has_more && !page.items.empty()) page.next = page.items.back().target.item_no;
  return page;
}

Status PostgresReplayStore::Delete(const std::string& replay_id) {
  Result<std::vector<pg::Res>> done =
      Run({{"DELETE FROM replay_items WHERE replay_id = $1", {replay_id}},
           {"DELETE FROM replay_snapshots WHERE replay_id = $1", {replay_id}},
           {"WITH gone AS (DELETE FROM replays WHERE replay_id = $1 RETURNING 1) "
            "SELECT count(*) FROM gone",
            {replay_id}}});
  if (!done.ok()) return done.status();
  if ((*done)[2].Int(0, 0) == 0) return Status::NotFound("no replay with that id");
  return Status::Ok();
}

}  // namespace omniflow
