// The SQLite writer's analytics upkeep: for each appended interaction it feeds the tool index,
// and it folds a batch's counts into the hourly, tool, thread, user and token usage
// aggregates, all inside the writer's transaction (so they are exactly as durable as the
// rows). REQUIRES: used only by SqliteStore::Append's caller (one thread at a time).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/interaction.h"
#include "core/status.h"
#include "store/sqlite/sqlite_db.h"

namespace omniflow {

class SqliteAnalyticsWriter {
 public:
  // Prepares its statements on `db` (the writer connection).
  Status Prepare(sqlite::Db& db);

  // Indexes `record`'s tools, stored as row `seq`, and adds it to the batch's aggregates (its
  // text is indexed later by the SqliteSearchIndexer).
  Status Add(const InteractionRecord& record, int64_t seq);
  // The exact inverse of Add, for a row being deleted in the caller's transaction (purge,
  // erasure): deletes row `seq`'s tool index entries and takes the row out of the batch's
  // hourly, daily-user, tool and usage aggregates, reading its tool calls from `stored_body` as
  // Add read them from the record, and its usage (null: none) from the row's usage columns.
  // Spans are not kept by deltas: the caller recomputes them.
  Status Remove(int64_t seq, std::string_view user_id, int64_t ts_us, int64_t tool_calls,
                int64_t tool_failures, std::string_view stored_body, const StoredUsage* usage);
  // Writes the batch's aggregates and forgets them; aggregate rows that removals brought to zero
  // are deleted, so that the tables hold what a store of the survivors alone would. Call before
  // COMMIT, after the batch's interaction_counts rows exist (SqliteStore::Append writes them
  // first).
  Status Flush();
  // Forgets the batch's aggregates (after a rollback).
  void Discard();

 private:
  struct Volume {
    int64_t interactions = 0, tool_calls = 0, tool_failures = 0;
  };
  struct Calls {
    int64_t calls = 0, failures = 0;
  };
  struct UsageSums {
    int64_t interactions = 0, input = 0, cached_input = 0, output = 0, reasoning = 0,
            cost_nanos = 0, unpriced = 0;
  };
  struct Span {
    int64_t n = 0, first_us = 0, last_us = 0, first_seq = 0, last_seq = 0;
  };

  // Sets calls_ to the tool calls of the interaction `json` as the aggregates count them
  // (name, failed): calls without a string tool_name are left out, a call without a string
  // status succeeded. Add and Remove both read them here, so that a removal takes back exactly
  // what the save added.
  void ReadToolCalls(std::string_view json);
  // Adds `sign` (1 or -1) times one interaction's volume and the tool calls in calls_ to the
  // batch's aggregates.
  void Count(std::string_view user_id, int64_t ts_us, int64_t tool_calls, int64_t tool_failures,
             int sign);
  // Adds `sign` times one interaction's usage to the batch's usage aggregate.
  void CountUsage(std::string_view user_id, int64_t ts_us, const StoredUsage& usage, int sign);

  simdjson::dom::parser parser_;
  std::vector<std::pair<std::string, bool>> calls_;  // ReadToolCalls' answer
  sqlite::Stmt tool_, hourly_, daily_users_, tools_hourly_, span_, usage_hourly_;
  // Removal: deletes a row's tool index entry for one tool, and aggregate rows brought to zero.
  sqlite::Stmt untool_, hourly_zero_, daily_users_zero_, tools_hourly_zero_, usage_hourly_zero_;
  std::map<std::pair<std::string, int64_t>, Volume> hourly_acc_;  // (user or '', hour)
  std::map<std::pair<int64_t, std::string>, int64_t> daily_users_acc_;  // (day, user)
  std::map<std::tuple<std::string, int64_t, std::string>, Calls> tools_acc_;
  // (user or '', hour, model) -> usage.
  std::map<std::tuple<std::string, int64_t, std::string>, UsageSums> usage_acc_;
  // (user, thread or '' for the user as a whole): first and last interaction in the batch.
  std::map<std::pair<std::string, std::string>, Span> spans_acc_;
};

}  // namespace omniflow
