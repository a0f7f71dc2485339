// SqliteStore: the embedded default InteractionStore. One SQLite file in WAL mode with
// synchronous=FULL; appends come from one writer connection in one transaction per batch, reads
// from a pool of connections. Counts per user and per thread are kept in the same transaction
// so that `total` is O(1). The WAL is checkpointed by a thread of its own, never by a commit.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/idempotency.h"
#include "store/interaction_store.h"
#include "store/sqlite/sqlite_analytics_writer.h"
#include "store/sqlite/sqlite_checkpointer.h"
#include "store/sqlite/sqlite_search_indexer.h"
#include "store/sqlite/sqlite_db.h"
#include "core/mutex.h"

namespace omniflow {

class SqliteStore final : public InteractionStore {
 public:
  static Result<std::unique_ptr<SqliteStore>> Open(const StoreOptions& options);
  ~SqliteStore() override;

  using InteractionStore::Append;
  Status Append(std::span<const InteractionRecord> batch, AppendReport* report) override;
  Result<HistoryPage> History(const HistoryQuery& query) override;
  Result<std::string> Get(const std::string& user_id, const std::string& interaction_id) override;
  Status CheckWritable() override;
  Status CatchUp(const std::function<void(int64_t, int64_t)>& progress) override;
  std::string Describe() const override { return "sqlite:" + path_; }

  const std::string& path() const { return path_; }
  const SqliteCheckpointer& checkpointer() const { return *checkpointer_; }

 private:
  struct Reader;
  class ReaderLease;

  SqliteStore(std::string dir, std::string path, sqlite::Db writer);
  Status PrepareWriter();
  // The idempotency key statements, prepared on the first append that needs them.
  Status PrepareKeyStatements();
  // The idempotency keys of `batch` already stored. REQUIRES: in the write transaction.
  Result<HeldKeys> FindHeldKeys(std::span<const InteractionRecord> batch);
  Status InsertKey(const InteractionRecord& record);
  Result<std::unique_ptr<Reader>> NewReader();
  Result<ReaderLease> Acquire();
  void Release(std::unique_ptr<Reader> reader);

  const std::string dir_;
  const std::string path_;
  // Writer side. REQUIRES: used only by Append's caller (one at a time).
  sqlite::Db writer_;
  sqlite::Stmt begin_, commit_, rollback_, insert_, count_;
  sqlite::Stmt key_find_, key_insert_, key_purge_;  // see PrepareKeyStatements
  int64_t last_key_purge_us_ = 0;                   // see IdempotencyPurgeDue
  std::string stored_;  // the compact body being inserted
  SqliteAnalyticsWriter analytics_;  // tool index and aggregates, same transaction
  std::unique_ptr<SqliteSearchIndexer> indexer_;  // full-text index, off the save path
  std::shared_ptr<SqliteCheckpointer> checkpointer_;  // folds the WAL in, off the save path
  std::atomic<bool> last_append_ok_{true};

  Mutex pool_mu_;
  std::vector<std::unique_ptr<Reader>> pool_ GUARDED_BY(pool_mu_);
};

// The migrations of the interaction store, in order; exposed for tests.
Status MigrateSqlite(sqlite::Db& db);

}  // namespace omniflow
