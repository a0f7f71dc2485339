#include "agent/interaction_logger.h"

#include <spdlog/spdlog.h>

#include <memory>

#include "core/mutex.h"

namespace omniflow::agent {

void InteractionLogger::Log(InteractionRecord record, metrics::CaptureSource source) {
  // The writer gets its own copy; ours stays for the spool should the commit fail.
  auto kept = std::make_shared<InteractionRecord>(record);
  Status queued =
      writer_->Submit(std::move(record), [this, kept, source](const SaveOutcome& committed) {
        if (committed.status.ok()) {
          metrics::CountCaptured(source);
        } else {
          ToSpool(*kept, source);
        }
      });
  if (!queued.ok()) ToSpool(*kept, source);
}

void InteractionLogger::ToSpool(const InteractionRecord& record, metrics::CaptureSource source) {
  Status s = spool_->Append(record);
  if (s.ok()) {
    metrics::CountCaptured(source);
    ++spooled_;
    spdlog::warn("event=interaction_spooled interaction_id={} spooled_total={}",
                 record.interaction_id, spooled_.load());
    return;
  }
  ++lost_;
  spdlog::error("event=interaction_lost interaction_id={} error=\"{}\"", record.interaction_id,
                s.message());
}

Status CommitThroughWriter(Writer* writer, std::vector<InteractionRecord> records) {
  struct Wait {
    Mutex mu;
    CondVar cv;  // signalled when pending drops to 0
    size_t pending GUARDED_BY(mu) = 0;
    Status failure GUARDED_BY(mu);
  };
  auto wait = std::make_shared<Wait>();
  for (InteractionRecord& record : records) {
    {
      MutexLock lock(&wait->mu);
      ++wait->pending;
    }
    Status queued = writer->Submit(std::move(record), [wait](const SaveOutcome& committed) {
      MutexLock lock(&wait->mu);
      if (!committed.status.ok() && wait->failure.ok()) wait->failure = committed.status;
      if (--wait->pending == 0) wait->cv.SignalAll();
    });
    if (!queued.ok()) {
      MutexLock lock(&wait->mu);
      --wait->pending;
      if (wait->failure.ok()) wait->failure = queued;
      break;
    }
  }
  MutexLock lock(&wait->mu);
  while (wait->pending != 0) wait->cv.Wait(&wait->mu);
  return wait->failure;
}

}  // namespace omniflow::agent
