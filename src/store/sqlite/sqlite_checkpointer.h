// The SqliteCheckpointer folds the WAL back into the database file on its own connection and
// thread, so that the save path never does it. SQLite's default auto-checkpoint runs inside the
// commit of whichever connection crosses 1,000 WAL pages: with 8 KiB pages that is 8 MB copied
// and the database file fsynced while every waiting save stalls behind the writer. Attach() turns
// a connection's auto-checkpoint off and has its commits wake this thread instead, which runs
// PASSIVE checkpoints (they never take the write lock) until the WAL is folded in. A PASSIVE
// checkpoint folds frames in but cannot make the WAL start over: that takes a moment when it is
// all folded in and no reader holds a snapshot in it as the next transaction begins, which two
// connections writing by turns (the store's writer and the search indexer) or steady readers
// never leave. So when the WAL still grows past `hard_limit_pages` (a checkpoint cannot keep up,
// or cannot restart it), the committing connection waits for a running background checkpoint
// to end and runs a RESTART checkpoint itself: it folds in the rest, waits (the connection's
// busy timeout) for readers to leave the WAL and holds back other writers meanwhile, so that
// the next commit starts the WAL over and the file stays bounded. Attach every connection that
// writes to the database file, or its commits escape both limits: ForFile gives every facet of
// the store (interactions, search index, feedback, data documents) the file's one checkpointer.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "core/status.h"
#include "store/sqlite/sqlite_db.h"
#include "core/mutex.h"

namespace omniflow {

struct CheckpointOptions {
  // WAL pages after a commit that wake the checkpointer (SQLite's default auto-checkpoint).
  int wake_pages = 1000;
  // WAL pages at which a committing connection checkpoints itself and restarts the WAL.
  int hard_limit_pages = 4000;

  // The store's limits for StoreOptions::sqlite_checkpoint_pages: the hard limit is 4 x that.
  static CheckpointOptions ForWakePages(int wake_pages);
};

class SqliteCheckpointer {
 public:
  // The checkpointer of the database file at `path`, shared by every connection of this process
  // that writes to it: the running one (with the options it started with), or a new one with
  // `options`. Thread-safe.
  static Result<std::shared_ptr<SqliteCheckpointer>> ForFile(const std::string& path,
                                                              CheckpointOptions options = {});
  // Stops the thread; connections must have been detached (or closed) first.
  ~SqliteCheckpointer();

  SqliteCheckpointer(const SqliteCheckpointer&) = delete;
  SqliteCheckpointer& operator=(const SqliteCheckpointer&) = delete;

  // Hands `db`'s checkpoints to this thread. REQUIRES: Detach(db) or close `db` before this
  // object dies.
  void Attach(sqlite3* db);
  static void Detach(sqlite3* db);

  // Folds the whole WAL into the database file and truncates the WAL to zero bytes, on `db` (a
  // connection to this file with no transaction open), for erasures: afterwards the WAL holds
  // no byte of what was committed before. Queues behind a running checkpoint of this process,
  // then waits (`db`'s busy timeout, up to `attempts` times) for other writers to finish and
  // for readers to leave the WAL, holding back new writers meanwhile. Unavailable when that
  // never happened.
  Status TruncateWal(sqlite3* db, int attempts = 5);

  // Checkpoints completed by the thread, and those a committing connection had to do itself.
  int64_t background_checkpoints() const { return background_.load(std::memory_order_relaxed); }
  int64_t inline_checkpoints() const { return inline_.load(std::memory_order_relaxed); }

 private:
  static Result<std::unique_ptr<SqliteCheckpointer>> Start(const std::string& path,
                                                            CheckpointOptions options);
  SqliteCheckpointer(sqlite::Db db, CheckpointOptions options);
  static int OnCommit(void* self, sqlite3* db, const char* schema, int wal_pages);
  void Run();

  const CheckpointOptions options_;
  sqlite::Db db_;  // used only by thread_
  std::atomic<int64_t> background_{0};
  std::atomic<int64_t> inline_{0};

  // Held for the length of every checkpoint: SQLite refuses a second concurrent checkpoint at
  // once (SQLITE_BUSY, no busy handler), so the hard-limit path must queue behind the thread.
  Mutex checkpoint_mu_;

  Mutex mu_;
  CondVar cv_;
  bool wanted_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace omniflow
