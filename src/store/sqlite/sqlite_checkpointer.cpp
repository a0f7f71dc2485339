#include "store/sqlite/sqlite_checkpointer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/thread_name.h"

namespace omniflow {

CheckpointOptions CheckpointOptions::ForWakePages(int wake_pages) {
  CheckpointOptions options;
  options.wake_pages = std::max(1, wake_pages);
  options.hard_limit_pages = 4 * options.wake_pages;
  return options;
}

Result<std::shared_ptr<SqliteCheckpointer>> SqliteCheckpointer::ForFile(const std::string& path,
                                                                        CheckpointOptions options) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<SqliteCheckpointer>> running;  // GUARDED_BY(mu)
  std::error_code ec;
  std::string key = std::filesystem::weakly_canonical(path, ec).string();
  if (ec) key = path;
  std::lock_guard<std::mutex> lock(mu);
  std::erase_if(running, [](const auto& entry) { return entry.second.expired(); });
  if (std::shared_ptr<SqliteCheckpointer> shared = running[key].lock()) return shared;
  Result<std::unique_ptr<SqliteCheckpointer>> started = Start(path, options);
  if (!started.ok()) return started.status();
  std::shared_ptr<SqliteCheckpointer> shared = std::move(*started);
  running[key] = shared;
  return shared;
}

Result<std::unique_ptr<SqliteCheckpointer>> SqliteCheckpointer::Start(const std::string& path,
                                                                      CheckpointOptions options) {
  Result<sqlite::Db> db = sqlite::Db::Open(path, SQLITE_OPEN_READWRITE);
  if (!db.ok()) return db.status();
  // The database file is fsynced after each checkpoint, before the WAL may be reused.
  if (Status s = db->Exec("PRAGMA synchronous=FULL"); !s.ok()) return s;
  // A checkpoint of its own would be pointless here: this connection never writes.
  sqlite3_wal_autocheckpoint(db->get(), 0);
  std::unique_ptr<SqliteCheckpointer> checkpointer(new SqliteCheckpointer(std::move(*db), options));
  checkpointer->thread_ = std::thread([raw = checkpointer.get()] { raw->Run(); });
  return checkpointer;
}

SqliteCheckpointer::SqliteCheckpointer(sqlite::Db db, CheckpointOptions options)
    : options_(options), db_(std::move(db)) {}

SqliteCheckpointer::~SqliteCheckpointer() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void SqliteCheckpointer::Attach(sqlite3* db) { sqlite3_wal_hook(db, &OnCommit, this); }

void SqliteCheckpointer::Detach(sqlite3* db) { sqlite3_wal_hook(db, nullptr, nullptr); }

int SqliteCheckpointer::OnCommit(void* self, sqlite3* db, const char* schema, int wal_pages) {
  auto* checkpointer = static_cast<SqliteCheckpointer*>(self);
  if (wal_pages >= checkpointer->options_.hard_limit_pages) {
    // The background thread cannot keep up, or its checkpoints cannot restart the WAL (another
    // connection kept writing or reading in it). After the thread's checkpoint (if one runs),
    // so that this one is not refused as a concurrent one, fold the rest in and wait for the
    // readers to leave the WAL: the next commit then starts it over. (A PASSIVE one here let
    // the file grow by every commit while the indexer wrote between the writer's batches.)
    MutexLock serial(&checkpointer->checkpoint_mu_);
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
    checkpointer->inline_.fetch_add(1, std::memory_order_relaxed);
    return SQLITE_OK;
  }
  if (wal_pages >= checkpointer->options_.wake_pages) {
    {
      MutexLock lock(&checkpointer->mu_);
      checkpointer->wanted_ = true;
    }
    checkpointer->cv_.Signal();
  }
  return SQLITE_OK;
}

Status SqliteCheckpointer::TruncateWal(sqlite3* db, int attempts) {
  MutexLock serial(&checkpoint_mu_);
  int rc = SQLITE_OK;
  for (int i = 0; i < std::max(1, attempts); ++i) {
    int wal_frames = 0, checkpointed = 0;
    rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, &wal_frames,
                                   &checkpointed);
    if (rc == SQLITE_OK) return Status::Ok();
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
  }
  return sqlite::ErrorStatus(db, rc, "truncating the WAL");
}

void SqliteCheckpointer::Run() {
  NameThisThread("of-checkpoint");
  while (true) {
    {
      MutexLock lock(&mu_);
      while (!wanted_ && !stopping_) cv_.Wait(&mu_);
      if (stopping_) return;
      wanted_ = false;
    }
    int wal_frames = 0, checkpointed = 0;
    int rc;
    {
      MutexLock serial(&checkpoint_mu_);
      rc = sqlite3_wal_checkpoint_v2(db_.get(), "main", SQLITE_CHECKPOINT_PASSIVE, &wal_frames,
                                     &checkpointed);
    }
    if (rc == SQLITE_OK) {
      background_.fetch_add(1, std::memory_order_relaxed);
    } else if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
      // A full disk or an I/O error: the next commit past the threshold tries again.
      spdlog::warn("event=checkpoint_failed error=\"{}\"", sqlite3_errmsg(db_.get()));
    }
  }
}

}  // namespace omniflow
