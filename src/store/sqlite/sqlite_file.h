// The one SQLite file of a SqliteDatabase, as its facets share it: where it is, its one write
// connection and the checkpointer that keeps its WAL bounded. Every facet writes through
// `writer` while holding `write_mu` (SQLite lets one transaction write at a time anyway; a mutex
// queues writers in this process instead of having them poll for the file lock). The search
// indexer alone writes on a connection of its own, in short slices between saves
// (sqlite_search_indexer.h), attached to the same checkpointer. Writers of chained records
// (interactions, audit entries) take their seqs and hashes from `chain` (trust/chain.h).
#pragma once

#include <memory>
#include <string>

#include "core/mutex.h"
#include "store/sqlite/sqlite_checkpointer.h"
#include "store/sqlite/sqlite_db.h"
#include "trust/chain.h"

namespace omniflow {

struct SqliteFile {
  std::string dir;   // the data dir
  std::string path;  // dir/omniflow.db
  std::shared_ptr<SqliteCheckpointer> checkpointer;  // outlives `writer`, which it serves

  Mutex write_mu;
  sqlite::Db writer GUARDED_BY(write_mu);  // WAL, synchronous=FULL, attached to `checkpointer`
  // The hash chain's newest committed link (chain_head's row), advanced by whoever commits
  // chained records, and the hasher they use.
  trust::ChainHead chain GUARDED_BY(write_mu);
  trust::ChainHasher hasher GUARDED_BY(write_mu);
  bool hash_chain = true;  // StoreOptions::hash_chain
  bool erasure_vacuum = true;  // StoreOptions::erasure_vacuum
};

}  // namespace omniflow
