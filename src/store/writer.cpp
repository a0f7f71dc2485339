#include "store/writer.h"

#include <utility>

namespace omniflow {

Writer::Writer(InteractionStore* store, WriterOptions options)
    : store_(store), options_(options), thread_([this] { Run(); }) {}

Writer::~Writer() { Stop(); }

Status Writer::Submit(InteractionRecord record, Done done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ++rejected_;
      return Status::Unavailable("the server is shutting down; retry shortly");
    }
    if (queue_.size() >= options_.max_queue) {
      ++rejected_;
      return Status::Unavailable("write queue full, retry shortly");
    }
    queue_.push_back(Item{std::move(record), std::move(done)});
  }
  cv_.notify_one();
  return Status::Ok();
}

void Writer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Writer::Run() {
  std::vector<Item> items;
  std::vector<InteractionRecord> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      size_t n = std::min(queue_.size(), options_.max_batch);
      items.clear();
      for (size_t i = 0; i < n; ++i) {
        items.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    batch.clear();
    batch.reserve(items.size());
    for (auto& item : items) batch.push_back(std::move(item.record));
    Status status = store_->Append(batch);
    {
      std::lock_guard<std::mutex> lock(mu_);
      (status.ok() ? committed_ : failed_) += items.size();
    }
    for (auto& item : items) {
      if (item.done) item.done(status);
    }
    // Release the callbacks now: they hold what answered requests keep alive (a connection
    // waiting for its next request among them), which a graceful stop waits for.
    items.clear();
  }
}

uint64_t Writer::committed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return committed_;
}

uint64_t Writer::failed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

uint64_t Writer::rejected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rejected_;
}

size_t Writer::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

}  // namespace omniflow
