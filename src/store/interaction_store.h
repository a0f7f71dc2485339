// An InteractionStore keeps interactions per user durably and serves them newest first
// (ts_us DESC, interaction_id DESC). It is a facet of a Database (store/database.h), which opens
// it: SqliteStore (embedded default) or PostgresStore (several servers on one database).
// Handlers never see SQL; the store never sees HTTP.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/interaction.h"
#include "core/status.h"
#include "store/store_options.h"

namespace omniflow {

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

// Reading interactions oldest first, in pages with a keyset cursor, for exports: memory stays
// bounded by one page whatever the size of the store.
enum class ScanOrder {
  kTime,    // (ts_us, interaction_id, user_id) ascending
  kThread,  // (user_id, thread_id, ts_us, interaction_id) ascending: each thread's turns
            // together and in order; interactions without a thread are left out
};

// The position after which a scan continues. Which fields count depends on the order: kTime
// uses ts_us, interaction_id, user_id; kThread uses user_id, thread_id, ts_us, interaction_id.
struct ScanCursor {
  int64_t ts_us = 0;
  std::string interaction_id;
  std::string user_id;
  std::string thread_id;
};

struct ScanQuery {
  std::optional<std::string> user_id;    // none: every user (the API lets only the admin omit it)
  std::optional<std::string> thread_id;  // only this thread (of any user, without user_id)
  bool without_thread = false;           // only interactions without a thread
  std::optional<int64_t> from_us;        // ts_us >= from_us
  std::optional<int64_t> to_us;          // ts_us < to_us
  ScanOrder order = ScanOrder::kTime;
  int limit = 500;                       // rows per page, 1..10000
  std::optional<ScanCursor> after;       // rows strictly after this position
};

// One interaction as a scan reads it.
struct ScannedInteraction {
  std::string json;  // canonical JSON, the object history returns
  std::string user_id;
  std::string interaction_id;
  int64_t ts_us = 0;
  std::optional<std::string> thread_id;
  std::optional<double> feedback_score;  // the interaction's feedback, if any
};

struct ScanPage {
  std::vector<ScannedInteraction> items;  // in the query's order
  std::optional<ScanCursor> next;         // set when more rows may follow: pass as `after`
};

// A user's instant, for FindAt: the interactions of `user_id` stamped `ts_us`.
struct UserInstant {
  std::string user_id;
  int64_t ts_us = 0;
};

// A stored interaction found by FindAt.
struct StoredInteraction {
  std::string user_id;
  int64_t ts_us = 0;
  std::string interaction_id;
  std::string json;  // canonical JSON, as history returns it
};

// Which microseconds this process may use for new interaction ids (see core/ids.h): `slot` of
// `slots`. A store shared by several processes leases each a distinct slot.
struct IdSpace {
  int slot = 0;
  int slots = 1;
};

// The stored interaction that holds an idempotency key (see InteractionStore::Append).
struct PriorSave {
  std::string interaction_id;
  int64_t ts_us = 0;
  std::string request_hash;  // of the request that stored it
};

// What an Append did beyond its Status.
struct AppendReport {
  // One per record of the batch, in order: set when the record carries an idempotency key that a
  // stored interaction of the same user already holds (saved by an earlier batch, another server
  // or an earlier record of this batch); the record was then not stored.
  std::vector<std::optional<PriorSave>> priors;
  // With a failed Status only: the batch may have been committed all the same (the connection
  // was lost after COMMIT was sent, and the database could not be asked since). False when it
  // certainly was not.
  bool outcome_unknown = false;
};

// Idempotency keys are kept at least this long after their save (purged later, see Append).
inline constexpr int64_t kIdempotencyKeepUs = int64_t{24} * 3600 * 1000000;

class InteractionStore {
 public:
  virtual ~InteractionStore() = default;

  // Appends `batch` in one transaction, durably (on disk when this returns ok). All or nothing.
  // A record with an idempotency key is stored with it (unique per user, in the same
  // transaction) unless the key is already held: then it is skipped and `report->priors` names
  // the holder. Keys older than kIdempotencyKeepUs before the batch's newest record are purged
  // now and then by appends that carry keys. `report` may be null.
  // REQUIRES: at most parallel_appends() callers at a time (the group-commit writer's threads,
  // or an import).
  virtual Status Append(std::span<const InteractionRecord> batch, AppendReport* report) = 0;
  Status Append(std::span<const InteractionRecord> batch) { return Append(batch, nullptr); }

  // How many Appends may run at once, each committing its batch while the others send theirs
  // (PostgreSQL: one writer connection each). Batches are still ordered in the hash chain.
  virtual int parallel_appends() const { return 1; }

  // One page of a user's history. Thread-safe. `total` is O(1) (kept counts).
  virtual Result<HistoryPage> History(const HistoryQuery& query) = 0;

  // The canonical JSON of one interaction of `user_id`; NotFound when it does not exist or
  // belongs to another user (the two are indistinguishable). Thread-safe.
  virtual Result<std::string> Get(const std::string& user_id,
                                   const std::string& interaction_id) = 0;

  // One page of interactions oldest first (see ScanQuery), with each one's feedback score.
  // Pages are read in short transactions, so a long export holds nothing between pages; rows
  // saved meanwhile after the cursor's position are included. Thread-safe.
  virtual Result<ScanPage> Scan(const ScanQuery& query) = 0;

  // Every stored interaction whose (user_id, ts_us) is one of `keys` (any order; a key with
  // no row adds nothing): a cheap batch existence check for imports, on the primary index.
  // Thread-safe.
  virtual Result<std::vector<StoredInteraction>> FindAt(std::span<const UserInstant> keys) = 0;

  // Ok while the store can accept writes (used by /healthz). Thread-safe.
  virtual Status CheckWritable() = 0;

  // Completes work the store defers off the save path (SQLite: the full-text index), calling
  // `progress(done, total)` now and then; bulk loads call it so that a loaded store is whole.
  virtual Status CatchUp(const std::function<void(int64_t, int64_t)>& progress) {
    (void)progress;
    return Status::Ok();
  }

  // A short name for logs: "sqlite:/path/omniflow.db".
  virtual std::string Describe() const = 0;

  // The id space of this process; the default is the whole space (one process per store).
  virtual IdSpace id_space() const { return {}; }
};

}  // namespace omniflow
