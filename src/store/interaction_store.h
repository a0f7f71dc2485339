// An InteractionStore keeps interactions per user durably and serves them newest first
// (ts_us DESC, interaction_id DESC). Implementations: SqliteStore (embedded default) and,
// later, PostgresStore. Handlers never see SQL; the store never sees HTTP.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/interaction.h"
#include "core/status.h"

namespace omniflow {

struct StoreOptions {
  // Where the embedded store keeps its files (created if missing).
  std::string data_dir = "./data";
  // Store URL: empty for SQLite in data_dir; "postgresql://..." for PostgreSQL.
  std::string url;
  // Connections kept for concurrent reads.
  int read_connections = 4;
  // SQLite page size for a new database (bytes); 16 KiB measured ~2x faster for 1.2 KB rows.
  int sqlite_page_size = 16384;
};

struct HistoryQuery {
  std::string user_id;
  std::optional<std::string> thread_id;  // filter on one thread
  int limit = 50;                        // 1..1000
  int64_t offset = 0;                    // rows to skip (ignored with `after`)
  std::optional<HistoryCursor> after;    // keyset: rows strictly older than this position
};

struct HistoryPage {
  std::vector<std::string> items;        // canonical JSON of each interaction, newest first
  int64_t total = 0;                     // all rows matching user (+ thread), whatever the page
  bool has_more = false;                 // more rows after this page
  std::optional<HistoryCursor> next;     // position of the last item, when has_more
};

class InteractionStore {
 public:
  virtual ~InteractionStore() = default;

  // Opens (creating and migrating as needed) the store named by `options`.
  static Result<std::unique_ptr<InteractionStore>> Open(const StoreOptions& options);

  // Appends `batch` in one transaction, durably (on disk when this returns ok). All or nothing.
  // REQUIRES: one caller at a time (the group-commit writer, or an import).
  virtual Status Append(std::span<const InteractionRecord> batch) = 0;

  // One page of a user's history. Thread-safe. `total` is O(1) (kept counts).
  virtual Result<HistoryPage> History(const HistoryQuery& query) = 0;

  // The canonical JSON of one interaction of `user_id`; NotFound when it does not exist or
  // belongs to another user (the two are indistinguishable). Thread-safe.
  virtual Result<std::string> Get(const std::string& user_id,
                                   const std::string& interaction_id) = 0;

  // Ok while the store can accept writes (used by /healthz). Thread-safe.
  virtual Status CheckWritable() = 0;

  // A short name for logs: "sqlite:/path/omniflow.db".
  virtual std::string Describe() const = 0;
};

}  // namespace omniflow
