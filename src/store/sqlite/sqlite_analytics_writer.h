// The SQLite writer's analytics upkeep: for each appended interaction it feeds the tool index,
// and it folds a batch's counts into the hourly, tool, thread and
// user aggregates, all inside the writer's transaction (so they are exactly as durable as the
// rows). REQUIRES: used only by SqliteStore::Append's caller (one thread at a time).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

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
  // Writes the batch's aggregates and forgets them. Call before COMMIT, after the batch's
  // interaction_counts rows exist (SqliteStore::Append writes them first).
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
  struct Span {
    int64_t n = 0, first_us = 0, last_us = 0, first_seq = 0, last_seq = 0;
  };

  simdjson::dom::parser parser_;
  sqlite::Stmt tool_, hourly_, daily_users_, tools_hourly_, span_;
  std::map<std::pair<std::string, int64_t>, Volume> hourly_acc_;  // (user or '', hour)
  std::map<std::pair<int64_t, std::string>, int64_t> daily_users_acc_;  // (day, user)
  std::map<std::tuple<std::string, int64_t, std::string>, Calls> tools_acc_;
  // (user, thread or '' for the user as a whole): first and last interaction in the batch.
  std::map<std::pair<std::string, std::string>, Span> spans_acc_;
};

}  // namespace omniflow
