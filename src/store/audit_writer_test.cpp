#include "store/audit_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/mutex.h"

namespace omniflow {
namespace {

// Appends into memory, optionally failing, optionally blocked until released.
class MemoryAuditStore : public AuditStore {
 public:
  Status Append(std::span<AuditEntry> entries) override {
    MutexLock lock(&mu_);
    while (blocked_) cv_.Wait(&mu_);
    ++batches_;
    if (fail_) return Status::Unavailable("disk on fire");
    for (AuditEntry& e : entries) {
      e.seq = static_cast<int64_t>(entries_.size()) + 1;
      entries_.push_back(e);
    }
    return Status::Ok();
  }
  Result<AuditPage> List(const AuditQuery&) override { return AuditPage(); }
  Result<int64_t> PurgeBefore(int64_t, bool, int) override { return int64_t{0}; }

  void Block(bool blocked) {
    {
      MutexLock lock(&mu_);
      blocked_ = blocked;
    }
    cv_.SignalAll();
  }

  Mutex mu_;
  CondVar cv_;
  bool blocked_ = false;
  bool fail_ = false;
  int batches_ = 0;
  std::vector<AuditEntry> entries_;
};

AuditEntry Entry(int i) {
  AuditEntry e;
  e.ts_us = i;
  e.actor = "admin";
  e.action = "holds_list";
  e.path = "/api/holds";
  e.status = 200;
  e.request_id = "r" + std::to_string(i);
  return e;
}

TEST(AuditWriter, DoneRunsAfterTheEntryIsStoredWithItsSeq) {
  MemoryAuditStore store;
  AuditWriter writer(&store);
  std::atomic<int64_t> seq{0};
  std::atomic<bool> stored_first{false};
  ASSERT_TRUE(writer
                  .Submit(Entry(1),
                          [&](const Status& s, const AuditEntry& e) {
                            EXPECT_TRUE(s.ok());
                            MutexLock lock(&store.mu_);
                            stored_first = store.entries_.size() == 1;
                            seq = e.seq;
                          })
                  .ok());
  writer.Stop();
  EXPECT_TRUE(stored_first);
  EXPECT_EQ(seq, 1);
  EXPECT_EQ(writer.committed(), 1u);
}

TEST(AuditWriter, AFullQueueRefusesAtOnceAndNeverCallsDone) {
  MemoryAuditStore store;
  store.Block(true);
  AuditWriterOptions options;
  options.max_queue = 2;
  options.max_batch = 1;
  AuditWriter writer(&store, options);
  std::atomic<int> done{0};
  auto count = [&](const Status&, const AuditEntry&) { ++done; };
  ASSERT_TRUE(writer.Submit(Entry(1), count).ok());
  // The first is taken by the blocked thread (or still queued); fill the queue beyond doubt.
  Status s = Status::Ok();
  int accepted = 1;
  for (int i = 2; i < 10 && s.ok(); ++i) {
    s = writer.Submit(Entry(i), count);
    if (s.ok()) ++accepted;
  }
  EXPECT_EQ(s.code(), Status::Code::kResourceExhausted);
  EXPECT_LE(accepted, 3);
  EXPECT_GE(writer.refused(), 1u);
  store.Block(false);
  writer.Stop();
  EXPECT_EQ(done, accepted);
  EXPECT_EQ(static_cast<int>(store.entries_.size()), accepted);
}

TEST(AuditWriter, AFailedAppendReportsItsStatusToEveryEntry) {
  MemoryAuditStore store;
  store.fail_ = true;
  AuditWriter writer(&store);
  std::atomic<int> failed{0};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(writer
                    .Submit(Entry(i),
                            [&](const Status& s, const AuditEntry&) {
                              if (s.code() == Status::Code::kUnavailable) ++failed;
                            })
                    .ok());
  }
  writer.Stop();
  EXPECT_EQ(failed, 3);
  EXPECT_EQ(writer.failed(), 3u);
  EXPECT_EQ(writer.Submit(Entry(9), {}).code(), Status::Code::kUnavailable);  // stopped
}

}  // namespace
}  // namespace omniflow
