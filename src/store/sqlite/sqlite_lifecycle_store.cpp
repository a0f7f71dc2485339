#include "store/sqlite/sqlite_lifecycle_store.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/ids.h"
#include "core/mutex.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_search_indexer.h"

namespace omniflow {

namespace {

// The pause after each purge batch and index merge step, so that saves get the lock between two.
constexpr std::chrono::microseconds kBatchGap{1000};

// Interactions an erasure deletes per transaction.
constexpr int64_t kErasureBatchRows = 500;

// Runs `sql` with text parameters; returns how many rows it changed.
Result<int64_t> Change(sqlite::Db& db, const char* sql, std::initializer_list<std::string_view> text,
                       std::initializer_list<int64_t> ints = {}) {
  Result<sqlite::Stmt> stmt = db.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  int i = 1;
  for (std::string_view t : text) stmt->Bind(i++, t);
  for (int64_t v : ints) stmt->Bind(i++, v);
  if (Status s = stmt->Run(); !s.ok()) return s;
  return static_cast<int64_t>(sqlite3_changes(db.get()));
}

}  // namespace

// ---- Retention overrides and holds ----------------------------------------------------------

Status SqliteLifecycleStore::SetRetention(const std::string& user_id, int days) {
  if (Status s = ValidateRetentionDays(days); !s.ok()) return s;
  MutexLock lock(&file_->write_mu);
  Result<int64_t> n = Change(file_->writer,
                             "INSERT INTO retention_overrides(user_id, days, updated_us) "
                             "VALUES(?1, ?2, ?3) ON CONFLICT(user_id) DO UPDATE SET "
                             "days = excluded.days, updated_us = excluded.updated_us",
                             {user_id}, {days, Clock::Real()->NowMicros()});
  return n.status();
}

Result<std::optional<int>> SqliteLifecycleStore::GetRetention(const std::string& user_id) {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> select =
      file_->writer.Prepare("SELECT days FROM retention_overrides WHERE user_id = ?1");
  if (!select.ok()) return select.status();
  select->Bind(1, user_id);
  Result<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<int>();
  return std::optional<int>(static_cast<int>(select->Int(0)));
}

Status SqliteLifecycleStore::DeleteRetention(const std::string& user_id) {
  MutexLock lock(&file_->write_mu);
  Result<int64_t> n =
      Change(file_->writer, "DELETE FROM retention_overrides WHERE user_id = ?1", {user_id});
  if (!n.ok()) return n.status();
  if (*n == 0) return Status::NotFound("no retention override for " + user_id);
  return Status::Ok();
}

Status SqliteLifecycleStore::SetHold(const LegalHold& hold) {
  if (Status s = ValidateHold(hold); !s.ok()) return s;
  const int64_t since = hold.since_us > 0 ? hold.since_us : Clock::Real()->NowMicros();
  MutexLock lock(&file_->write_mu);
  Result<int64_t> n = Change(file_->writer,
                             "INSERT INTO legal_holds(user_id, reason, since_us) VALUES(?1, ?2, ?3) "
                             "ON CONFLICT(user_id) DO UPDATE SET reason = excluded.reason",
                             {hold.user_id, hold.reason}, {since});
  return n.status();
}

Status SqliteLifecycleStore::ReleaseHold(const std::string& user_id) {
  MutexLock lock(&file_->write_mu);
  Result<int64_t> n = Change(file_->writer, "DELETE FROM legal_holds WHERE user_id = ?1", {user_id});
  if (!n.ok()) return n.status();
  if (*n == 0) return Status::NotFound("no legal hold on " + user_id);
  return Status::Ok();
}

Result<std::optional<LegalHold>> SqliteLifecycleStore::GetHold(const std::string& user_id) {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> select =
      file_->writer.Prepare("SELECT reason, since_us FROM legal_holds WHERE user_id = ?1");
  if (!select.ok()) return select.status();
  select->Bind(1, user_id);
  Result<bool> row = select->Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<LegalHold>();
  return std::optional<LegalHold>(
      LegalHold{user_id, std::string(select->Text(0)), select->Int(1)});
}

Result<std::vector<LegalHold>> SqliteLifecycleStore::ListHolds() {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> select = file_->writer.Prepare(
      "SELECT user_id, reason, since_us FROM legal_holds ORDER BY user_id");
  if (!select.ok()) return select.status();
  std::vector<LegalHold> holds;
  while (true) {
    Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    holds.push_back(LegalHold{std::string(select->Text(0)), std::string(select->Text(1)),
                              select->Int(2)});
  }
  return holds;
}

// ---- Purge --------------------------------------------------------------------------------

Result<PurgeReport> SqliteLifecycleStore::Purge(const PurgeOptions& options) {
  return RunPurge(*this, options);
}

Result<std::vector<PurgeTarget::UserSpan>> SqliteLifecycleStore::UsersWithData() {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> select = file_->writer.Prepare(
      "SELECT user_id, first_us FROM interaction_counts WHERE thread_id = '' AND n > 0 "
      "ORDER BY user_id");
  if (!select.ok()) return select.status();
  std::vector<UserSpan> users;
  while (true) {
    Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    users.push_back(UserSpan{std::string(select->Text(0)), select->Int(1)});
  }
  return users;
}

Result<std::vector<std::pair<std::string, int>>> SqliteLifecycleStore::RetentionOverrides() {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> select =
      file_->writer.Prepare("SELECT user_id, days FROM retention_overrides ORDER BY user_id");
  if (!select.ok()) return select.status();
  std::vector<std::pair<std::string, int>> overrides;
  while (true) {
    Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    overrides.emplace_back(std::string(select->Text(0)), static_cast<int>(select->Int(1)));
  }
  return overrides;
}

Result<int64_t> SqliteLifecycleStore::CountBefore(const std::string& user_id, int64_t cutoff_us) {
  MutexLock lock(&file_->write_mu);
  Result<sqlite::Stmt> count = file_->writer.Prepare(
      "SELECT count(*) FROM interactions WHERE user_id = ?1 AND ts_us < ?2");
  if (!count.ok()) return count.status();
  count->Bind(1, user_id);
  count->Bind(2, cutoff_us);
  Result<bool> row = count->Step();
  if (!row.ok()) return row.status();
  return count->Int(0);
}

Result<int64_t> SqliteLifecycleStore::RemoveBefore(const std::string& user_id, int64_t cutoff_us,
                                                   int max_rows) {
  // The user may have been held, or an erasure of theirs begun, since the purge read the holds.
  return RemoveBatch(
      "SELECT seq FROM interactions WHERE user_id = ?1 AND ts_us < ?2 "
      "AND NOT EXISTS (SELECT 1 FROM legal_holds WHERE user_id = ?1) "
      "AND NOT EXISTS (SELECT 1 FROM erasures WHERE user_id = ?1) "
      "ORDER BY ts_us, interaction_id LIMIT ?3",
      user_id, {cutoff_us, max_rows}, "purged");
}

Result<int64_t> SqliteLifecycleStore::RemoveBatch(const char* select_sql,
                                                  const std::string& user_id,
                                                  std::initializer_list<int64_t> ints,
                                                  const char* reason) {
  int64_t removed = 0;
  std::chrono::steady_clock::time_point locked;
  {
    MutexLock lock(&file_->write_mu);
    locked = std::chrono::steady_clock::now();
    sqlite::Transaction txn(file_->writer);
    if (!txn.status.ok()) return txn.status;
    Result<std::vector<int64_t>> seqs = SelectSeqs(select_sql, user_id, ints);
    if (!seqs.ok()) return seqs.status();
    if (seqs->empty()) return int64_t{0};
    Removed gone;
    if (Status s = RemoveRows(*seqs, reason, &gone); !s.ok()) return s;
    if (Status s = txn.Commit(); !s.ok()) return s;
    removed = gone.interactions;
  }
  YieldTheLock(locked);
  return removed;
}

Result<std::vector<int64_t>> SqliteLifecycleStore::SelectSeqs(const char* sql,
                                                             const std::string& user_id,
                                                             std::initializer_list<int64_t> ints) {
  Result<sqlite::Stmt> select = file_->writer.Prepare(sql);
  if (!select.ok()) return select.status();
  select->Bind(1, user_id);
  int i = 2;
  for (int64_t v : ints) select->Bind(i++, v);
  std::vector<int64_t> seqs;
  while (true) {
    Result<bool> row = select->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    seqs.push_back(select->Int(0));
  }
  return seqs;
}

Status SqliteLifecycleStore::RemoveRows(const std::vector<int64_t>& seqs, const char* reason,
                                        Removed* removed) {
  sqlite::Db& db = file_->writer;
  if (!analytics_prepared_) {
    if (Status s = analytics_.Prepare(db); !s.ok()) return s;
    analytics_prepared_ = true;
  }
  Result<sqlite::Stmt> row = db.Prepare(
      "SELECT user_id, ts_us, interaction_id, thread_id, tool_calls, tool_failures, body, "
      "usage_model, input_tokens, cached_input_tokens, output_tokens, reasoning_tokens, "
      "cost_nanos FROM interactions WHERE seq = ?1");
  Result<sqlite::Stmt> unindex = SqliteSearchIndexer::PrepareUnindex(db);
  Result<sqlite::Stmt> feedback =
      db.Prepare("DELETE FROM feedback WHERE user_id = ?1 AND interaction_id = ?2");
  Result<sqlite::Stmt> remove = db.Prepare("DELETE FROM interactions WHERE seq = ?1");
  for (Result<sqlite::Stmt>* stmt : {&row, &unindex, &feedback, &remove}) {
    if (!stmt->ok()) return stmt->status();
  }
  // Out of the index first, all at once, while the rows still hold the text it indexed.
  std::string seq_array = "[";
  for (int64_t seq : seqs) {
    if (seq_array.size() > 1) seq_array += ',';
    seq_array += std::to_string(seq);
  }
  seq_array += ']';
  unindex->Bind(1, seq_array);
  if (Status s = unindex->Run(); !s.ok()) return s;
  // The chain keeps each row's place and hash, without its content.
  Result<sqlite::Stmt> tombstones = db.Prepare(
      "INSERT INTO chain_tombstones(seq, hash, reason) SELECT seq, chain_hash, ?2 "
      "FROM interactions WHERE seq IN (SELECT value FROM json_each(?1))");
  if (!tombstones.ok()) return tombstones.status();
  tombstones->Bind(1, seq_array);
  tombstones->Bind(2, std::string_view(reason));
  if (Status s = tombstones->Run(); !s.ok()) return s;
  // (user, thread or '' for the user's total) -> interactions removed.
  std::map<std::pair<std::string, std::string>, int64_t> counts;
  for (int64_t seq : seqs) {
    row->Reset();
    row->Bind(1, seq);
    Result<bool> found = row->Step();
    if (!found.ok()) return found.status();
    if (!*found) continue;
    const std::string user(row->Text(0));
    const int64_t ts_us = row->Int(1);
    const std::string id(row->Text(2));
    std::optional<std::string> thread;
    if (!row->IsNull(3)) thread = std::string(row->Text(3));
    const int64_t tool_calls = row->Int(4);
    std::optional<StoredUsage> usage;
    if (!row->IsNull(8)) {
      usage.emplace();
      usage->model = std::string(row->Text(7));
      usage->tokens = TokenUsage{row->Int(8), row->Int(9), row->Int(10), row->Int(11)};
      if (!row->IsNull(12)) usage->cost_nanos = row->Int(12);
    }
    Status s = analytics_.Remove(seq, user, ts_us, tool_calls, row->Int(5), row->Text(6),
                                 usage ? &*usage : nullptr);
    row->Reset();
    if (!s.ok()) return s;
    feedback->Reset();
    feedback->Bind(1, user);
    feedback->Bind(2, id);
    if (s = feedback->Run(); !s.ok()) return s;
    removed->feedback += sqlite3_changes(db.get());
    remove->Reset();
    remove->Bind(1, seq);
    if (s = remove->Run(); !s.ok()) return s;
    ++counts[{user, std::string()}];
    if (thread) {
      ++counts[{user, *thread}];
      removed->threads.insert(*thread);
    }
    ++removed->interactions;
    removed->tool_calls += tool_calls;
    removed->interaction_ids.push_back(id);
  }
  // The kept counts, and the spans of what is left: recomputed from the rows, as the
  // migration that introduced them back-filled them.
  Result<sqlite::Stmt> decrement = db.Prepare(
      "UPDATE interaction_counts SET n = n - ?3 WHERE user_id = ?1 AND thread_id = ?2");
  Result<sqlite::Stmt> drop =
      db.Prepare("DELETE FROM interaction_counts WHERE user_id = ?1 AND thread_id = ?2 AND n <= 0");
  Result<sqlite::Stmt> user_span = db.Prepare(R"sql(
      UPDATE interaction_counts SET
        first_seq = (SELECT seq FROM interactions WHERE user_id = ?1
                     ORDER BY ts_us, interaction_id LIMIT 1),
        last_seq = (SELECT seq FROM interactions WHERE user_id = ?1
                    ORDER BY ts_us DESC, interaction_id DESC LIMIT 1)
      WHERE user_id = ?1 AND thread_id = ?2)sql");
  Result<sqlite::Stmt> thread_span = db.Prepare(R"sql(
      UPDATE interaction_counts SET
        first_seq = (SELECT seq FROM interactions WHERE user_id = ?1 AND thread_id = ?2
                     ORDER BY ts_us, interaction_id LIMIT 1),
        last_seq = (SELECT seq FROM interactions WHERE user_id = ?1 AND thread_id = ?2
                    ORDER BY ts_us DESC, interaction_id DESC LIMIT 1)
      WHERE user_id = ?1 AND thread_id = ?2)sql");
  Result<sqlite::Stmt> span_times = db.Prepare(R"sql(
      UPDATE interaction_counts SET
        first_us = (SELECT ts_us FROM interactions WHERE seq = first_seq),
        last_us = (SELECT ts_us FROM interactions WHERE seq = last_seq)
      WHERE user_id = ?1 AND thread_id = ?2)sql");
  for (Result<sqlite::Stmt>* stmt : {&decrement, &drop, &user_span, &thread_span, &span_times}) {
    if (!stmt->ok()) return stmt->status();
  }
  for (const auto& [key, n] : counts) {
    sqlite::Stmt& span = key.second.empty() ? *user_span : *thread_span;
    for (sqlite::Stmt* stmt : {&*decrement, &*drop, &span, &*span_times}) {
      stmt->Reset();
      stmt->Bind(1, key.first);
      stmt->Bind(2, key.second);
      if (stmt == &*decrement) stmt->Bind(3, n);
      if (Status s = stmt->Run(); !s.ok()) return s;
    }
  }
  if (Status s = analytics_.Flush(); !s.ok()) return s;
  return SqliteSearchIndexer::AfterDeletions(db);
}

// ---- Erasure ------------------------------------------------------------------------------

Result<ErasureReport> SqliteLifecycleStore::EraseUser(const std::string& user_id) {
  MutexLock one_at_a_time(&erase_mu_);
  const auto began = std::chrono::steady_clock::now();
  Result<ErasureReport> report = BeginErasure(user_id);
  if (!report.ok()) return report.status();
  const auto marked = std::chrono::steady_clock::now();
  if (Status s = FinishErasure(user_id); !s.ok()) return s;
  const auto ms = [](auto d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  spdlog::info("event=erasure_store_done interactions={} mark_ms={} delete_and_scrub_ms={}",
               report->interactions, ms(marked - began),
               ms(std::chrono::steady_clock::now() - marked));
  return report;
}

Result<ErasureReport> SqliteLifecycleStore::BeginErasure(const std::string& user_id) {
  ErasureReport report;
  MutexLock lock(&file_->write_mu);
  sqlite::Transaction txn(file_->writer);
  if (!txn.status.ok()) return txn.status;
  sqlite::Db& db = file_->writer;
  Result<sqlite::Stmt> hold = db.Prepare("SELECT reason FROM legal_holds WHERE user_id = ?1");
  if (!hold.ok()) return hold.status();
  hold->Bind(1, user_id);
  Result<bool> held = hold->Step();
  if (!held.ok()) return held.status();
  if (*held) {
    return Status::FailedPrecondition("user " + user_id + " is under a legal hold (" +
                                      std::string(hold->Text(0)) + "); release it to erase");
  }
  // What the erasure takes is fixed here, under the write lock: every interaction stored so
  // far. The receipt counts them now; the rows go in the batches that follow.
  Result<sqlite::Stmt> rows = db.Prepare(
      "SELECT interaction_id, thread_id, tool_calls, seq FROM interactions WHERE user_id = ?1");
  if (!rows.ok()) return rows.status();
  rows->Bind(1, user_id);
  std::set<std::string> threads;
  int64_t upto = 0;
  while (true) {
    Result<bool> row = rows->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    report.interaction_ids.emplace_back(rows->Text(0));
    if (!rows->IsNull(1)) threads.emplace(rows->Text(1));
    report.tool_calls += rows->Int(2);
    upto = std::max(upto, rows->Int(3));
  }
  report.interactions = static_cast<int64_t>(report.interaction_ids.size());
  report.threads = static_cast<int64_t>(threads.size());
  std::sort(report.interaction_ids.begin(), report.interaction_ids.end());
  Result<sqlite::Stmt> counts = db.Prepare(
      "SELECT (SELECT count(*) FROM feedback WHERE user_id = ?1), "
      "(SELECT count(DISTINCT blob) FROM data_entries WHERE user_id = ?1), "
      "(SELECT count(*) FROM data_entries WHERE user_id = ?1)");
  if (!counts.ok()) return counts.status();
  counts->Bind(1, user_id);
  if (Result<bool> r = counts->Step(); !r.ok()) return r.status();
  report.feedback = counts->Int(0);
  report.data_documents = counts->Int(1);
  report.data_entries = counts->Int(2);
  counts->Reset();
  // What no interaction refers to goes at once: the documents of the data tools, the retention
  // override, the idempotency keys (they name interactions being erased).
  for (const char* sql : {"DELETE FROM data_entries WHERE user_id = ?1",
                          "DELETE FROM retention_overrides WHERE user_id = ?1",
                          "DELETE FROM idempotency_keys WHERE user_id = ?1",
                          // OTLP spans of the user's traces not yet written.
                          "DELETE FROM otlp_pending_spans WHERE user_id = ?1",
                          // Replays' copies of the user's interactions and their results.
                          "DELETE FROM replay_items WHERE user_id = ?1",
                          // Replays' copies of the user's data documents.
                          "DELETE FROM replay_snapshots WHERE user_id = ?1"}) {
    if (Result<int64_t> n = Change(db, sql, {user_id}); !n.ok()) return n.status();
  }
  Result<int64_t> marked = Change(
      db,
      "INSERT INTO erasures(user_id, upto_seq, started_us) VALUES(?1, ?2, ?3) "
      "ON CONFLICT(user_id) DO UPDATE SET upto_seq = max(upto_seq, excluded.upto_seq)",
      {user_id}, {upto, Clock::Real()->NowMicros()});
  if (!marked.ok()) return marked.status();
  if (Status s = txn.Commit(); !s.ok()) return s;
  return report;
}

Status SqliteLifecycleStore::FinishErasure(const std::string& user_id) {
  int64_t upto = 0;
  {
    MutexLock lock(&file_->write_mu);
    Result<sqlite::Stmt> marker =
        file_->writer.Prepare("SELECT upto_seq FROM erasures WHERE user_id = ?1");
    if (!marker.ok()) return marker.status();
    marker->Bind(1, user_id);
    Result<bool> row = marker->Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();  // finished by someone else
    upto = marker->Int(0);
  }
  // The rows, a batch per transaction, the lock released between two for as long as the batch
  // held it: saves of every other user (and new ones of this user) go on meanwhile.
  while (true) {
    Result<int64_t> removed = RemoveBatch(
        "SELECT seq FROM interactions WHERE user_id = ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
        user_id, {upto, kErasureBatchRows}, "erased");
    if (!removed.ok()) return removed.status();
    if (*removed == 0) break;
  }
  {
    // Feedback no interaction holds any more, then the record: the erasure is complete.
    MutexLock lock(&file_->write_mu);
    sqlite::Transaction txn(file_->writer);
    if (!txn.status.ok()) return txn.status;
    for (const char* sql :
         {"DELETE FROM feedback WHERE user_id = ?1 AND NOT EXISTS (SELECT 1 FROM "
          "interactions i WHERE i.user_id = ?1 AND i.interaction_id = feedback.interaction_id)",
          "DELETE FROM erasures WHERE user_id = ?1"}) {
      if (Result<int64_t> n = Change(file_->writer, sql, {user_id}); !n.ok()) return n.status();
    }
    if (Status s = txn.Commit(); !s.ok()) return s;
  }
  // Committed: the rows are gone for every reader. What follows makes their bytes go too; it
  // is repeated by the next erasure should it fail here.
  return Scrub();
}

Status SqliteLifecycleStore::ResumeErasures() {
  std::vector<std::string> users;
  {
    MutexLock lock(&file_->write_mu);
    Result<sqlite::Stmt> select = file_->writer.Prepare("SELECT user_id FROM erasures");
    if (!select.ok()) return select.status();
    while (true) {
      Result<bool> row = select->Step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      users.emplace_back(select->Text(0));
    }
  }
  MutexLock one_at_a_time(&erase_mu_);
  for (const std::string& user : users) {
    // The user id is personal data: the log says only that one was finished.
    spdlog::warn("event=erasure_resumed reason=\"an erasure was interrupted (crash or stop); "
                 "finishing it before the store is used\"");
    if (Status s = FinishErasure(user); !s.ok()) return s;
  }
  return Status::Ok();
}

void SqliteLifecycleStore::YieldTheLock(std::chrono::steady_clock::time_point locked) {
  // std::mutex is not fair: leave the writer's next batches a window before the next step, as
  // long as this one held the lock, so that saves keep at least half of the time.
  std::this_thread::sleep_for(std::max<std::chrono::steady_clock::duration>(
      kBatchGap, std::chrono::steady_clock::now() - locked));
}

Status SqliteLifecycleStore::Scrub() {
  // Every deleting connection runs with secure_delete (the writer since it opened, the indexer
  // too), so the pages the rows and their index entries left are zeros. The search index still
  // holds their trigrams in old segments behind FTS5's delete markers: rewrite it into one
  // segment, step by step, the lock released between steps.
  while (true) {
    Result<bool> more = false;
    std::chrono::steady_clock::time_point locked;
    {
      MutexLock lock(&file_->write_mu);
      locked = std::chrono::steady_clock::now();
      more = SqliteSearchIndexer::MergeAllStep(file_->writer);
    }
    if (!more.ok()) return more.status();
    if (!*more) break;
    YieldTheLock(locked);
  }
  MutexLock lock(&file_->write_mu);
  if (file_->erasure_vacuum) {
    // Every page rewritten from the rows alone: nothing a page split once left in a page's
    // free space survives. Saves wait meanwhile (the operator chose it: --erasure-vacuum).
    if (Status s = file_->writer.Exec("VACUUM"); !s.ok()) return s;
  }
  // The WAL still holds every page as it was before: fold it in and truncate it.
  return file_->checkpointer->TruncateWal(file_->writer.get());
}

}  // namespace omniflow
