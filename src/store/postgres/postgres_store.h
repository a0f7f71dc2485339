// PostgresStore: the interactions facet of a PostgresDatabase, for several stateless servers on
// one PostgreSQL database.
// Appends come from the group-commit writer: a batch is one transaction of four statements sent
// in one round trip (pipeline mode), the rows as arrays through unnest, the kept counts upserted
// in the same transaction, answered only after COMMIT (durable with synchronous_commit on).
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

  // Leases an id slot and keeps it (on a connection of its own); appends go through `writer`,
  // reads through `readers`. REQUIRES: the database migrated; `readers` outlives the store.
  static Result<std::unique_ptr<PostgresStore>> Open(const std::string& url, pg::Conn writer,
                                                     pg::Pool* readers);
  // Stops renewing and gives the slot back.
  ~PostgresStore() override;

  using InteractionStore::Append;
  Status Append(std::span<const InteractionRecord> batch, AppendReport* report) override;
  Result<HistoryPage> History(const HistoryQuery& query) override;
  Result<std::string> Get(const std::string& user_id, const std::string& interaction_id) override;
  Result<ScanPage> Scan(const ScanQuery& query) override;
  Result<std::vector<StoredInteraction>> FindAt(std::span<const UserInstant> keys) override;
  Status CheckWritable() override;
  std::string Describe() const override { return pg::RedactUrl(url_); }
  IdSpace id_space() const override { return {slot_, kIdSlots}; }

 private:
  using SteadyClock = std::chrono::steady_clock;

  PostgresStore(std::string url, pg::Conn writer, pg::Conn lease, int slot, std::string holder,
                pg::Pool* readers);
  // One transaction storing the records of `batch` whose `priors` entry is empty (all when
  // `priors` is), with their idempotency keys. On failure, `*maybe_committed` tells whether the
  // transaction may have committed all the same.
  // The records stored are the hash chain's next links (trust/chain.h): the transaction first
  // locks the chain's head (one round trip), then hashes and sends the rest (another).
  Status AppendOnce(std::span<const InteractionRecord> batch,
                    std::span<const std::optional<PriorSave>> priors, bool* maybe_committed);
  // The idempotency keys of `batch` already stored.
  Result<HeldKeys> FindHeldKeys(std::span<const InteractionRecord> batch);
  // After AppendOnce failed with `failure` and may have committed: asks the database, after
  // reconnecting, whether the batch's first stored record is there. Ok when it is, `failure`
  // when it is not, and Unavailable with `*unknown` set when the database cannot be asked.
  Status ResolveOutcome(std::span<const InteractionRecord> batch,
                        std::span<const std::optional<PriorSave>> priors, Status failure,
                        bool* unknown);
  // Extends the lease; Unavailable when the database cannot be reached or (for good) when
  // another server holds the slot.
  Status RenewLease() EXCLUDES(lease_mu_);
  // Ok while the lease is known to be held for a while yet, renewing it first if needed.
  Status CheckLease() EXCLUDES(lease_mu_);
  void RenewLoop() EXCLUDES(lease_mu_);

  const std::string url_;
  // REQUIRES: used only by Append's caller (one at a time).
  pg::Conn writer_;
  std::atomic<bool> last_append_ok_{true};
  int64_t last_key_purge_us_ = 0;  // see IdempotencyPurgeDue
  trust::ChainHasher hasher_;

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
