#include "store/writer.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <sstream>
#include <thread>

namespace omniflow {
namespace {

// A store whose Append can be held, to fill the writer's queue on purpose.
class GateStore final : public InteractionStore {
 public:
  using InteractionStore::Append;
  Status Append(std::span<const InteractionRecord> batch, AppendReport*) override {
    std::unique_lock<std::mutex> lock(mu_);
    entered_ = true;
    max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
    --in_flight_;
    rows_ += batch.size();
    ++batches_;
    return fail_ ? Status::Unavailable("disk full") : Status::Ok();
  }
  Result<HistoryPage> History(const HistoryQuery&) override { return HistoryPage(); }
  Result<std::string> Get(const std::string&, const std::string&) override {
    return Status::NotFound("");
  }
  Result<ScanPage> Scan(const ScanQuery&) override { return ScanPage(); }
  Result<std::vector<StoredInteraction>> FindAt(std::span<const UserInstant>) override {
    return std::vector<StoredInteraction>();
  }
  Status CheckWritable() override { return Status::Ok(); }
  std::string Describe() const override { return "gate"; }
  int parallel_appends() const override { return lanes_; }

  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void WaitEntered() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return entered_; });
  }
  // True once `n` Appends are held in the gate at once (false after 5 s).
  bool WaitInFlight(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return in_flight_ >= n; });
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = true, entered_ = false, fail_ = false;
  size_t rows_ = 0, batches_ = 0;
  int lanes_ = 1, in_flight_ = 0, max_in_flight_ = 0;
};

InteractionRecord Rec(int i) {
  InteractionRecord r;
  r.user_id = "u";
  r.ts_us = i;
  r.interaction_id = "INT_" + std::to_string(i);
  return r;
}

TEST(Writer, ConcurrentSubmittersAllCommittedInFewBatches) {
  GateStore store;
  std::atomic<int> ok{0};
  {
    Writer writer(&store, WriterOptions{});
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 500; ++i) {
          std::promise<Status> done;
          auto future = done.get_future();
          ASSERT_TRUE(writer.Submit(Rec(t * 1000 + i), [&done](const SaveOutcome& o) { done.set_value(o.status); }).ok());
          if (future.get().ok()) ++ok;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(writer.committed(), 4000u);
  }
  EXPECT_EQ(ok.load(), 4000);
  EXPECT_EQ(store.rows_, 4000u);
  EXPECT_LT(store.batches_, 4000u);  // group commit: several saves share a transaction
}

TEST(Writer, FullQueueRefusesAtOnceAndRecovers) {
  GateStore store;
  store.open_ = false;
  WriterOptions options;
  options.max_queue = 4;
  options.max_batch = 1;
  Writer writer(&store, options);
  std::atomic<int> done{0};
  ASSERT_TRUE(writer.Submit(Rec(0), [&](const SaveOutcome&) { ++done; }).ok());
  store.WaitEntered();  // the writer holds item 0 inside Append
  for (int i = 1; i <= 4; ++i) ASSERT_TRUE(writer.Submit(Rec(i), [&](const SaveOutcome&) { ++done; }).ok());
  Status refused = writer.Submit(Rec(5), [&](const SaveOutcome&) { ++done; });
  EXPECT_EQ(refused.code(), Status::Code::kUnavailable);
  EXPECT_EQ(writer.rejected(), 1u);
  store.Open();
  writer.Stop();
  EXPECT_EQ(done.load(), 5);
  EXPECT_EQ(writer.committed(), 5u);
}

TEST(Writer, FailedBatchReportsFailureToEveryItem) {
  GateStore store;
  store.fail_ = true;
  Writer writer(&store, WriterOptions{});
  std::promise<Status> done;
  ASSERT_TRUE(writer.Submit(Rec(1), [&](const SaveOutcome& o) { done.set_value(o.status); }).ok());
  EXPECT_EQ(done.get_future().get().code(), Status::Code::kUnavailable);
  writer.Stop();
  EXPECT_EQ(writer.failed(), 1u);
}

TEST(Writer, AStoreTakingParallelAppendsGetsABatchPerLaneAndEveryItemDoneOnce) {
  GateStore store;
  store.open_ = false;
  store.lanes_ = 3;
  std::atomic<int> done{0};
  Writer writer(&store, WriterOptions{});
  // Each lane takes one save and holds it in the gate; the fourth waits for a free lane.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(writer.Submit(Rec(i), [&](const SaveOutcome& o) { done += o.status.ok(); }).ok());
    if (!store.WaitInFlight(i + 1)) {
      store.Open();  // lets the writer stop
      FAIL() << "appends in flight at once: " << i;
    }
  }
  ASSERT_TRUE(writer.Submit(Rec(3), [&](const SaveOutcome& o) { done += o.status.ok(); }).ok());
  EXPECT_EQ(writer.queued(), 1u);
  store.Open();
  // Many more from several threads while the lanes run: each done once, counted once.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 250; ++i) {
        while (!writer.Submit(Rec(100 + t * 1000 + i), [&](const SaveOutcome& o) { done += o.status.ok(); }).ok()) {
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  writer.Stop();  // drains every lane
  EXPECT_EQ(done.load(), 1004);
  EXPECT_EQ(writer.committed(), 1004u);
  EXPECT_EQ(writer.failed(), 0u);
  EXPECT_EQ(store.rows_, 1004u);
  EXPECT_EQ(store.max_in_flight_, 3);
}

TEST(Writer, StopDrainsTheQueueAndRefusesAfter) {
  GateStore store;
  Writer writer(&store, WriterOptions{});
  std::atomic<int> done{0};
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(writer.Submit(Rec(i), [&](const SaveOutcome& o) { done += o.status.ok(); }).ok());
  writer.Stop();
  EXPECT_EQ(done.load(), 100);
  EXPECT_FALSE(writer.Submit(Rec(1000), nullptr).ok());
}

}  // namespace
}  // namespace omniflow

namespace omniflow {
namespace {

// Captures what the default logger writes while it lives.
class CapturedLog {
 public:
  CapturedLog() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink_));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return out_.str();
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

size_t CountOf(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// One save after another, each answered before the next (so each is its own batch).
void SaveOne(Writer* writer, int i) {
  std::promise<Status> done;
  ASSERT_TRUE(writer->Submit(Rec(i), [&](const SaveOutcome& o) { done.set_value(o.status); }).ok());
  done.get_future().get();
}

TEST(Writer, AFailingStoreIsWarnedOncePerIntervalWithItsReasonAndItsRecovery) {
  CapturedLog log;
  GateStore store;
  store.fail_ = true;
  WriterOptions options;
  options.failure_warning_interval = std::chrono::seconds(3600);
  Writer writer(&store, options);
  for (int i = 0; i < 5; ++i) SaveOne(&writer, i);
  {
    std::lock_guard<std::mutex> lock(store.mu_);
    store.fail_ = false;
  }
  SaveOne(&writer, 5);
  writer.Stop();
  const std::string text = log.text();
  EXPECT_EQ(CountOf(text, "event=store_write_failed"), 1u) << text;
  EXPECT_NE(text.find("error=\"disk?full\""), std::string::npos) << text;
  EXPECT_NE(text.find("event=store_write_recovered failed_batches=5 failed_saves=5"),
            std::string::npos)
      << text;
}

TEST(Writer, AStoreStillFailingAfterTheIntervalIsWarnedAgainWithTheCountSince) {
  CapturedLog log;
  GateStore store;
  store.fail_ = true;
  WriterOptions options;
  options.failure_warning_interval = std::chrono::seconds(0);
  Writer writer(&store, options);
  for (int i = 0; i < 3; ++i) SaveOne(&writer, i);
  writer.Stop();
  const std::string text = log.text();
  EXPECT_EQ(CountOf(text, "event=store_write_failed failed_batches=1 failed_saves=1"), 3u) << text;
}

}  // namespace
}  // namespace omniflow
