#include "store/audit_writer.h"

#include <algorithm>
#include <utility>

#include "core/thread_name.h"

namespace omniflow {

AuditWriter::AuditWriter(AuditStore* store, AuditWriterOptions options)
    : store_(store), options_(options), thread_([this] { Run(); }) {}

AuditWriter::~AuditWriter() { Stop(); }

Status AuditWriter::Submit(AuditEntry entry, Done done) {
  {
    MutexLock lock(&mu_);
    if (stopping_) {
      ++refused_;
      return Status::Unavailable("the audit writer is stopping");
    }
    if (queue_.size() >= options_.max_queue) {
      ++refused_;
      return Status::ResourceExhausted("the audit queue is full");
    }
    queue_.push_back(Item{std::move(entry), std::move(done)});
  }
  cv_.Signal();
  return Status::Ok();
}

void AuditWriter::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.Signal();
  if (thread_.joinable()) thread_.join();
}

uint64_t AuditWriter::committed() const {
  MutexLock lock(&mu_);
  return committed_;
}

uint64_t AuditWriter::failed() const {
  MutexLock lock(&mu_);
  return failed_;
}

uint64_t AuditWriter::refused() const {
  MutexLock lock(&mu_);
  return refused_;
}

void AuditWriter::Run() {
  NameThisThread("of-audit");
  std::vector<Item> items;
  std::vector<AuditEntry> batch;
  while (true) {
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) cv_.Wait(&mu_);
      if (queue_.empty()) return;  // stopping and drained
      const size_t n = std::min(queue_.size(), options_.max_batch);
      items.clear();
      for (size_t i = 0; i < n; ++i) {
        items.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    batch.clear();
    for (Item& item : items) batch.push_back(std::move(item.entry));
    const Status status = store_->Append(batch);
    {
      MutexLock lock(&mu_);
      (status.ok() ? committed_ : failed_) += items.size();
    }
    for (size_t i = 0; i < items.size(); ++i) {
      if (items[i].done) items[i].done(status, batch[i]);
    }
    // Release the callbacks now: they hold answered requests' connections alive.
    items.clear();
  }
}

}  // namespace omniflow
