// The spool: an append-only file of interactions whose logging failed (store unavailable, queue
// full). Each line is fsynced before Append returns; Replay moves them into the store and
// empties the file only after they are durably committed, so nothing is lost. A background
// thread replays every few seconds while the spool is not empty. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "core/interaction.h"
#include "core/status.h"
#include "store/interaction_store.h"

namespace omniflow::agent {

class Spool {
 public:
  // Spool file `<dir>/interactions.jsonl` (dir created if missing).
  explicit Spool(std::string dir);
  ~Spool();  // stops the replay thread

  Status Append(const InteractionRecord& record);
  // Appends every spooled interaction not already in `store`; empties the spool on success.
  // Returns how many were moved. A torn last line (crash mid-append) is dropped.
  Result<size_t> Replay(InteractionStore* store);
  // Replays every `period` on a background thread while the spool is not empty.
  void StartReplayLoop(InteractionStore* store, std::chrono::milliseconds period);

  const std::string& path() const { return path_; }
  uint64_t spooled() const { return spooled_; }
  uint64_t replayed() const { return replayed_; }
  bool empty() const;

 private:
  std::string dir_, path_;
  mutable std::mutex mu_;  // serialises file access
  std::atomic<uint64_t> spooled_{0}, replayed_{0};
  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool stopping_ = false;  // GUARDED_BY(loop_mu_)
  std::thread loop_;
};

}  // namespace omniflow::agent
