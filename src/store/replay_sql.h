// What both engines' ReplayStores share: the column lists they select and how a row becomes a
// ReplayInfo, ReplayItem or ReplaySummary. `Row` is any reader with Text(col), Int(col) and
// IsNull(col) (a sqlite::Stmt, or a pg::Res row through PgRow).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/replay_store.h"
#include "store/usage_sums.h"

namespace omniflow::replay_sql {

// SELECT kInfoColumns FROM replays r ... (the two counts are correlated subqueries).
inline constexpr const char* kInfoColumns =
    "r.replay_id, r.name, r.actor, r.spec_json, r.state, r.error, r.created_us, r.finished_us, "
    "(SELECT count(*) FROM replay_items i WHERE i.replay_id = r.replay_id), "
    "(SELECT count(i.result_json) FROM replay_items i WHERE i.replay_id = r.replay_id)";

inline constexpr const char* kItemColumns =
    "item_no, user_id, interaction_id, ts_us, original_json, result_json, changed, fixed, "
    "introduced, same_tools, error, latency_ms, original_latency_ms, tokens, original_tokens, "
    "original_usage_model, original_input_tokens, original_cached_input_tokens, "
    "original_output_tokens, original_reasoning_tokens, original_cost_nanos, usage_model, "
    "input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, cost_nanos";

inline constexpr const char* kSummaryColumns =
    "count(result_json), COALESCE(sum(changed), 0), COALESCE(sum(fixed), 0), "
    "COALESCE(sum(introduced), 0), COALESCE(sum(same_tools), 0), COALESCE(sum(error), 0), "
    "COALESCE(sum(latency_ms), 0), COALESCE(sum(original_latency_ms), 0), "
    "COALESCE(sum(tokens), 0), COALESCE(sum(original_tokens), 0), "
    // The originals' usage, then the replays', as stats sums it (store/analytics_store.h).
    "count(original_input_tokens), COALESCE(sum(original_input_tokens), 0), "
    "COALESCE(sum(original_cached_input_tokens), 0), COALESCE(sum(original_output_tokens), 0), "
    "COALESCE(sum(original_reasoning_tokens), 0), COALESCE(sum(original_cost_nanos), 0), "
    "count(original_input_tokens) - count(original_cost_nanos), "
    "count(input_tokens), COALESCE(sum(input_tokens), 0), COALESCE(sum(cached_input_tokens), 0), "
    "COALESCE(sum(output_tokens), 0), COALESCE(sum(reasoning_tokens), 0), "
    "COALESCE(sum(cost_nanos), 0), count(input_tokens) - count(cost_nanos)";

// A side's usage from the six columns at `from` (model, input, cached_input, output,
// reasoning, cost): none when its input count is NULL, no cost when its cost is NULL.
template <class Row>
std::optional<StoredUsage> ReadUsage(const Row& row, int from) {
  if (row.IsNull(from + 1)) return std::nullopt;
  StoredUsage u;
  if (!row.IsNull(from)) u.model = std::string(row.Text(from));
  u.tokens = TokenUsage{row.Int(from + 1), row.Int(from + 2), row.Int(from + 3), row.Int(from + 4)};
  if (!row.IsNull(from + 5)) u.cost_nanos = row.Int(from + 5);
  return u;
}

// A side's usage as six column values (model, four counts, cost) in text, nullopt for NULL:
// all NULL without usage, the cost NULL without a price.
inline std::vector<std::optional<std::string>> UsageValues(const std::optional<StoredUsage>& u) {
  if (!u) return std::vector<std::optional<std::string>>(6);
  return {
      u->model,
      std::to_string(u->tokens.input),
      std::to_string(u->tokens.cached_input),
      std::to_string(u->tokens.output),
      std::to_string(u->tokens.reasoning),
      u->cost_nanos ? std::optional<std::string>(std::to_string(*u->cost_nanos)) : std::nullopt};
}

template <class Row>
ReplayInfo ReadInfo(const Row& row) {
  ReplayInfo info;
  info.replay_id = std::string(row.Text(0));
  info.name = std::string(row.Text(1));
  info.actor = std::string(row.Text(2));
  info.spec_json = std::string(row.Text(3));
  info.state = std::string(row.Text(4));
  info.error = std::string(row.Text(5));
  info.created_us = row.Int(6);
  info.finished_us = row.Int(7);
  info.total = row.Int(8);
  info.done = row.Int(9);
  return info;
}

template <class Row>
ReplayItem ReadItem(const Row& row) {
  ReplayItem item;
  item.target.item_no = row.Int(0);
  item.target.user_id = std::string(row.Text(1));
  item.target.interaction_id = std::string(row.Text(2));
  item.target.ts_us = row.Int(3);
  item.target.original_json = std::string(row.Text(4));
  item.target.original_usage = ReadUsage(row, 15);
  if (!row.IsNull(5)) {
    ReplayResult r;
    r.result_json = std::string(row.Text(5));
    r.changed = row.Int(6) != 0;
    r.fixed = row.Int(7) != 0;
    r.introduced = row.Int(8) != 0;
    r.same_tools = row.Int(9) != 0;
    r.error = row.Int(10) != 0;
    r.latency_ms = row.Int(11);
    r.original_latency_ms = row.Int(12);
    r.tokens = row.Int(13);
    r.original_tokens = row.Int(14);
    r.usage = ReadUsage(row, 21);
    item.result = std::move(r);
  }
  return item;
}

template <class Row>
ReplaySummary ReadSummary(const Row& row) {
  ReplaySummary s;
  s.replayed = row.Int(0);
  s.changed = row.Int(1);
  s.fixed = row.Int(2);
  s.introduced = row.Int(3);
  s.same_tools = row.Int(4);
  s.errors = row.Int(5);
  s.latency_ms = row.Int(6);
  s.original_latency_ms = row.Int(7);
  s.tokens = row.Int(8);
  s.original_tokens = row.Int(9);
  s.original_usage = ReadUsageSums(row, 10);
  s.usage = ReadUsageSums(row, 17);
  return s;
}

// The result's columns, in kItemColumns' order from `changed` on, as integers.
inline std::vector<int64_t> ResultNumbers(const ReplayResult& r) {
  return {r.changed,        r.fixed,      r.introduced,          r.same_tools,
          r.error,          r.latency_ms, r.original_latency_ms, r.tokens,
          r.original_tokens};
}

}  // namespace omniflow::replay_sql
