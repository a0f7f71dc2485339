#include "store/writer.h"

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/log.h"
#include "core/thread_name.h"
#include "metrics/registry.h"

namespace omniflow {

namespace {

// Every writer's batches, for /metrics: how many saves each held, and how long its commit took.
struct WriterMetrics {
  metrics::Histogram& batch_size = metrics::Global().GetHistogram(
      "omniflow_writer_batch_size", "Interactions committed per group-commit transaction",
      metrics::PowerOfTwoBuckets(1024));
  metrics::Histogram& commit_seconds = metrics::Global().GetHistogram(
      "omniflow_writer_commit_duration_seconds",
      "Time the store took to append and commit one batch (failed commits included)",
      metrics::LatencyBuckets());
};

WriterMetrics& Metrics() {
  static WriterMetrics m;
  return m;
}

}  // namespace

Writer::Writer(InteractionStore* store, WriterOptions options)
    : store_(store), options_(options) {
  Metrics();
  const int lanes = std::max(1, store_->parallel_appends());
  for (int i = 0; i < lanes; ++i) threads_.emplace_back([this] { Run(); });
}

Writer::~Writer() { Stop(); }

Status Writer::Submit(InteractionRecord record, Done done) {
  bool wake = false;
  {
    MutexLock lock(&mu_);
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
  if (wake) cv_.SignalAll();
  return Status::Ok();
}

void Writer::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void Writer::Run() {
  NameThisThread("of-writer");
  std::vector<Item> items;
  std::vector<InteractionRecord> batch;
  while (true) {
    bool more = false;
    {
      MutexLock lock(&mu_);
      while (!stopping_ && queue_.empty()) cv_.Wait(&mu_);
      if (queue_.empty()) return;  // stopping and drained
      // Under load, saves arrive in waves (each client sends its next one when its last is
      // answered). Waking on the first of a wave would commit it nearly alone and make the rest
      // wait a whole extra fsync; so while fewer are queued than the last batch held, wait a
      // moment for them. A lone save (last batch of 1) never waits.
      if (options_.coalesce.count() > 0 && queue_.size() < last_batch_ && !stopping_) {
        const auto deadline = std::chrono::steady_clock::now() + options_.coalesce;
        while (!stopping_ && queue_.size() < last_batch_) {
          if (!cv_.WaitUntil(&mu_, deadline)) break;
        }
        if (queue_.empty()) continue;  // another lane took the wave meanwhile
      }
      size_t n = std::min(queue_.size(), options_.max_batch);
      last_batch_ = n;
      items.clear();
      for (size_t i = 0; i < n; ++i) {
        items.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      more = !queue_.empty();
    }
    if (more) cv_.Signal();  // a free lane takes the rest
    batch.clear();
    batch.reserve(items.size());
    for (auto& item : items) batch.push_back(std::move(item.record));
    AppendReport report;
    const auto started = std::chrono::steady_clock::now();
    Status status = store_->Append(batch, &report);
    Metrics().commit_seconds.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    Metrics().batch_size.Observe(static_cast<double>(batch.size()));
    {
      MutexLock lock(&mu_);
      (status.ok() ? committed_ : failed_) += items.size();
    }
    NoteOutcome(status, items.size());
    SaveOutcome outcome{status, std::nullopt, !status.ok() && report.outcome_unknown};
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].done) continue;
      outcome.prior = status.ok() && i < report.priors.size() ? report.priors[i] : std::nullopt;
      items[i].done(outcome);
    }
    // Release the callbacks now: they hold what answered requests keep alive (a connection
    // waiting for its next request among them), which a graceful stop waits for.
    items.clear();
  }
}

void Writer::NoteOutcome(const Status& status, size_t saves) {
  MutexLock lock(&log_mu_);
  FailureLog& log = failure_log_;
  if (status.ok()) {
    if (log.failing) {
      spdlog::info("event=store_write_recovered failed_batches={} failed_saves={}", log.batches,
                   log.saves);
      log = FailureLog{};
    }
    return;
  }
  ++log.batches, ++log.batches_since_warning;
  log.saves += saves, log.saves_since_warning += saves;
  const auto now = std::chrono::steady_clock::now();
  if (log.failing && now - log.last_warning < options_.failure_warning_interval) return;
  // Each refused save also has its own 503 line; this one says why, once per interval.
  spdlog::warn("event=store_write_failed failed_batches={} failed_saves={} error=\"{}\"",
               log.batches_since_warning, log.saves_since_warning, LogSafe(status.message(), 300));
  log.failing = true;
  log.last_warning = now;
  log.batches_since_warning = log.saves_since_warning = 0;
}

uint64_t Writer::committed() const {
  MutexLock lock(&mu_);
  return committed_;
}

uint64_t Writer::failed() const {
  MutexLock lock(&mu_);
  return failed_;
}

uint64_t Writer::rejected() const {
  MutexLock lock(&mu_);
  return rejected_;
}

size_t Writer::queued() const {
  MutexLock lock(&mu_);
  return queue_.size();
}

}  // namespace omniflow
