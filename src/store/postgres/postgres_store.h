// PostgresStore: the InteractionStore for several stateless servers on one PostgreSQL database.
// Appends come from the group-commit writer: a batch is one transaction of four statements sent
// in one round trip (pipeline mode), the rows as arrays through unnest, the kept counts upserted
// in the same transaction, answered only after COMMIT (durable with synchronous_commit on).
// Reads run on a pool of connections, each in a transaction that first sets the user for
// row-level security. Each process leases one of kIdSlots id slots with a session advisory lock,
// so interaction ids stay unique across processes.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "store/interaction_store.h"
#include "store/postgres/pg_conn.h"

namespace omniflow {

class PostgresStore final : public InteractionStore {
 public:
  // Most servers that may share one database at once (each holds one id slot).
  static constexpr int kIdSlots = 16;

  // Connects, migrates (under the migration lock) and leases an id slot.
  static Result<std::unique_ptr<PostgresStore>> Open(const StoreOptions& options);

  Status Append(std::span<const InteractionRecord> batch) override;
  Result<HistoryPage> History(const HistoryQuery& query) override;
  Result<std::string> Get(const std::string& user_id, const std::string& interaction_id) override;
  Status CheckWritable() override;
  std::string Describe() const override { return pg::RedactUrl(url_); }
  IdSpace id_space() const override { return {slot_, kIdSlots}; }

 private:
  PostgresStore(std::string url, pg::Conn writer, pg::Conn lease, int slot, size_t keep);
  Status AppendOnce(std::span<const InteractionRecord> batch);
  // Re-takes this process's id slot after the lease connection was lost.
  Status RenewLease();

  const std::string url_;
  // REQUIRES: used only by Append's caller (one at a time).
  pg::Conn writer_;
  std::atomic<bool> last_append_ok_{true};
  // Holds the id slot's advisory lock for the life of the process.
  std::mutex lease_mu_;
  pg::Conn lease_;  // GUARDED_BY(lease_mu_)
  std::atomic<bool> slot_lost_{false};
  const int slot_;
  pg::Pool readers_;
};

}  // namespace omniflow
