// The audit writer: one thread that takes every queued audit entry, appends them to the
// AuditStore in one transaction (AuditStore::Append), and only then reports each one done, so
// that a request's answer can wait for its entry without an io thread ever waiting for the
// disk. The queue is bounded: when it is full, Submit refuses at once instead of growing memory
// (a flood of refused credentials cannot exhaust the server).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"
#include "store/audit_store.h"

namespace omniflow {

struct AuditWriterOptions {
  // Entries waiting to be written before Submit refuses with ResourceExhausted.
  size_t max_queue = 4096;
  // Most entries committed in one transaction.
  size_t max_batch = 512;
};

class AuditWriter {
 public:
  // Called on the audit thread once the entry's transaction committed (ok) or failed; `entry`
  // carries its seq when committed.
  using Done = std::function<void(const Status& status, const AuditEntry& entry)>;

  // `store` must outlive the writer.
  AuditWriter(AuditStore* store, AuditWriterOptions options = {});
  ~AuditWriter();  // Stop()
  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;

  // Queues `entry`; `done` (may be empty) runs later on the audit thread. Returns
  // ResourceExhausted when the queue is full and Unavailable once stopping; then `done` is never
  // called. Thread-safe.
  Status Submit(AuditEntry entry, Done done) EXCLUDES(mu_);

  // Writes everything queued, then stops the thread. Idempotent.
  void Stop() EXCLUDES(mu_);

  // Entries committed, failed (their transaction failed) and refused by Submit.
  uint64_t committed() const EXCLUDES(mu_);
  uint64_t failed() const EXCLUDES(mu_);
  uint64_t refused() const EXCLUDES(mu_);

 private:
  struct Item {
    AuditEntry entry;
    Done done;
  };
  void Run() EXCLUDES(mu_);

  AuditStore* const store_;
  const AuditWriterOptions options_;
  mutable Mutex mu_;
  CondVar cv_;  // signalled when an item is queued or stopping_ is set
  std::deque<Item> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  uint64_t committed_ GUARDED_BY(mu_) = 0;
  uint64_t failed_ GUARDED_BY(mu_) = 0;
  uint64_t refused_ GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace omniflow
