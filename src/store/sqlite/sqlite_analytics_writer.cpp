#include "store/sqlite/sqlite_analytics_writer.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include "store/analytics_stats.h"

namespace omniflow {

namespace {

// Counts one more interaction at (ts_us, seq) into a span that may be `fresh` (empty).
template <typename SpanT>
void Widen(SpanT* span, int64_t ts_us, int64_t seq, bool fresh) {
  ++span->n;
  if (fresh || ts_us < span->first_us) span->first_us = ts_us, span->first_seq = seq;
  if (fresh || ts_us >= span->last_us) span->last_us = ts_us, span->last_seq = seq;
}

}  // namespace

Status SqliteAnalyticsWriter::Prepare(sqlite::Db& db) {
  struct {
    sqlite::Stmt* stmt;
    const char* sql;
  } statements[] = {
      {&tool_,
       "INSERT INTO interaction_tools(tool_name, ts_us, seq, failed) VALUES(?1, ?2, ?3, ?4) "
       "ON CONFLICT(tool_name, ts_us, seq) DO UPDATE SET failed = max(failed, excluded.failed)"},
      {&hourly_,
       "INSERT INTO stats_hourly(user_id, hour_us, interactions, tool_calls, tool_failures) "
       "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(user_id, hour_us) DO UPDATE SET "
       "interactions = interactions + excluded.interactions, "
       "tool_calls = tool_calls + excluded.tool_calls, "
       "tool_failures = tool_failures + excluded.tool_failures"},
      {&daily_users_,
       "INSERT INTO stats_daily_users(day_us, user_id, interactions) VALUES(?1, ?2, ?3) "
       "ON CONFLICT(day_us, user_id) DO UPDATE SET "
       "interactions = interactions + excluded.interactions"},
      {&tools_hourly_,
       "INSERT INTO stats_tools_hourly(user_id, hour_us, tool_name, calls, failures) "
       "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(user_id, hour_us, tool_name) DO UPDATE SET "
       "calls = calls + excluded.calls, failures = failures + excluded.failures"},
      {&usage_hourly_,
       "INSERT INTO stats_usage_hourly(user_id, hour_us, model, interactions, input, "
       "cached_input, output, reasoning, cost_nanos, unpriced) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
       "ON CONFLICT(user_id, hour_us, model) DO UPDATE SET "
       "interactions = interactions + excluded.interactions, input = input + excluded.input, "
       "cached_input = cached_input + excluded.cached_input, output = output + excluded.output, "
       "reasoning = reasoning + excluded.reasoning, "
       "cost_nanos = cost_nanos + excluded.cost_nanos, unpriced = unpriced + excluded.unpriced"},
      {&usage_hourly_zero_,
       "DELETE FROM stats_usage_hourly WHERE user_id = ?1 AND hour_us = ?2 AND model = ?3 "
       "AND interactions <= 0"},
      {&untool_,
       "DELETE FROM interaction_tools WHERE tool_name = ?1 AND ts_us = ?2 AND seq = ?3"},
      {&hourly_zero_,
       "DELETE FROM stats_hourly WHERE user_id = ?1 AND hour_us = ?2 AND interactions <= 0"},
      {&daily_users_zero_,
       "DELETE FROM stats_daily_users WHERE day_us = ?1 AND user_id = ?2 AND interactions <= 0"},
      {&tools_hourly_zero_,
       "DELETE FROM stats_tools_hourly WHERE user_id = ?1 AND hour_us = ?2 AND tool_name = ?3 "
       "AND calls <= 0"},
      {&span_,
       "UPDATE interaction_counts SET "
       "first_seq = CASE WHEN first_us IS NULL OR ?3 < first_us THEN ?4 ELSE first_seq END, "
       "first_us = CASE WHEN first_us IS NULL OR ?3 < first_us THEN ?3 ELSE first_us END, "
       "last_seq = CASE WHEN last_us IS NULL OR ?5 >= last_us THEN ?6 ELSE last_seq END, "
       "last_us = CASE WHEN last_us IS NULL OR ?5 >= last_us THEN ?5 ELSE last_us END "
       "WHERE user_id = ?1 AND thread_id = ?2"},
  };
  for (auto& [stmt, sql] : statements) {
    Result<sqlite::Stmt> prepared = db.Prepare(sql);
    if (!prepared.ok()) return prepared.status();
    *stmt = std::move(*prepared);
  }
  return Status::Ok();
}

void SqliteAnalyticsWriter::ReadToolCalls(std::string_view json) {
  calls_.clear();
  simdjson::dom::element doc;
  if (parser_.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) return;
  simdjson::dom::array calls;
  if (doc["tool_calls"].get(calls) != simdjson::SUCCESS) return;
  for (simdjson::dom::element call : calls) {
    std::string_view name, status = "success";
    if (call["tool_name"].get(name) != simdjson::SUCCESS) continue;
    if (call["status"].get(status) != simdjson::SUCCESS) status = "success";
    calls_.emplace_back(std::string(name), status != "success");
  }
}

void SqliteAnalyticsWriter::Count(std::string_view user_id, int64_t ts_us, int64_t tool_calls,
                                  int64_t tool_failures, int sign) {
  const int64_t hour = FloorTo(ts_us, kHourUs);
  daily_users_acc_[{FloorTo(ts_us, kDayUs), std::string(user_id)}] += sign;
  for (const auto& [name, failed] : calls_) {
    for (std::string_view user : {user_id, std::string_view()}) {
      Calls& c = tools_acc_[{std::string(user), hour, name}];
      c.calls += sign;
      c.failures += sign * static_cast<int64_t>(failed);
    }
  }
  for (std::string_view user : {user_id, std::string_view()}) {
    Volume& v = hourly_acc_[{std::string(user), hour}];
    v.interactions += sign;
    v.tool_calls += sign * tool_calls;
    v.tool_failures += sign * tool_failures;
  }
}

void SqliteAnalyticsWriter::CountUsage(std::string_view user_id, int64_t ts_us,
                                       const StoredUsage& usage, int sign) {
  const int64_t hour = FloorTo(ts_us, kHourUs);
  for (std::string_view user : {user_id, std::string_view()}) {
    UsageSums& u = usage_acc_[{std::string(user), hour, usage.model}];
    u.interactions += sign;
    u.input += sign * usage.tokens.input;
    u.cached_input += sign * usage.tokens.cached_input;
    u.output += sign * usage.tokens.output;
    u.reasoning += sign * usage.tokens.reasoning;
    u.cost_nanos += sign * usage.cost_nanos.value_or(0);
    u.unpriced += sign * static_cast<int64_t>(!usage.cost_nanos);
  }
}

Status SqliteAnalyticsWriter::Add(const InteractionRecord& r, int64_t seq) {
  // Records always come from BuildInteraction; should one lack a field, it is indexed as far
  // as it goes rather than failing the whole batch.
  // The text goes to the full-text index later, off the save path (sqlite_search_indexer.h).
  calls_.clear();
  if (r.tool_uses) {
    // Read by the request path already (parse once): the same calls ReadToolCalls would find.
    for (const ToolUse& use : *r.tool_uses) calls_.emplace_back(use.name, use.failed);
  } else if (r.tool_call_count > 0) {
    ReadToolCalls(r.json);
  }
  for (const auto& [name, failed] : calls_) {
    tool_.Reset();
    tool_.Bind(1, name);
    tool_.Bind(2, r.ts_us);
    tool_.Bind(3, seq);
    tool_.Bind(4, static_cast<int64_t>(failed));
    Status s = tool_.Run();
    tool_.Reset();
    if (!s.ok()) return s;
  }
  Count(r.user_id, r.ts_us, r.tool_call_count, r.tool_failure_count, 1);
  if (r.usage) CountUsage(r.user_id, r.ts_us, *r.usage, 1);
  if (r.thread_id) {
    auto [it, fresh] = spans_acc_.try_emplace({r.user_id, *r.thread_id});
    Widen(&it->second, r.ts_us, seq, fresh);
  }
  auto [it, fresh] = spans_acc_.try_emplace({r.user_id, std::string()});
  Widen(&it->second, r.ts_us, seq, fresh);
  return Status::Ok();
}

Status SqliteAnalyticsWriter::Remove(int64_t seq, std::string_view user_id, int64_t ts_us,
                                     int64_t tool_calls, int64_t tool_failures,
                                     std::string_view stored_body, const StoredUsage* usage) {
  calls_.clear();
  if (tool_calls > 0) ReadToolCalls(stored_body);
  // The row's index entries are the ones Add made from these same calls (a name repeated in
  // the calls had one entry: deleting it again finds nothing).
  for (const auto& call : calls_) {
    untool_.Reset();
    untool_.Bind(1, call.first);
    untool_.Bind(2, ts_us);
    untool_.Bind(3, seq);
    Status s = untool_.Run();
    untool_.Reset();
    if (!s.ok()) return s;
  }
  Count(user_id, ts_us, tool_calls, tool_failures, -1);
  if (usage != nullptr) CountUsage(user_id, ts_us, *usage, -1);
  return Status::Ok();
}

Status SqliteAnalyticsWriter::Flush() {
  Status s;
  for (const auto& [key, v] : hourly_acc_) {
    hourly_.Reset();
    hourly_.Bind(1, key.first);
    hourly_.Bind(2, key.second);
    hourly_.Bind(3, v.interactions);
    hourly_.Bind(4, v.tool_calls);
    hourly_.Bind(5, v.tool_failures);
    if (s = hourly_.Run(); !s.ok()) break;
    if (v.interactions < 0) {
      hourly_zero_.Reset();
      hourly_zero_.Bind(1, key.first);
      hourly_zero_.Bind(2, key.second);
      if (s = hourly_zero_.Run(); !s.ok()) break;
    }
  }
  hourly_.Reset();
  hourly_zero_.Reset();
  if (s.ok()) {
    for (const auto& [key, n] : daily_users_acc_) {
      daily_users_.Reset();
      daily_users_.Bind(1, key.first);
      daily_users_.Bind(2, key.second);
      daily_users_.Bind(3, n);
      if (s = daily_users_.Run(); !s.ok()) break;
      if (n < 0) {
        daily_users_zero_.Reset();
        daily_users_zero_.Bind(1, key.first);
        daily_users_zero_.Bind(2, key.second);
        if (s = daily_users_zero_.Run(); !s.ok()) break;
      }
    }
    daily_users_.Reset();
    daily_users_zero_.Reset();
  }
  if (s.ok()) {
    for (const auto& [key, c] : tools_acc_) {
      tools_hourly_.Reset();
      tools_hourly_.Bind(1, std::get<0>(key));
      tools_hourly_.Bind(2, std::get<1>(key));
      tools_hourly_.Bind(3, std::get<2>(key));
      tools_hourly_.Bind(4, c.calls);
      tools_hourly_.Bind(5, c.failures);
      if (s = tools_hourly_.Run(); !s.ok()) break;
      if (c.calls < 0) {
        tools_hourly_zero_.Reset();
        tools_hourly_zero_.Bind(1, std::get<0>(key));
        tools_hourly_zero_.Bind(2, std::get<1>(key));
        tools_hourly_zero_.Bind(3, std::get<2>(key));
        if (s = tools_hourly_zero_.Run(); !s.ok()) break;
      }
    }
    tools_hourly_.Reset();
    tools_hourly_zero_.Reset();
  }
  if (s.ok()) {
    for (const auto& [key, u] : usage_acc_) {
      usage_hourly_.Reset();
      usage_hourly_.Bind(1, std::get<0>(key));
      usage_hourly_.Bind(2, std::get<1>(key));
      usage_hourly_.Bind(3, std::get<2>(key));
      int column = 4;
      for (int64_t v : {u.interactions, u.input, u.cached_input, u.output, u.reasoning,
                        u.cost_nanos, u.unpriced}) {
        usage_hourly_.Bind(column++, v);
      }
      if (s = usage_hourly_.Run(); !s.ok()) break;
      if (u.interactions < 0) {
        usage_hourly_zero_.Reset();
        usage_hourly_zero_.Bind(1, std::get<0>(key));
        usage_hourly_zero_.Bind(2, std::get<1>(key));
        usage_hourly_zero_.Bind(3, std::get<2>(key));
        if (s = usage_hourly_zero_.Run(); !s.ok()) break;
      }
    }
    usage_hourly_.Reset();
    usage_hourly_zero_.Reset();
  }
  if (s.ok()) {
    for (const auto& [key, t] : spans_acc_) {
      span_.Reset();
      span_.Bind(1, key.first);
      span_.Bind(2, key.second);
      span_.Bind(3, t.first_us);
      span_.Bind(4, t.first_seq);
      span_.Bind(5, t.last_us);
      span_.Bind(6, t.last_seq);
      if (s = span_.Run(); !s.ok()) break;
    }
    span_.Reset();
  }
  Discard();
  return s;
}

void SqliteAnalyticsWriter::Discard() {
  hourly_acc_.clear();
  daily_users_acc_.clear();
  tools_acc_.clear();
  usage_acc_.clear();
  spans_acc_.clear();
}

}  // namespace omniflow
