// The SqliteSearchIndexer feeds the trigram full-text index (interactions_fts) off the save
// path: the writer commits interactions without indexing their text, and this indexer, on its
// own connection and thread at low priority, indexes the rows after the watermark
// search_index_progress.indexed_seq in small transactions that also advance the watermark.
// Search reads the index for rows up to the watermark and scans the few rows after it, so
// results are complete at every moment. The indexer works while the writer leaves SQLite's
// write lock free most of the time (any load short of saturation), and waits while saves keep
// the writer busy (unless it lags too far), so the full-text index costs ingest nothing at peak.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/mutex.h"
#include "core/status.h"
#include "store/sqlite/sqlite_checkpointer.h"
#include "store/sqlite/sqlite_db.h"

namespace omniflow {

struct SearchIndexerOptions {
  // Rows indexed per transaction (each holds SQLite's write lock for its duration: a few ms).
  int64_t batch_rows = 64;
  // Leaf pages of merged index output per merge transaction (FTS5 'merge' command).
  int merge_pages = 32;
  // Pause between transactions, so that the writer always gets the lock between two.
  std::chrono::microseconds gap = std::chrono::microseconds(500);
  // The pause while saves saturate the writer (the indexer then runs only because it lags).
  std::chrono::microseconds busy_gap = std::chrono::microseconds(20000);
  // The writer counts as saturated when its appends took more than this share of the time
  // since the indexer last looked; the indexer then waits...
  double max_writer_share = 0.5;
  // ...unless this many rows wait to be indexed (searches scan them until they are): about a
  // minute of saves at full speed on a 2-core machine.
  int64_t max_lag_rows = 1000000;
  // Between this many waiting rows and max_lag_rows the thread runs at SCHED_IDLE (a backlog,
  // as after a burst, is caught up on CPU nobody else wants); below it, keeping up with live
  // saves is cheap and keeps search's unindexed tail short, and beyond max_lag_rows the tail
  // must not grow further: both at nice 10.
  int64_t idle_above_rows = 10000;
  // How often the thread looks for work.
  std::chrono::milliseconds poll = std::chrono::milliseconds(50);
};

class SqliteSearchIndexer {
 public:
  // The values interactions_fts indexes for a row of interactions, as SQL over its columns.
  // A contentless FTS5 table forgets a row only when given back exactly the values it indexed,
  // so IndexSome and Unindex both use this one expression.
  static constexpr const char* kIndexedValuesSql =
      "json_extract(body, '$.user_message'), json_extract(body, '$.assistant_response')";

  // For deletions: a statement on `db` that, bound to a JSON array of seqs (?1, text) and run
  // in a write transaction (REQUIRES: BEGIN IMMEDIATE taken, so that the watermark cannot move
  // meanwhile), removes those interactions from the index where they were indexed (seq <= the
  // watermark; a row after it was never indexed). Run it while the rows still exist: their text
  // is read from them. One statement for the whole set: FTS5 writes its pending changes out as
  // a new segment at the end of every statement, so one statement per row cost ten times as
  // much and left a segment per row.
  static Result<sqlite::Stmt> PrepareUnindex(sqlite::Db& db);
  // For deletions, in the same transaction, after the rows are deleted: SQLite gives a new row
  // the seq after the largest one left, so when the newest rows were deleted, seqs at or below
  // the watermark come back; the watermark moves down to the largest seq left (every row
  // between was deleted), so that those rows are indexed when they come.
  static Status AfterDeletions(sqlite::Db& db);
  // One step towards an index of one segment, its own transaction on `db` (about `pages` leaf
  // pages of output); true while there is work left. Repeated until false, no segment holds an
  // entry of a row deleted before the first step. Costs a rewrite of the index; for erasures.
  static Result<bool> MergeAllStep(sqlite::Db& db, int pages = 256);

  // Opens its own connection to the database at `path` (migrated already) and starts the
  // background thread. The connection's commits wake `checkpointer`, which must outlive the
  // indexer; without one they checkpoint as SQLite does by default.
  static Result<std::unique_ptr<SqliteSearchIndexer>> Start(const std::string& path,
                                                            SqliteCheckpointer* checkpointer,
                                                            SearchIndexerOptions options = {});
  ~SqliteSearchIndexer();  // stops the thread; what is not indexed yet stays after the watermark

  // Tells the indexer that the writer spent `busy` appending a batch. Cheap; thread-safe.
  void NoteWrite(std::chrono::microseconds busy);

  // Indexes everything committed so far, in the calling thread (for imports), reporting
  // (rows indexed, rows that were waiting) as it goes. Thread-safe with the background thread.
  Status CatchUp(const std::function<void(int64_t, int64_t)>& progress = {});

  // Rows committed but not yet indexed. Thread-safe.
  Result<int64_t> Lag() EXCLUDES(db_mu_);

 private:
  SqliteSearchIndexer(sqlite::Db db, SearchIndexerOptions options);
  // Indexes at most `max_rows` rows after the watermark in one transaction; returns how many.
  Result<int64_t> IndexSome(int64_t max_rows) EXCLUDES(db_mu_);
  // Does one bounded step of FTS5 segment merging in its own transaction; true if it did work.
  Result<bool> MergeSome() EXCLUDES(db_mu_);
  // One transaction of the background thread: a merge step while merging is due, otherwise an
  // index transaction. False when there was nothing to do. Only the background thread calls it.
  Result<bool> Step();
  void Run();

  SearchIndexerOptions options_;
  Mutex db_mu_;
  sqlite::Db db_ GUARDED_BY(db_mu_);
  bool merge_due_ = false;  // used only by thread_
  std::atomic<int64_t> write_busy_us_{0};  // total time the writer spent in appends
  Mutex mu_;
  CondVar cv_;                         // signalled when stopping_ is set
  std::atomic<bool> stopping_{false};  // set under mu_
  std::thread thread_;
};

}  // namespace omniflow
