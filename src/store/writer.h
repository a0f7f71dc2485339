// The group-commit writer: a thread that takes every queued interaction, appends them to the
// store in one transaction, and only then reports each one done. Throughput is bounded by the
// batch rate, not by one fsync per request. A store that takes several appends at once
// (InteractionStore::parallel_appends, PostgreSQL) gets as many threads ("lanes"): a free lane
// takes the next batch while the others commit theirs. The queue is bounded: when it is full, Submit
// refuses at once (the caller answers 503 with Retry-After) instead of growing memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "core/interaction.h"
#include "core/mutex.h"
#include "core/status.h"
#include "store/interaction_store.h"

namespace omniflow {

struct WriterOptions {
  // Interactions waiting to be written before Submit refuses with Unavailable.
  size_t max_queue = 8192;
  // Most interactions committed in one transaction.
  size_t max_batch = 1024;
  // Longest wait for the rest of a wave of saves before committing (see Writer::Run); 0 = none.
  std::chrono::microseconds coalesce{200};
  // While the store keeps failing, one warning (with the engine's reason) at most this often.
  std::chrono::seconds failure_warning_interval{10};
};

// What became of a submitted interaction.
struct SaveOutcome {
  Status status;  // ok once durable
  // With ok: the interaction's idempotency key was already held by this stored interaction of
  // the same user (see InteractionStore::Append), so it was not stored itself.
  std::optional<PriorSave> prior;
  // With a failed status: it may have been stored all the same (AppendReport::outcome_unknown).
  bool outcome_unknown = false;
};

class Writer {
 public:
  // Called on one of the writer's threads once the interaction's transaction is durable (ok)
  // or failed.
  using Done = std::function<void(const SaveOutcome&)>;

  Writer(InteractionStore* store, WriterOptions options);
  ~Writer();  // Stops after draining the queue.
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Queues `record`; `done` runs later on a writer thread. Returns Unavailable (and never
  // calls `done`) when the queue is full or the writer is stopping. Thread-safe.
  Status Submit(InteractionRecord record, Done done);

  // Writes everything queued, then stops the threads. Idempotent.
  void Stop();

  // Counters for /metrics and tests.
  uint64_t committed() const;
  uint64_t failed() const;
  uint64_t rejected() const;
  size_t queued() const;

 private:
  struct Item {
    InteractionRecord record;
    Done done;
  };
  void Run();
  // Logs a failing store for the operator, rate-limited, and its recovery.
  void NoteOutcome(const Status& status, size_t saves) EXCLUDES(log_mu_);

  // The writer's record of store failures not yet reported.
  struct FailureLog {
    bool failing = false;
    std::chrono::steady_clock::time_point last_warning;
    uint64_t batches_since_warning = 0, saves_since_warning = 0;
    uint64_t batches = 0, saves = 0;  // since the store began failing
  };

  InteractionStore* store_;
  WriterOptions options_;
  mutable Mutex mu_;
  CondVar cv_;  // signalled when an item is queued or stopping_ is set
  std::deque<Item> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  uint64_t committed_ GUARDED_BY(mu_) = 0;
  uint64_t failed_ GUARDED_BY(mu_) = 0;
  uint64_t rejected_ GUARDED_BY(mu_) = 0;
  size_t last_batch_ GUARDED_BY(mu_) = 0;
  Mutex log_mu_;
  FailureLog failure_log_ GUARDED_BY(log_mu_);
  std::vector<std::thread> threads_;  // one per lane
};

}  // namespace omniflow
