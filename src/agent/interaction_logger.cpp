#include "agent/interaction_logger.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <memory>
#include <mutex>

namespace omniflow::agent {

void InteractionLogger::Log(InteractionRecord record) {
  // The writer gets its own copy; ours stays for the spool should the commit fail.
  auto kept = std::make_shared<InteractionRecord>(record);
  Status queued = writer_->Submit(std::move(record), [this, kept](const Status& committed) {
    if (!committed.ok()) ToSpool(*kept);
  });
  if (!queued.ok()) ToSpool(*kept);
}

void InteractionLogger::ToSpool(const InteractionRecord& record) {
  Status s = spool_->Append(record);
  if (s.ok()) {
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
    std::mutex mu;
    std::condition_variable cv;
    size_t pending = 0;  // GUARDED_BY(mu)
    Status failure;      // GUARDED_BY(mu)
  };
  auto wait = std::make_shared<Wait>();
  for (InteractionRecord& record : records) {
    {
      std::lock_guard<std::mutex> lock(wait->mu);
      ++wait->pending;
    }
    Status queued = writer->Submit(std::move(record), [wait](const Status& committed) {
      std::lock_guard<std::mutex> lock(wait->mu);
      if (!committed.ok() && wait->failure.ok()) wait->failure = committed;
      if (--wait->pending == 0) wait->cv.notify_all();
    });
    if (!queued.ok()) {
      std::lock_guard<std::mutex> lock(wait->mu);
      --wait->pending;
      if (wait->failure.ok()) wait->failure = queued;
      break;
    }
  }
  std::unique_lock<std::mutex> lock(wait->mu);
  wait->cv.wait(lock, [&] { return wait->pending == 0; });
  return wait->failure;
}

}  // namespace omniflow::agent
