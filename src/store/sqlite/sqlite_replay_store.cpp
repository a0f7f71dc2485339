#include "store/sqlite/sqlite_replay_store.h"

#include <string>
#include <vector>

#include "core/mutex.h"
#include "store/paging.h"
#include "store/replay_sql.h"
#include "store/sqlite/sqlite_db.h"

namespace omniflow {

namespace {

// Runs one statement with text parameters ?1..?n and returns the rows it changed.
Result<int64_t> Change(sqlite::Db& db, const std::string& sql,
                       const std::vector<std::string>& params) {
  Result<sqlite::Stmt> stmt = db.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  for (size_t i = 0; i < params.size(); ++i) stmt->Bind(static_cast<int>(i + 1), params[i]);
  if (Status s = stmt->Run(); !s.ok()) return s;
  return static_cast<int64_t>(sqlite3_changes(db.get()));
}

// Binds a side's usage to the six parameters from `first` (model, four counts, cost): NULLs
// without usage, a NULL cost without a price.
void BindUsage(sqlite::Stmt& stmt, int first, const std::optional<StoredUsage>& usage) {
  if (!usage) {
    for (int i = 0; i < 6; ++i) stmt.BindNull(first + i);
    return;
  }
  stmt.Bind(first, usage->model);
  stmt.Bind(first + 1, usage->tokens.input);
  stmt.Bind(first + 2, usage->tokens.cached_input);
  stmt.Bind(first + 3, usage->tokens.output);
  stmt.Bind(first + 4, usage->tokens.reasoning);
  if (usage->cost_nanos) {
    stmt.Bind(first + 5, *usage->cost_nanos);
  } else {
    stmt.BindNull(first + 5);
  }
}

}  // namespace

Status SqliteReplayStore::Create(const ReplayInfo& info) {
  if (Status s = ValidateReplayInfo(info); !s.ok()) return s;
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> insert = file_->writer.Prepare(
      "INSERT INTO replays(replay_id, name, actor, spec_json, state, created_us) "
      "VALUES(?1, ?2, ?3, ?4, 'selecting', ?5)");
  if (!insert.ok()) return insert.status();
  insert->Bind(1, info.replay_id);
  insert->Bind(2, info.name);
  insert->Bind(3, info.actor);
  insert->Bind(4, info.spec_json);
  insert->Bind(5, info.created_us);
  return insert->Run();
}

Status SqliteReplayStore::AddTargets(const std::string& replay_id,
                                     std::span<const ReplayTarget> targets,
                                     const std::map<std::string, std::string>& snapshots) {
  MutexLock lock(&file_->write_mu);
  sqlite::Transaction tx(file_->writer);
  if (!tx.status.ok()) return tx.status;
  Result<int64_t> moved = Change(file_->writer,
                                 "UPDATE replays SET state = 'running' WHERE replay_id = ?1 "
                                 "AND state = 'selecting'",
                                 {replay_id});
  if (!moved.ok()) return moved.status();
  if (*moved == 0) {
    Result<std::vector<ReplayInfo>> known = Select(&replay_id, 1);
    if (!known.ok()) return known.status();
    if (known->empty()) return Status::NotFound("no replay " + replay_id);
    return Status::FailedPrecondition("replay " + replay_id + " has its items already");
  }
  Result<sqlite::Stmt> insert = file_->writer.Prepare(
      "INSERT INTO replay_items(replay_id, item_no, user_id, interaction_id, ts_us, "
      "original_json, original_usage_model, original_input_tokens, original_cached_input_tokens, "
      "original_output_tokens, original_reasoning_tokens, original_cost_nanos) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  if (!insert.ok()) return insert.status();
  for (const ReplayTarget& t : targets) {
    insert->Reset();
    insert->Bind(1, replay_id);
    insert->Bind(2, t.item_no);
    insert->Bind(3, t.user_id);
    insert->Bind(4, t.interaction_id);
    insert->Bind(5, t.ts_us);
    insert->Bind(6, t.original_json);
    BindUsage(*insert, 7, t.original_usage);
    if (Status s = insert->Run(); !s.ok()) return s;
  }
  insert = file_->writer.Prepare(
      "INSERT INTO replay_snapshots(replay_id, user_id, documents) VALUES(?1, ?2, ?3)");
  if (!insert.ok()) return insert.status();
  for (const auto& [user_id, documents] : snapshots) {
    insert->Reset();
    insert->Bind(1, replay_id);
    insert->Bind(2, user_id);
    insert->Bind(3, documents);
    if (Status s = insert->Run(); !s.ok()) return s;
  }
  insert = sqlite::Stmt();
  return tx.Commit();
}

Result<std::map<std::string, std::string>> SqliteReplayStore::Snapshots(
    const std::string& replay_id) {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> select =
      file_->writer.Prepare("SELECT user_id, documents FROM replay_snapshots WHERE replay_id = ?1");
  if (!select.ok()) return select.status();
  select->Bind(1, replay_id);
  std::map<std::string, std::string> out;
  while (true) {
    Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.emplace(select->Text(0), select->Text(1));
  }
  return out;
}

Result<std::vector<ReplayTarget>> SqliteReplayStore::Pending(const std::string& replay_id,
                                                             int limit) {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> select = file_->writer.Prepare(
      std::string("SELECT ") + replay_sql::kItemColumns +
      " FROM replay_items WHERE replay_id = ?1 AND result_json IS NULL ORDER BY item_no LIMIT ?2");
  if (!select.ok()) return select.status();
  select->Bind(1, replay_id);
  select->Bind(2, int64_t{limit});
  std::vector<ReplayTarget> out;
  while (true) {
    Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(replay_sql::ReadItem(*select).target);
  }
  return out;
}

Result<bool> SqliteReplayStore::SaveResult(const std::string& replay_id, int64_t item_no,
                                           const ReplayResult& result) {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> update = file_->writer.Prepare(
      "UPDATE replay_items SET result_json = ?3, changed = ?4, fixed = ?5, introduced = ?6, "
      "same_tools = ?7, error = ?8, latency_ms = ?9, original_latency_ms = ?10, tokens = ?11, "
      "original_tokens = ?12, usage_model = ?13, input_tokens = ?14, cached_input_tokens = ?15, "
      "output_tokens = ?16, reasoning_tokens = ?17, cost_nanos = ?18 "
      "WHERE replay_id = ?1 AND item_no = ?2 AND result_json IS NULL");
  if (!update.ok()) return update.status();
  update->Bind(1, replay_id);
  update->Bind(2, item_no);
  update->Bind(3, result.result_json);
  int index = 4;
  for (int64_t n : replay_sql::ResultNumbers(result)) update->Bind(index++, n);
  BindUsage(*update, 13, result.usage);
  if (Status s = update->Run(); !s.ok()) return s;
  return sqlite3_changes(file_->writer.get()) > 0;
}

Status SqliteReplayStore::Finish(const std::string& replay_id, const std::string& state,
                                 const std::string& error, int64_t finished_us) {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> update = file_->writer.Prepare(
      "UPDATE replays SET state = ?2, error = ?3, finished_us = ?4 WHERE replay_id = ?1");
  if (!update.ok()) return update.status();
  update->Bind(1, replay_id);
  update->Bind(2, state);
  update->Bind(3, error);
  update->Bind(4, finished_us);
  if (Status s = update->Run(); !s.ok()) return s;
  if (sqlite3_changes(file_->writer.get()) == 0) return Status::NotFound("no replay " + replay_id);
  return Status::Ok();
}

Result<std::vector<ReplayInfo>> SqliteReplayStore::Select(const std::string* replay_id, int limit) {
  std::string sql = std::string("SELECT ") + replay_sql::kInfoColumns + " FROM replays r";
  sql += replay_id ? " WHERE r.replay_id = ?1" : " ORDER BY r.created_us DESC, r.replay_id DESC";
  sql += " LIMIT ?2";
  Result<sqlite::Stmt> select = file_->writer.Prepare(sql);
  if (!select.ok()) return select.status();
  if (replay_id) select->Bind(1, *replay_id);
  select->Bind(2, int64_t{limit});
  std::vector<ReplayInfo> out;
  while (true) {
    Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    out.push_back(replay_sql::ReadInfo(*select));
  }
  return out;
}

Result<ReplayInfo> SqliteReplayStore::Get(const std::string& replay_id) {
  MutexLock lock(&file_->write_mu);
  Result<std::vector<ReplayInfo>> found = Select(&replay_id, 1);
  if (!found.ok()) return found.status();
  if (found->empty()) return Status::NotFound("no replay with that id");
  return std::move(found->front());
}

Result<std::vector<ReplayInfo>> SqliteReplayStore::List(int limit) {
  if (limit < 1 || limit > 1000) return Status::InvalidArgument("limit must be 1..1000");
  MutexLock lock(&file_->write_mu);
  return Select(nullptr, limit);
}

Result<ReplaySummary> SqliteReplayStore::Summarize(const std::string& replay_id) {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> select =
      file_->writer.Prepare(std::string("SELECT ") + replay_sql::kSummaryColumns +
                            " FROM replay_items WHERE replay_id = ?1 AND result_json IS NOT NULL");
  if (!select.ok()) return select.status();
  select->Bind(1, replay_id);
  Result<bool> row = select->Step();
  if (!row.ok()) return row.status();
  return replay_sql::ReadSummary(*select);
}

Result<ReplayItemsPage> SqliteReplayStore::Items(const ReplayItemsQuery& query) {
  if (Status s = ValidateReplayItemsQuery(query); !s.ok()) return s;
  MutexLock lock(&file_->write_mu);
  Result<std::vector<ReplayInfo>> known = Select(&query.replay_id, 1);
  if (!known.ok()) return known.status();
  if (known->empty()) return Status::NotFound("no replay with that id");
  std::string sql = std::string("SELECT ") + replay_sql::kItemColumns +
                    " FROM replay_items WHERE replay_id = ?1 AND result_json IS NOT NULL";
  if (query.changed_only) sql += " AND changed = 1";
  if (query.after_item) sql += " AND item_no > ?2";
  sql += " ORDER BY item_no LIMIT ?3";
  Result<sqlite::Stmt> select = file_->writer.Prepare(sql);
  if (!select.ok()) return select.status();
  select->Bind(1, query.replay_id);
  if (query.after_item) select->Bind(2, *query.after_item);
  select->Bind(3, FetchLimit(query.limit));
  ReplayItemsPage page;
  while (true) {
    Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (PageIsFull(page.items.size(), query.limit, &page.has_more)) break;
    page.items.push_back(replay_sql::ReadItem(*select));
  }
  if (page.has_more && !page.items.empty()) page.next = page.items.back().target.item_no;
  return page;
}

Status SqliteReplayStore::Delete(const std::string& replay_id) {
  MutexLock lock(&file_->write_mu);
  sqlite::Transaction tx(file_->writer);
  if (!tx.status.ok()) return tx.status;
  for (const char* sql : {"DELETE FROM replay_items WHERE replay_id = ?1",
                          "DELETE FROM replay_snapshots WHERE replay_id = ?1"}) {
    if (Result<int64_t> n = Change(file_->writer, sql, {replay_id}); !n.ok()) return n.status();
  }
  Result<int64_t> gone =
      Change(file_->writer, "DELETE FROM replays WHERE replay_id = ?1", {replay_id});
  if (!gone.ok()) return gone.status();
  if (*gone == 0) return Status::NotFound("no replay with that id");
  return tx.Commit();
}

}  // namespace omniflow
