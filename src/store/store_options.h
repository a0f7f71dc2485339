// What names a store and how it is opened (StoreOptions), and what `omniflow migrate` reports.
// Database::Open (store/database.h) reads these; the CLI and the environment only fill them in.
#pragma once

#include <string>

namespace omniflow {

struct StoreOptions {
  // Where the embedded store keeps its files (created if missing).
  std::string data_dir = "./data";
  // Store URL: empty for SQLite in data_dir; "postgresql://..." for PostgreSQL.
  std::string url;
  // Connections kept for concurrent reads.
  int read_connections = 4;
  // SQLite page size for a new database (bytes). Each commit writes whole pages to the WAL: 8 KiB
  // wrote 14-15 KB per save where 16 KiB wrote 21-22 KB, and served 12% more saves per second
  // at the same storage (docs/performance.md, 2026-12-01). An existing store keeps its own.
  int sqlite_page_size = 8192;
  // WAL pages after a save's commit that wake the background checkpointer (SQLite's default).
  int sqlite_checkpoint_pages = 1000;
  // PostgreSQL: writer connections, each committing one batch while the next ones are sent,
  // so that a batch's inserts overlap the commit (fsync) before it. 1 commits one batch at a
  // time: measured faster here (batches twice as large; docs/performance.md, "PostgreSQL:
  // parallel pipelined commits"). Ignored by SQLite (one writer).
  int pg_write_connections = 1;
  // False only to measure what the hash chain costs (`serve --unchained-benchmark`): records
  // are stored without links, and `omniflow verify` reports the first of them as broken.
  bool hash_chain = true;
  // SQLite: end every erasure with VACUUM, which rewrites the whole file. Without it, copies of
  // cells that b-tree rebalancing moved can stay in pages' free space, where secure_delete does
  // not reach (docs/lifecycle.md). Saves wait while it runs. Ignored by PostgreSQL.
  bool erasure_vacuum = true;
};

// What `omniflow migrate` did.
struct MigrationReport {
  int applied = 0;  // migrations applied by this call (0 when already up to date)
  int version = 0;  // schema version afterwards
};

}  // namespace omniflow
