#include "store/sqlite/sqlite_search_indexer.h"

#include <pthread.h>
#include <sched.h>

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "core/thread_name.h"

namespace omniflow {

namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The first value of the first row of `sql`, or `fallback` when there is no row or it is NULL.
Result<int64_t> ScalarInt(sqlite::Db& db, const char* sql, int64_t bind = 0, int64_t fallback = 0) {
  Result<sqlite::Stmt> st = db.Prepare(sql);
  if (!st.ok()) return st.status();
  if (sqlite3_bind_parameter_count(st->get()) > 0) st->Bind(1, bind);
  Result<bool> row = st->Step();
  if (!row.ok()) return row.status();
  if (!*row || sqlite3_column_type(st->get(), 0) == SQLITE_NULL) return fallback;
  return st->Int(0);
}

}  // namespace

Result<std::unique_ptr<SqliteSearchIndexer>> SqliteSearchIndexer::Start(
    const std::string& path, SqliteCheckpointer* checkpointer, SearchIndexerOptions options) {
  Result<sqlite::Db> db = sqlite::Db::Open(path, SQLITE_OPEN_READWRITE);
  if (!db.ok()) return db.status();
  // Derived data: a crash may lose the last index transaction, never its consistency with the
  // watermark (both change in one transaction), so the index need not wait for the disk.
  if (Status s = db->Exec("PRAGMA synchronous=NORMAL"); !s.ok()) return s;
  // Merging frees pages that may hold the entries of deleted rows: overwrite them (see
  // OpenWriter in sqlite_database.cpp).
  if (Status s = db->Exec("PRAGMA secure_delete=ON"); !s.ok()) return s;
  // FTS5 merges its segments inside whichever insert fills a level, and a merge of large
  // segments holds the write lock for hundreds of ms while saves wait. Merging is instead done
  // here in small steps (MergeSome), each its own short transaction.
  if (Status s = db->Exec("INSERT INTO interactions_fts(interactions_fts, rank) VALUES('automerge', 0)");
      !s.ok()) {
    return s;
  }
  // The index writes as much as the rows it indexes, between the writer's transactions: its
  // commits count towards the checkpointer's limits like the writer's.
  if (checkpointer != nullptr) checkpointer->Attach(db->get());
  std::unique_ptr<SqliteSearchIndexer> indexer(new SqliteSearchIndexer(std::move(*db), options));
  indexer->thread_ = std::thread([raw = indexer.get()] { raw->Run(); });
  return indexer;
}

SqliteSearchIndexer::SqliteSearchIndexer(sqlite::Db db, SearchIndexerOptions options)
    : options_(options), db_(std::move(db)) {}

SqliteSearchIndexer::~SqliteSearchIndexer() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void SqliteSearchIndexer::NoteWrite(std::chrono::microseconds busy) {
  write_busy_us_.fetch_add(busy.count(), std::memory_order_relaxed);
}

Result<int64_t> SqliteSearchIndexer::Lag() {
  MutexLock lock(&db_mu_);
  // seq is the rowid, so the distance between the newest seq and the watermark bounds the
  // number of rows waiting (exactly, unless a purge or an erasure deleted some of them), read
  // from two B-tree edges. (Counting them walked
  // every row after the watermark: during ingest, every poll read up to max_lag_rows rows.)
  return ScalarInt(db_,
                   "SELECT coalesce((SELECT max(seq) FROM interactions), 0) - "
                   "(SELECT indexed_seq FROM search_index_progress)");
}

Result<int64_t> SqliteSearchIndexer::IndexSome(int64_t max_rows) {
  MutexLock lock(&db_mu_);
  // BEGIN IMMEDIATE takes the write lock first, so no save is half-committed while the rows
  // after the watermark are read: their seqs only grow.
  if (Status s = db_.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  auto rollback = [this](Status s) -> Result<int64_t> {
    db_mu_.AssertHeld();  // called only under the lock above
    (void)db_.Exec("ROLLBACK");
    return s;
  };
  Result<int64_t> from = ScalarInt(db_, "SELECT indexed_seq FROM search_index_progress");
  if (!from.ok()) return rollback(from.status());
  Result<sqlite::Stmt> last = db_.Prepare(
      "SELECT max(seq), count(*) FROM (SELECT seq FROM interactions WHERE seq > ?1 "
      "ORDER BY seq LIMIT ?2)");
  if (!last.ok()) return rollback(last.status());
  last->Bind(1, *from);
  last->Bind(2, max_rows);
  Result<bool> row = last->Step();
  if (!row.ok()) return rollback(row.status());
  const int64_t count = last->Int(1);
  const int64_t to = last->Int(0);
  // A statement left pending would keep this connection's snapshot past COMMIT, and its commit
  // hook's checkpoint would be refused (SQLITE_LOCKED).
  last->Reset();
  if (count == 0) {
    (void)db_.Exec("ROLLBACK");
    return int64_t{0};
  }
  Result<sqlite::Stmt> insert = db_.Prepare(
      std::string("INSERT INTO interactions_fts(rowid, user_message, assistant_response) "
                  "SELECT seq, ") +
      kIndexedValuesSql + " FROM interactions WHERE seq > ?1 AND seq <= ?2");
  if (!insert.ok()) return rollback(insert.status());
  insert->Bind(1, *from);
  insert->Bind(2, to);
  if (Status s = insert->Run(); !s.ok()) return rollback(s);
  Result<sqlite::Stmt> advance =
      db_.Prepare("UPDATE search_index_progress SET indexed_seq = ?1");
  if (!advance.ok()) return rollback(advance.status());
  advance->Bind(1, to);
  if (Status s = advance->Run(); !s.ok()) return rollback(s);
  if (Status s = db_.Exec("COMMIT"); !s.ok()) return rollback(s);
  return count;
}

Result<sqlite::Stmt> SqliteSearchIndexer::PrepareUnindex(sqlite::Db& db) {
  return db.Prepare(
      std::string("INSERT INTO interactions_fts(interactions_fts, rowid, user_message, "
                  "assistant_response) SELECT 'delete', seq, ") +
      kIndexedValuesSql +
      " FROM interactions WHERE seq IN (SELECT value FROM json_each(?1)) "
      "AND seq <= (SELECT indexed_seq FROM search_index_progress)");
}

Status SqliteSearchIndexer::AfterDeletions(sqlite::Db& db) {
  return db.Exec(
      "UPDATE search_index_progress SET indexed_seq = "
      "min(indexed_seq, coalesce((SELECT max(seq) FROM interactions), 0))");
}

Result<bool> SqliteSearchIndexer::MergeAllStep(sqlite::Db& db, int pages) {
  // A negative 'merge' counts every segment as eligible, whatever its level: repeated, it ends
  // with one segment, as 'optimize' does, but in steps that each hold the lock briefly.
  const int64_t before = sqlite3_total_changes64(db.get());
  Status s = db.Exec("INSERT INTO interactions_fts(interactions_fts, rank) VALUES('merge', " +
                     std::to_string(-std::max(1, pages)) + ")");
  if (!s.ok()) return s;
  // FTS5 documents a change count of 2 or more as "merge work was done".
  return sqlite3_total_changes64(db.get()) - before >= 2;
}

Result<bool> SqliteSearchIndexer::MergeSome() {
  MutexLock lock(&db_mu_);
  const int64_t before = sqlite3_total_changes64(db_.get());
  // At most about `merge_pages` leaf pages of merged output; only levels holding several
  // segments are eligible (FTS5's usermerge), so a merged index costs one cheap statement.
  Status s = db_.Exec("INSERT INTO interactions_fts(interactions_fts, rank) VALUES('merge', " +
                      std::to_string(options_.merge_pages) + ")");
  if (!s.ok()) return s;
  // FTS5 documents a change count of 2 or more as "merge work was done".
  return sqlite3_total_changes64(db_.get()) - before >= 2;
}

Result<bool> SqliteSearchIndexer::Step() {
  if (merge_due_) {
    Result<bool> merged = MergeSome();
    if (!merged.ok()) return merged.status();
    if (*merged) return true;
    merge_due_ = false;
  }
  Result<int64_t> n = IndexSome(options_.batch_rows);
  if (!n.ok()) return n.status();
  if (*n == 0) return false;
  merge_due_ = true;
  return true;
}

Status SqliteSearchIndexer::CatchUp(const std::function<void(int64_t, int64_t)>& progress) {
  Result<int64_t> waiting = Lag();
  if (!waiting.ok()) return waiting.status();
  int64_t done = 0;
  while (true) {
    Result<int64_t> n = IndexSome(5000);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    done += *n;
    if (progress) progress(done, std::max(done, *waiting));
  }
  // Leave the index merged as far as FTS5 would have, so that a server started next has no
  // merging left to do.
  while (true) {
    Result<bool> merged = MergeSome();
    if (!merged.ok()) return merged.status();
    if (!*merged) return Status::Ok();
  }
}

void SqliteSearchIndexer::Run() {
  NameThisThread("of-indexer");
  // Below the I/O and writer threads: indexing uses what they leave. While it works off a
  // backlog (more than idle_above_rows behind, up to max_lag_rows) the thread is SCHED_IDLE, so
  // that it takes only CPU nobody else wants: history reads in the minute after a 40 s burst,
  // while it caught up, had a p99 about 30% lower than at nice 10 (docs/performance.md). Close
  // behind live saves, or further behind than max_lag_rows, it runs at nice 10 and gets its
  // share, so that searches never scan a long unindexed tail for long.
  bool idle = false;
  auto schedule = [&idle](bool want_idle) {
    if (want_idle == idle) return;
    sched_param none{};
    if (pthread_setschedparam(pthread_self(), want_idle ? SCHED_IDLE : SCHED_OTHER, &none) != 0) {
      return;  // left as it was; the next round tries again
    }
    idle = want_idle;
    if (!idle) setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
  };
  setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10);
  // Whether the writer spent more than its share of the time since the last call appending.
  // Its appends include waiting for the lock while an index transaction holds it, so the
  // indexer backs off by itself when it gets in the way of saves.
  int64_t window_start = NowUs();
  int64_t busy_at_start = write_busy_us_.load(std::memory_order_relaxed);
  auto writer_saturated = [&] {
    const int64_t now = NowUs();
    const int64_t busy = write_busy_us_.load(std::memory_order_relaxed);
    const bool saturated = static_cast<double>(busy - busy_at_start) >
                           options_.max_writer_share * static_cast<double>(now - window_start);
    window_start = now;
    busy_at_start = busy;
    return saturated;
  };
  bool failing = false;
  while (!stopping_) {
    {
      MutexLock lock(&mu_);
      const auto deadline = std::chrono::steady_clock::now() + options_.poll;
      while (!stopping_) {
        if (!cv_.WaitUntil(&mu_, deadline)) break;
      }
    }
    if (stopping_) break;
    bool saturated = writer_saturated();
    Result<int64_t> lag = Lag();
    const bool far_behind = lag.ok() && *lag > options_.max_lag_rows;
    schedule(lag.ok() && *lag > options_.idle_above_rows && !far_behind);
    const bool lagging = saturated && far_behind;
    if (!saturated || lagging) {
      Result<bool> n = Step();
      // Keep going while there is work and the writer is not saturated meanwhile.
      while (n.ok() && *n && !stopping_.load()) {
        // SQLite's lock is not fair: leave the writer a window between two transactions.
        // While saves saturate the writer and the indexer only runs because it lags, it takes
        // a small share of the lock (one short transaction per `busy_gap`).
        std::this_thread::sleep_for(saturated ? options_.busy_gap : options_.gap);
        saturated = writer_saturated();
        if (saturated && !lagging) break;
        n = Step();
      }
      if (!n.ok() && !failing) {
        spdlog::warn("event=search_index_failed error=\"{}\"", n.status().message());
      }
      failing = !n.ok();
    }
  }
}

}  // namespace omniflow
