#include "store/writer.h"

#include <utility>

#include "core/thread_name.h"

namespace omniflow {

Writer::Writer(InteractionStore* store, WriterOptions options)
    : store_(store), options_(options), thread_([this] { Run(); }) {}

Writer::~Writer() { Stop(); }

Status Writer::Submit(InteractionRecord record, Done done) {
  bool wake = false;
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
    // The writer waits either for a first save or, coalescing, for a wave as large as the last
    // batch: wake it only then (the coalescing wait also ends by itself).
    wake = queue_.size() == 1 || queue_.size() >= last_batch_;
  }
  if (wake) cv_.notify_one();
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
  NameThisThread("of-writer");
  std::vector<Item> items;
  std::vector<InteractionRecord> batch;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      // Under load, saves arrive in waves (each client sends its next one when its last is
      // answered). Waking on the first of a wave would commit it nearly alone and make the rest
      // wait a whole extra fsync; so while fewer are queued than the last batch held, wait a
      // moment for them. A lone save (last batch of 1) never waits.
      if (options_.coalesce.count() > 0 && queue_.size() < last_batch_ && !stopping_) {
        cv_.wait_for(lock, options_.coalesce,
                     [this] { return stopping_ || queue_.size() >= last_batch_; });
      }
      size_t n = std::min(queue_.size(), options_.max_batch);
      last_batch_ = n;
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
