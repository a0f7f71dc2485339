// The hash chain facet of a Database (trust/chain.h): the chain's head, for anchoring, and a
// walk over every chained record in seq order, for `omniflow verify`. Each engine appends to the
// chain in the same transaction as the records themselves (the writer's batch, an audit entry)
// and writes a tombstone with the seq and hash of every record an erasure or a purge deletes.
#pragma once

#include <cstdint>
#include <functional>

#include "core/status.h"
#include "trust/chain.h"

namespace omniflow {

// What a walk saw, from one consistent snapshot of the store.
struct ChainSnapshot {
  trust::ChainHead head;        // the head the store recorded
  int64_t contiguous_from = 1;  // seqs from here on were given out one after the other
  trust::ChainHash before;      // the stored hash of the last record before the walk's first
};

class ChainStore {
 public:
  virtual ~ChainStore() = default;

  // The newest link: seq 0 and the zero hash when nothing was stored yet. Thread-safe.
  virtual Result<trust::ChainHead> Head() = 0;

  // From one snapshot: calls `start` with the snapshot's head and starting point, then `visit`
  // with every record (interactions, audit entries, tombstones) whose seq is at least
  // `from_seq`, in ascending seq order; stops early when `visit` returns false. Records added
  // meanwhile are not seen.
  virtual Status Walk(int64_t from_seq, const std::function<void(const ChainSnapshot&)>& start,
                      const std::function<bool(const trust::ChainRecord&)>& visit) = 0;
};

}  // namespace omniflow
