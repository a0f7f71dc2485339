#include "store/sqlite/sqlite_store.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <utility>
#include <variant>

#include "core/ids.h"
#include "store/idempotency.h"
#include "store/paging.h"
#include "store/scan_sql.h"
#include "store/sqlite/compact_body.h"

namespace omniflow {

namespace {

// History statements: [thread filter][cursor]. Offset pages select row ids through the covering
// index first, so skipped rows never load their bodies.
constexpr const char* kHistorySql[2][2] = {
    {R"sql(SELECT i.body, i.ts_us, i.interaction_id, i.thread_id FROM interactions i
           JOIN (SELECT seq FROM interactions WHERE user_id = ?1
                 ORDER BY ts_us DESC, interaction_id DESC LIMIT ?2 OFFSET ?3) p ON i.seq = p.seq
           ORDER BY i.ts_us DESC, i.interaction_id DESC)sql",
     R"sql(SELECT body, ts_us, interaction_id, thread_id FROM interactions
           WHERE user_id = ?1 AND (ts_us, interaction_id) < (?4, ?5)
           ORDER BY ts_us DESC, interaction_id DESC LIMIT ?2)sql"},
    {R"sql(SELECT i.body, i.ts_us, i.interaction_id, i.thread_id FROM interactions i
           JOIN (SELECT seq FROM interactions WHERE user_id = ?1 AND thread_id = ?6
                 ORDER BY ts_us DESC, interaction_id DESC LIMIT ?2 OFFSET ?3) p ON i.seq = p.seq
           ORDER BY i.ts_us DESC, i.interaction_id DESC)sql",
     R"sql(SELECT body, ts_us, interaction_id, thread_id FROM interactions
           WHERE user_id = ?1 AND thread_id = ?6 AND (ts_us, interaction_id) < (?4, ?5)
           ORDER BY ts_us DESC, interaction_id DESC LIMIT ?2)sql"},
};

}  // namespace

struct SqliteStore::Reader {
  sqlite::Db db;
  sqlite::Stmt history[2][2];
  sqlite::Stmt count;
  sqlite::Stmt get;
  sqlite::Stmt find_at;  // (user_id, ts_us) -> rows, for FindAt
};

// Returns its reader to the pool when it goes out of scope.
class SqliteStore::ReaderLease {
 public:
  ReaderLease(SqliteStore* store, std::unique_ptr<Reader> reader)
      : store_(store), reader_(std::move(reader)) {}
  ReaderLease(ReaderLease&&) = default;
  ~ReaderLease() {
    if (reader_) store_->Release(std::move(reader_));
  }
  Reader* operator->() { return reader_.get(); }

 private:
  SqliteStore* store_;
  std::unique_ptr<Reader> reader_;
};

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(SqliteFile* file,
                                                       const StoreOptions& options) {
  std::unique_ptr<SqliteStore> store(new SqliteStore(file));
  {
    MutexLock lock(&store->file_->write_mu);
    if (Status s = store->PrepareWriter(); !s.ok()) return s;
  }
  Result<std::unique_ptr<SqliteSearchIndexer>> indexer =
      SqliteSearchIndexer::Start(file->path, file->checkpointer.get());
  if (!indexer.ok()) return indexer.status();
  store->indexer_ = std::move(*indexer);
  for (int i = 0; i < options.read_connections; ++i) {
    Result<std::unique_ptr<Reader>> reader = store->NewReader();
    if (!reader.ok()) return reader.status();
    MutexLock lock(&store->pool_mu_);
    store->pool_.push_back(std::move(*reader));
  }
  return store;
}

SqliteStore::SqliteStore(SqliteFile* file) : file_(file) {}

// The statements on the file's writer are finalized with the members; the file, its writer and
// its checkpointer are the SqliteDatabase's and outlive this store.
Result<int64_t> SqliteStore::SearchIndexLag() { return indexer_->Lag(); }

SqliteStore::~SqliteStore() { indexer_.reset(); }

Status SqliteStore::PrepareWriter() {
  struct {
    sqlite::Stmt* stmt;
    const char* sql;
  } statements[] = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&insert_,
       "INSERT INTO interactions(user_id, ts_us, interaction_id, thread_id, tool_calls, "
       "tool_failures, body, seq, chain_hash, usage_model, input_tokens, cached_input_tokens, "
       "output_tokens, reasoning_tokens, cost_nanos) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"},
      {&chain_head_, "UPDATE chain_head SET seq = ?1, hash = ?2 WHERE id = 1"},
      {&count_,
       "INSERT INTO interaction_counts(user_id, thread_id, n) VALUES(?1, ?2, ?3) "
       "ON CONFLICT(user_id, thread_id) DO UPDATE SET n = n + excluded.n"},
  };
  for (auto& [stmt, sql] : statements) {
    Result<sqlite::Stmt> prepared = file_->writer.Prepare(sql);
    if (!prepared.ok()) return prepared.status();
    *stmt = std::move(*prepared);
  }
  return analytics_.Prepare(file_->writer);
}

Result<std::unique_ptr<SqliteStore::Reader>> SqliteStore::NewReader() {
  Result<sqlite::Db> db = sqlite::Db::Open(file_->path, SQLITE_OPEN_READONLY);
  if (!db.ok()) return db.status();
  auto reader = std::make_unique<Reader>(Reader{std::move(*db), {}, {}, {}, {}});
  for (int thread = 0; thread < 2; ++thread) {
    for (int cursor = 0; cursor < 2; ++cursor) {
      Result<sqlite::Stmt> stmt = reader->db.Prepare(kHistorySql[thread][cursor]);
      if (!stmt.ok()) return stmt.status();
      reader->history[thread][cursor] = std::move(*stmt);
    }
  }
  Result<sqlite::Stmt> count =
      reader->db.Prepare("SELECT n FROM interaction_counts WHERE user_id = ?1 AND thread_id = ?2");
  if (!count.ok()) return count.status();
  reader->count = std::move(*count);
  Result<sqlite::Stmt> get = reader->db.Prepare(
      "SELECT body, thread_id FROM interactions "
      "WHERE user_id = ?1 AND ts_us = ?2 AND interaction_id = ?3");
  if (!get.ok()) return get.status();
  reader->get = std::move(*get);
  Result<sqlite::Stmt> find_at = reader->db.Prepare(
      "SELECT interaction_id, body, thread_id FROM interactions WHERE user_id = ?1 AND ts_us = ?2 "
      "ORDER BY interaction_id");
  if (!find_at.ok()) return find_at.status();
  reader->find_at = std::move(*find_at);
  return reader;
}

Result<SqliteStore::ReaderLease> SqliteStore::Acquire() {
  {
    MutexLock lock(&pool_mu_);
    if (!pool_.empty()) {
      std::unique_ptr<Reader> reader = std::move(pool_.back());
      pool_.pop_back();
      return ReaderLease(this, std::move(reader));
    }
  }
  Result<std::unique_ptr<Reader>> reader = NewReader();
  if (!reader.ok()) return reader.status();
  return ReaderLease(this, std::move(*reader));
}

void SqliteStore::Release(std::unique_ptr<Reader> reader) {
  MutexLock lock(&pool_mu_);
  pool_.push_back(std::move(reader));
}

Status SqliteStore::Fail(Status s) {
  rollback_.Reset();
  if (!sqlite3_get_autocommit(file_->writer.get())) (void)rollback_.Run();
  rollback_.Reset();
  last_append_ok_ = false;
  analytics_.Discard();
  return s;
}

Status SqliteStore::Append(std::span<const InteractionRecord> batch, AppendReport* report) {
  AppendReport ignored;
  if (report == nullptr) report = &ignored;
  report->priors.assign(batch.size(), std::nullopt);
  report->outcome_unknown = false;  // a local commit's outcome is always known
  if (batch.empty()) return Status::Ok();
  // The time this append holds (or waits for) the write lock tells the indexer how busy saves
  // keep the writer.
  struct NoteBusy {
    SqliteSearchIndexer* indexer;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    ~NoteBusy() {
      if (indexer == nullptr) return;
      indexer->NoteWrite(std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - start));
    }
  } note_busy{indexer_.get()};
  MutexLock lock(&file_->write_mu);
  begin_.Reset();
  Status s = begin_.Run();
  if (!s.ok()) return Fail(s);
  // Keys are looked up inside the write transaction: no other writer can take one meanwhile.
  const bool keyed = AnyKeyed(batch);
  if (keyed) {
    Result<HeldKeys> held = FindHeldKeys(batch);
    if (!held.ok()) return Fail(held.status());
    report->priors = PlanKeyedAppend(batch, *held);
  }
  std::map<std::pair<std::string_view, std::string_view>, int64_t> counts;
  // Each stored record is the chain's next link (trust/chain.h); the file's head moves only
  // once the batch has committed.
  trust::ChainHead chain = file_->chain;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (report->priors[i]) continue;  // its key is held: not stored
    const InteractionRecord& r = batch[i];
    ++chain.seq;
    if (file_->hash_chain) chain.hash = file_->hasher.Next(chain.hash, r.json);
    insert_.Reset();
    insert_.Bind(1, r.user_id);
    insert_.Bind(2, r.ts_us);
    insert_.Bind(3, r.interaction_id);
    if (r.thread_id) {
      insert_.Bind(4, *r.thread_id);
    } else {
      insert_.BindNull(4);
    }
    insert_.Bind(5, static_cast<int64_t>(r.tool_call_count));
    insert_.Bind(6, static_cast<int64_t>(r.tool_failure_count));
    // Without the fields the columns hold (see compact_body.h), when the JSON is canonical.
    insert_.Bind(7, CompactBody(r, &stored_) ? std::string_view(stored_) : std::string_view(r.json));
    insert_.Bind(8, chain.seq);
    if (file_->hash_chain) {
      insert_.BindBlob(9, trust::ChainHashBytes(chain.hash));
    } else {
      insert_.BindNull(9);
    }
    if (r.usage) {
      insert_.Bind(10, r.usage->model);
      insert_.Bind(11, r.usage->tokens.input);
      insert_.Bind(12, r.usage->tokens.cached_input);
      insert_.Bind(13, r.usage->tokens.output);
      insert_.Bind(14, r.usage->tokens.reasoning);
      if (r.usage->cost_nanos) {
        insert_.Bind(15, *r.usage->cost_nanos);
      } else {
        insert_.BindNull(15);
      }
    } else {
      for (int column = 10; column <= 15; ++column) insert_.BindNull(column);
    }
    s = insert_.Run();
    if (!s.ok()) return Fail(s);
    s = analytics_.Add(r, sqlite3_last_insert_rowid(file_->writer.get()));
    if (!s.ok()) return Fail(s);
    ++counts[{r.user_id, std::string_view()}];
    if (r.thread_id) ++counts[{r.user_id, *r.thread_id}];
    if (r.idempotency) {
      s = InsertKey(r);
      if (!s.ok()) return Fail(s);
    }
  }
  if (keyed) {
    if (std::optional<int64_t> cutoff = IdempotencyPurgeDue(batch, &last_key_purge_us_)) {
      key_purge_.Reset();
      key_purge_.Bind(1, *cutoff);
      s = key_purge_.Run();
      key_purge_.Reset();
      if (!s.ok()) return Fail(s);
    }
  }
  for (const auto& [key, n] : counts) {
    count_.Reset();
    count_.Bind(1, key.first);
    count_.Bind(2, key.second);
    count_.Bind(3, n);
    s = count_.Run();
    if (!s.ok()) return Fail(s);
  }
  insert_.Reset();
  count_.Reset();
  s = analytics_.Flush();
  if (!s.ok()) return Fail(s);
  if (chain.seq != file_->chain.seq) {
    chain_head_.Reset();
    chain_head_.Bind(1, chain.seq);
    chain_head_.BindBlob(2, trust::ChainHashBytes(chain.hash));
    s = chain_head_.Run();
    chain_head_.Reset();
    if (!s.ok()) return Fail(s);
  }
  commit_.Reset();
  s = commit_.Run();
  commit_.Reset();
  if (!s.ok()) return Fail(s);
  file_->chain = chain;
  last_append_ok_ = true;
  return Status::Ok();
}

Status SqliteStore::PrepareKeyStatements() {
  if (key_find_.get() != nullptr) return Status::Ok();
  struct {
    sqlite::Stmt* stmt;
    const char* sql;
  } statements[] = {
      {&key_find_,
       "SELECT interaction_id, ts_us, request_hash FROM idempotency_keys "
       "WHERE user_id = ?1 AND key = ?2"},
      {&key_insert_,
       "INSERT INTO idempotency_keys(user_id, key, interaction_id, ts_us, request_hash) "
       "VALUES(?1, ?2, ?3, ?4, ?5)"},
      {&key_purge_, "DELETE FROM idempotency_keys WHERE ts_us < ?1"},
  };
  for (auto& [stmt, sql] : statements) {
    Result<sqlite::Stmt> prepared = file_->writer.Prepare(sql);
    if (!prepared.ok()) return prepared.status();
    *stmt = std::move(*prepared);
  }
  return Status::Ok();
}

Result<HeldKeys> SqliteStore::FindHeldKeys(std::span<const InteractionRecord> batch) {
  if (Status s = PrepareKeyStatements(); !s.ok()) return s;
  HeldKeys held;
  for (const InteractionRecord& r : batch) {
    if (!r.idempotency) continue;
    key_find_.Reset();
    key_find_.Bind(1, r.user_id);
    key_find_.Bind(2, r.idempotency->key);
    Result<bool> row = key_find_.Step();
    if (!row.ok()) {
      key_find_.Reset();
      return row.status();
    }
    if (*row) {
      held.emplace(std::pair(r.user_id, r.idempotency->key),
                   PriorSave{std::string(key_find_.Text(0)), key_find_.Int(1),
                             std::string(key_find_.Text(2))});
    }
  }
  key_find_.Reset();
  return held;
}

Status SqliteStore::InsertKey(const InteractionRecord& record) {
  key_insert_.Reset();
  key_insert_.Bind(1, record.user_id);
  key_insert_.Bind(2, record.idempotency->key);
  key_insert_.Bind(3, record.interaction_id);
  key_insert_.Bind(4, record.ts_us);
  key_insert_.Bind(5, record.idempotency->request_hash);
  Status s = key_insert_.Run();
  key_insert_.Reset();
  return s;
}

Result<HistoryPage> SqliteStore::History(const HistoryQuery& query) {
  Result<ReaderLease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  ReaderLease& reader = *lease;
  const bool by_thread = query.thread_id.has_value();
  const bool by_cursor = query.after.has_value();

  HistoryPage page;
  sqlite::Stmt& count = reader->count;
  count.Reset();
  count.Bind(1, query.user_id);
  count.Bind(2, by_thread ? std::string_view(*query.thread_id) : std::string_view());
  Result<bool> row = count.Step();
  if (!row.ok()) return row.status();
  page.total = *row ? count.Int(0) : 0;
  count.Reset();
  if (page.total == 0) return page;

  sqlite::Stmt& stmt = reader->history[by_thread][by_cursor];
  stmt.Reset();
  stmt.Bind(1, query.user_id);
  // A cursor page fetches one extra row to learn whether more follow.
  stmt.Bind(2, by_cursor ? FetchLimit(query.limit) : int64_t{query.limit});
  if (by_cursor) {
    stmt.Bind(4, query.after->ts_us);
    stmt.Bind(5, query.after->interaction_id);
  } else {
    stmt.Bind(3, query.offset);
  }
  if (by_thread) stmt.Bind(6, *query.thread_id);
  HistoryCursor last;
  page.items.reserve(static_cast<size_t>(query.limit));
  while (true) {
    row = stmt.Step();
    if (!row.ok()) {
      stmt.Reset();
      return row.status();
    }
    if (!*row) break;
    if (PageIsFull(page.items.size(), query.limit, &page.has_more)) break;
    last.ts_us = stmt.Int(1);
    last.interaction_id = std::string(stmt.Text(2));
    std::optional<std::string_view> thread;
    if (!stmt.IsNull(3)) thread = stmt.Text(3);
    page.items.push_back(
        ExpandBody(stmt.Text(0), last.interaction_id, last.ts_us, query.user_id, thread));
  }
  stmt.Reset();
  if (!by_cursor) page.has_more = MoreAfterOffset(query.offset, page.items.size(), page.total);
  if (page.has_more && !page.items.empty()) page.next = std::move(last);
  return page;
}

Result<std::string> SqliteStore::Get(const std::string& user_id,
                                     const std::string& interaction_id) {
  int64_t ts_us = 0;
  if (!TimestampOfInteractionId(interaction_id, &ts_us)) return Status::NotFound("no such interaction");
  Result<ReaderLease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  sqlite::Stmt& get = (*lease)->get;
  get.Reset();
  get.Bind(1, user_id);
  get.Bind(2, ts_us);
  get.Bind(3, interaction_id);
  Result<bool> row = get.Step();
  if (!row.ok()) {
    get.Reset();
    return row.status();
  }
  if (!*row) {
    get.Reset();
    return Status::NotFound("no such interaction");
  }
  std::optional<std::string_view> thread;
  if (!get.IsNull(1)) thread = get.Text(1);
  std::string body = ExpandBody(get.Text(0), interaction_id, ts_us, user_id, thread);
  get.Reset();
  return body;
}

Result<ScanPage> SqliteStore::Scan(const ScanQuery& query) {
  const ScanStatement statement = BuildScanStatement(query, SqlDialect::kSqlite);
  Result<ReaderLease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  // Prepared per page: a page reads hundreds of rows, so preparing costs little beside it, and
  // the filters' combinations need no statement cache.
  Result<sqlite::Stmt> stmt = (*lease)->db.Prepare(statement.sql);
  if (!stmt.ok()) return stmt.status();
  for (size_t i = 0; i < statement.params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    std::visit([&](const auto& v) { stmt->Bind(index, v); }, statement.params[i]);
  }
  ScanPage page;
  page.items.reserve(static_cast<size_t>(std::min(query.limit, 1000)));
  while (true) {
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (page.items.size() == static_cast<size_t>(query.limit)) {
      page.next = CursorAfter(page.items.back(), query.order);
      break;
    }
    ScannedInteraction item;
    item.ts_us = stmt->Int(1);
    item.interaction_id = std::string(stmt->Text(2));
    item.user_id = std::string(stmt->Text(3));
    if (!stmt->IsNull(4)) item.thread_id = std::string(stmt->Text(4));
    if (!stmt->IsNull(5)) item.feedback_score = sqlite3_column_double(stmt->get(), 5);
    std::optional<std::string_view> thread;
    if (item.thread_id) thread = *item.thread_id;
    item.json = ExpandBody(stmt->Text(0), item.interaction_id, item.ts_us, item.user_id, thread);
    page.items.push_back(std::move(item));
  }
  return page;
}

Result<std::vector<StoredInteraction>> SqliteStore::FindAt(std::span<const UserInstant> keys) {
  std::vector<StoredInteraction> found;
  if (keys.empty()) return found;
  Result<ReaderLease> lease = Acquire();
  if (!lease.ok()) return lease.status();
  sqlite::Stmt& find = (*lease)->find_at;
  for (const UserInstant& key : keys) {
    find.Reset();
    find.Bind(1, key.user_id);
    find.Bind(2, key.ts_us);
    while (true) {
      Result<bool> row = find.Step();
      if (!row.ok()) {
        find.Reset();
        return row.status();
      }
      if (!*row) break;
      StoredInteraction s;
      s.user_id = key.user_id;
      s.ts_us = key.ts_us;
      s.interaction_id = std::string(find.Text(0));
      std::optional<std::string_view> thread;
      if (!find.IsNull(2)) thread = find.Text(2);
      s.json = ExpandBody(find.Text(1), s.interaction_id, s.ts_us, s.user_id, thread);
      found.push_back(std::move(s));
    }
  }
  find.Reset();
  return found;
}

Status SqliteStore::CatchUp(const std::function<void(int64_t, int64_t)>& progress) {
  return indexer_ ? indexer_->CatchUp(progress) : Status::Ok();
}

Status SqliteStore::CheckWritable() {
  struct statvfs fs {};
  if (::statvfs(file_->dir.c_str(), &fs) != 0) return Status::Unavailable("cannot stat the data dir");
  const uint64_t free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
  if (free_bytes < (256u << 10)) return Status::Unavailable("the data dir's disk is full");
  if (::access(file_->dir.c_str(), W_OK) != 0) return Status::Unavailable("the data dir is read-only");
  if (!last_append_ok_.load()) {
    return Status::Unavailable("the last write failed; it is retried with the next save");
  }
  return Status::Ok();
}

}  // namespace omniflow
