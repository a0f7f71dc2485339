// PostgresStore: the interactions facet of a PostgresDatabase, for several stateless servers on
// one PostgreSQL database.
// Appends come from the group-commit writer: a batch is one transaction of four statements sent
// in one round trip (pipeline mode), the rows as arrays through unnest, the kept counts upserted
// in the same transaction, answered only after COMMIT (durable with synchronous_commit on).
// Several batches may be in flight at once, each on a writer connection of its own: a batch is
// hashed on the head the batches before it will leave (predicted here), and the database
// commits it only if that is the head then (AdvanceChainHead); otherwise it is redone with the
// new head read from the database, and only as a last resort with the head locked
// (BeginChained).
// Reads run on a pool of connections, each in a transaction that first sets the user for
// row-level security. Each process leases one of kIdSlots id slots (table id_slots), renewed
// by a background thread, so interaction ids stay unique across processes; a server that
// cannot vouch for its lease refuses saves rather than risk a duplicate id. No session state is
// kept anywhere, so every connection may go through pgbouncer in transaction mode.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "store/idempotency.h"
#include "store/interaction_store.h"
#include "store/postgres/pg_conn.h"
#include "trust/chain.h"

namespace omniflow {

class PostgresStore final : public InteractionStore {
 public:
  // Most servers that may share one database at once (each holds one id slot).
  static constexpr int kIdSlots = 16;

  // How long a slot lease lasts, and how often the holder renews it.
  static constexpr std::chrono::seconds kLeaseTerm{60};
  static constexpr std::chrono::seconds kRenewEvery{10};

  // Leases an id slot and keeps it (on a connection of its own); appends go through `writer`
  // and `write_connections` - 1 more connections, reads through `readers`. REQUIRES: the
  // database migrated; `readers` outlives the store.
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& url, pg::Conn writer,
                                                     pg::Pool* readers, int write_connections = 1);
  // Stops renewing and gives the slot back.
  ~PostgresStore() override;

  using InteractionStore::Append;
  Status Append(std::span<const InteractionRecord> batch, AppendReport* report) override;
  Result<HistoryPage> History(const HistoryQuery& query) override;
  Result<std::string> Get(const std::string& user_id, const std::string& interaction_id) override;
  Result<ScanPage> Scan(const ScanQuery& query) override;
  Result<std::vector<StoredInteraction>> FindAt(std::span<const UserInstant> keys) override;
  Status CheckWritable() override;
  int parallel_appends() const override { return static_cast<int>(lanes_.size()); }
  std::string Describe() const override { return pg::RedactUrl(url_); }
  IdSpace id_space() const override { return {slot_, kIdSlots}; }
  // StoreOptions::hash_chain; set before the first Append.
  void set_hash_chain(bool on) { hash_chain_ = on; }

 private:
  using SteadyClock = std::chrono::steady_clock;

  PostgresStore(std::string url, std::vector<pg::Conn> writers, pg::Conn lease, int slot,
                std::string holder, pg::Pool* readers);
  // A writer connection no other Append uses, waiting for one if need be; back with PutLane.
  pg::Conn* TakeLane() EXCLUDES(lanes_mu_);
  void PutLane(pg::Conn* lane) EXCLUDES(lanes_mu_);
  // The chain links of `jsons` after `from`, as array literals of seqs and hex hashes, and the
  // head they leave.
  struct Links {
    std::string seqs, hashes;
    trust::ChainHead head;
  };
  Links Link(const trust::ChainHead& from, std::span<const std::string_view> jsons)
      REQUIRES(chain_mu_);
  // One transaction storing the records of `batch` whose `priors` entry is empty (all when
  // `priors` is), with their idempotency keys. On failure, `*maybe_committed` tells whether the
  // transaction may have committed all the same.
  // The records stored are the hash chain's next links (trust/chain.h): hashed on the predicted
  // head and sent in one round trip that commits only if it was the head; else (or with no
  // prediction) the transaction first locks the chain's head (one round trip), then hashes and
  // sends the rest (another).
  Status AppendOnce(pg::Conn& conn, std::span<const InteractionRecord> batch,
                    std::span<const std::optional<PriorSave>> priors, bool* maybe_committed);
  // The idempotency keys of `batch` already stored.
  Result<HeldKeys> FindHeldKeys(pg::Conn& conn, std::span<const InteractionRecord> batch);
  // After AppendOnce failed with `failure` and may have committed: asks the database, after
  // reconnecting, whether the batch's first stored record is there. Ok when it is, `failure`
  // when it is not, and Unavailable with `*unknown` set when the database cannot be asked.
  Status ResolveOutcome(pg::Conn& conn, std::span<const InteractionRecord> batch,
                        std::span<const std::optional<PriorSave>> priors, Status failure,
                        bool* unknown);
  // Extends the lease; Unavailable when the database cannot be reached or (for good) when
  // another server holds the slot.
  Status RenewLease() EXCLUDES(lease_mu_);
  // Ok while the lease is known to be held for a while yet, renewing it first if needed.
  Status CheckLease() EXCLUDES(lease_mu_);
  void RenewLoop() EXCLUDES(lease_mu_);

  const std::string url_;
  // The writer connections ("lanes"), each used by one Append at a time.
  std::vector<std::unique_ptr<pg::Conn>> lanes_;
  Mutex lanes_mu_;
  CondVar lanes_cv_;  // signalled when a lane is put back
  std::vector<pg::Conn*> idle_lanes_ GUARDED_BY(lanes_mu_);
  std::atomic<bool> last_append_ok_{true};
  bool hash_chain_ = true;

  Mutex chain_mu_;  // orders the batches in the chain: held while one is hashed
  trust::ChainHasher hasher_ GUARDED_BY(chain_mu_);
  // The head the batches in flight will leave when they commit; none when unknown (at the
  // start, after a failure): the next batch then locks the head.
  std::optional<trust::ChainHead> predicted_ GUARDED_BY(chain_mu_);
  // Counts the times predicted_ was set from the database's head.
  uint64_t epoch_ GUARDED_BY(chain_mu_) = 0;
  // A batch linked on the predicted head, until it committed or failed. A batch whose head
  // check ran before its predecessor's head move waits for the predecessor's ticket: committed,
  // it sends the same transaction again; failed, it is linked again.
  struct Ticket {
    enum class State { kPending, kCommitted, kFailed } state = State::kPending;
  };
  // The ticket of the batch in flight that leaves predicted_; none when that one is not known.
  std::shared_ptr<Ticket> tail_ GUARDED_BY(chain_mu_);
  CondVar settled_;  // signalled when a ticket settles
  int64_t last_key_purge_us_ GUARDED_BY(chain_mu_) = 0;  // see IdempotencyPurgeDue

  const int slot_;
  const std::string holder_;  // this process's random lease token
  Mutex lease_mu_;
  pg::Conn lease_ GUARDED_BY(lease_mu_);
  SteadyClock::time_point lease_until_ GUARDED_BY(lease_mu_);  // with a safety margin
  bool slot_lost_ GUARDED_BY(lease_mu_) = false;
  bool stopping_ GUARDED_BY(lease_mu_) = false;
  CondVar lease_cv_;  // signalled when stopping_ is set
  std::thread renewer_;

  pg::Pool* const readers_;
};

}  // namespace omniflow
