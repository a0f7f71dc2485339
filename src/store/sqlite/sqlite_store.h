// SqliteStore: the embedded default InteractionStore, the interactions facet of a
// SqliteDatabase. Appends go through the file's one write connection (sqlite_file.h) in one
// transaction per batch, reads come from a pool of read-only connections. Counts per user and
// per thread are kept in the same transaction so that `total` is O(1); the search index is fed
// off the save path by a SqliteSearchIndexer this store runs.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/idempotency.h"
#include "store/interaction_store.h"
#include "core/mutex.h"
#include "store/sqlite/sqlite_analytics_writer.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_file.h"
#include "store/sqlite/sqlite_search_indexer.h"

namespace omniflow {

class SqliteStore final : public InteractionStore {
 public:
  // Prepares its statements on `file`'s writer, starts the search indexer and opens
  // options.read_connections readers. REQUIRES: `file` migrated; it outlives the store.
  static Result<std::unique_ptr<SqliteStore>> Open(SqliteFile* file, const StoreOptions& options);
  ~SqliteStore() override;

  using InteractionStore::Append;
  Status Append(std::span<const InteractionRecord> batch, AppendReport* report) override;
  Result<HistoryPage> History(const HistoryQuery& query) override;
  Result<std::string> Get(const std::string& user_id, const std::string& interaction_id) override;
  Result<ScanPage> Scan(const ScanQuery& query) override;
  Result<std::vector<StoredInteraction>> FindAt(std::span<const UserInstant> keys) override;
  Status CheckWritable() override;
  Status CatchUp(const std::function<void(int64_t, int64_t)>& progress) override;
  std::string Describe() const override { return "sqlite:" + file_->path; }

  const std::string& path() const { return file_->path; }
  // Interactions committed but not yet in the full-text index. Thread-safe.
  Result<int64_t> SearchIndexLag();
  const SqliteCheckpointer& checkpointer() const { return *file_->checkpointer; }

 private:
  struct Reader;
  class ReaderLease;

  explicit SqliteStore(SqliteFile* file);
  Status PrepareWriter() REQUIRES(file_->write_mu);
  // Rolls the batch back, remembers the failure and returns `s`.
  Status Fail(Status s) REQUIRES(file_->write_mu);
  // The idempotency key statements, prepared on the first append that needs them.
  Status PrepareKeyStatements() REQUIRES(file_->write_mu);
  // The idempotency keys of `batch` already stored. REQUIRES: in the write transaction.
  Result<HeldKeys> FindHeldKeys(std::span<const InteractionRecord> batch)
      REQUIRES(file_->write_mu);
  Status InsertKey(const InteractionRecord& record) REQUIRES(file_->write_mu);
  Result<std::unique_ptr<Reader>> NewReader();
  Result<ReaderLease> Acquire();
  void Release(std::unique_ptr<Reader> reader);

  SqliteFile* const file_;
  // Writer side: statements on file_->writer.
  sqlite::Stmt begin_ GUARDED_BY(file_->write_mu), commit_ GUARDED_BY(file_->write_mu),
      rollback_ GUARDED_BY(file_->write_mu), insert_ GUARDED_BY(file_->write_mu),
      count_ GUARDED_BY(file_->write_mu), chain_head_ GUARDED_BY(file_->write_mu);
  // See PrepareKeyStatements.
  sqlite::Stmt key_find_ GUARDED_BY(file_->write_mu), key_insert_ GUARDED_BY(file_->write_mu),
      key_purge_ GUARDED_BY(file_->write_mu);
  int64_t last_key_purge_us_ GUARDED_BY(file_->write_mu) = 0;  // see IdempotencyPurgeDue
  std::string stored_ GUARDED_BY(file_->write_mu);  // the compact body being inserted
  // Tool index and aggregates, in the same transaction.
  SqliteAnalyticsWriter analytics_ GUARDED_BY(file_->write_mu);
  std::unique_ptr<SqliteSearchIndexer> indexer_;  // full-text index, off the save path
  std::atomic<bool> last_append_ok_{true};

  Mutex pool_mu_;
  std::vector<std::unique_ptr<Reader>> pool_ GUARDED_BY(pool_mu_);
};

}  // namespace omniflow
