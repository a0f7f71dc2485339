// The InteractionLogger logs the assistant's interactions without making anyone wait: Log hands
// the record to the group-commit writer and returns at once. When the writer refuses it (queue
// full, stopping) or its transaction fails (store unavailable, disk full), the record goes to
// the spool, which is replayed into the store once it is writable again: nothing is lost.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "agent/spool.h"
#include "core/interaction.h"
#include "metrics/captured.h"
#include "store/writer.h"

namespace omniflow::agent {

class InteractionLogger {
 public:
  // `writer` and `spool` must outlive the logger.
  InteractionLogger(Writer* writer, Spool* spool) : writer_(writer), spool_(spool) {}

  // Queues `record` for the store; never blocks on the disk, never fails the caller. Counted as
  // captured by `source` once committed or spooled.
  void Log(InteractionRecord record,
           metrics::CaptureSource source = metrics::CaptureSource::kToolCallHandler);

  // Interactions whose logging failed and that went to the spool.
  uint64_t spooled() const { return spooled_.load(); }
  // Interactions that could be neither committed nor spooled (both disks failing): lost, and
  // counted so that an operator sees it.
  uint64_t lost() const { return lost_.load(); }

 private:
  void ToSpool(const InteractionRecord& record, metrics::CaptureSource source);

  Writer* writer_;
  Spool* spool_;
  std::atomic<uint64_t> spooled_{0};
  std::atomic<uint64_t> lost_{0};
};

// Submits `records` to `writer` and waits until each is durably committed; the first failure
// otherwise (a refused Submit included). For the spool's replay, which must not write to the
// store beside the writer.
Status CommitThroughWriter(Writer* writer, std::vector<InteractionRecord> records);

}  // namespace omniflow::agent
