// PostgresChainStore: the hash chain facet of a PostgresDatabase (store/chain_store.h). The
// writer (postgres_store.cpp) appends links with its batches; this reads the head and walks the
// chain for `omniflow verify`, with a cursor in one REPEATABLE READ transaction.
#pragma once

#include "store/chain_store.h"
#include "store/postgres/pg_conn.h"

namespace omniflow {

// Writers of chained records (the interactions' batches, audit entries) each run one
// transaction that first locks the chain's head, so that writers on several servers take their
// seqs one after the other:
//   Result<trust::ChainHead> head = BeginChained(conn);   // BEGIN; lock; read the head
//   ... hash the records from *head, then in one round trip:
//   conn.Transaction({inserts..., MoveChainHead(new_head)}, kInChainedTransaction);
// BeginChained reconnects once when the server had closed the idle connection (nothing could
// have committed); on failure it leaves no transaction open.
// With `before`, those statements run first in the transaction, one round trip each (so that a
// writer takes its other locks before the head's, in the order of AdvanceChainHead's writers).
Result<trust::ChainHead> BeginChained(pg::Conn& conn, std::span<const pg::Query> before = {});
// What Conn::Transaction starts with to go on in the transaction BeginChained opened: it fails
// (and so commits nothing) unless that transaction is still open on the connection.
inline constexpr const char* kInChainedTransaction = "SAVEPOINT chain_locked";
// The statement that moves the head to `head`.
pg::Query MoveChainHead(const trust::ChainHead& head);
// A writer may also hash a batch on a head it only expects (the head the batches it has in
// flight will leave) and send, in one plain READ COMMITTED transaction, its inserts followed
// by this statement as the last before COMMIT: it moves the head from `expected` to `head`,
// first waiting for any transaction in flight that moved the head to end, and fails the
// transaction with SQLSTATE kChainHeadMoved (Status Aborted) unless the head then is `expected`.
// So a batch never commits linked to a predecessor that did not commit, and seqs stay unique
// and gap-free, whatever order the transactions arrive in.
pg::Query AdvanceChainHead(const trust::ChainHead& expected, const trust::ChainHead& head);
inline constexpr const char* kChainHeadMoved = "40O01";
// So that a batch's head check waits for the batch before it to end even when that one's
// statements reach the database later: the first statement of a speculative transaction claims
// its new head's seq (a transaction-scoped advisory lock in the space ('omnj', seq)), and before
// its counts, keys and head move it waits for the claim on the seq it expects (polling briefly
// when the batch before has not claimed it yet, as its statements may arrive later). Waits only
// go to smaller seqs, so they cannot deadlock; the counts and keys are locked after the wait.
pg::Query ClaimChainSeq(const trust::ChainHead& head);  // also sets omniflow.writer
pg::Query AwaitChainSeq(const trust::ChainHead& expected);
// The committed head, read without locking it (reconnecting when the connection was lost).
Result<trust::ChainHead> ReadChainHead(pg::Conn& conn);
// A hash as the hex text decode(..., 'hex') takes.
std::string ChainHashHex(const trust::ChainHash& hash);

class PostgresChainStore final : public ChainStore {
 public:
  explicit PostgresChainStore(pg::Pool* pool) : pool_(pool) {}

  Result<trust::ChainHead> Head() override;
  Status Walk(int64_t from_seq, const std::function<void(const ChainSnapshot&)>& start,
              const std::function<bool(const trust::ChainRecord&)>& visit) override;

 private:
  pg::Pool* const pool_;
};

}  // namespace omniflow
