// The spool: an append-only file of interactions whose logging failed (store unavailable, queue
// full). Each line is fsynced before Append returns; Replay moves them into the store and
// removes them only after they are durably committed, so nothing is lost. A background
// thread replays every few seconds while the spool is not empty. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/interaction.h"
#include "core/mutex.h"
#include "core/status.h"
#include "store/interaction_store.h"

namespace omniflow::agent {

class Spool {
 public:
  // Commits records durably (all or an error); main passes one that goes through the Writer,
  // since the store takes one writer at a time.
  using Commit = std::function<Status(std::vector<InteractionRecord>)>;

  // Spool file `<dir>/interactions.jsonl` (dir created if missing).
  explicit Spool(std::string dir);
  ~Spool();  // stops the replay thread

  Status Append(const InteractionRecord& record);
  // Commits every spooled interaction not already in `store` (read to skip those a previous
  // replay committed before it could empty the file); empties the spool on success. Returns
  // how many were moved. A torn last line (crash mid-append) was never acknowledged: dropped.
  Result<size_t> Replay(InteractionStore* store, const Commit& commit) EXCLUDES(replay_mu_);
  // Erasure: runs `erase_store` (if any) with replays held off, then, when it succeeded, removes
  // every record of `user_id` from the spool: its files are rewritten without them (synced and
  // renamed into place, so a crash leaves the old file or the new one, never half of each).
  // Returns how many records were removed; when `erase_store` fails, its status, and the spool
  // is untouched. Holding replays off means none of the user's spooled records can reach the
  // store after `erase_store` erased it. Appends are held off only while a file is rewritten.
  Result<size_t> EraseUser(const std::string& user_id,
                           const std::function<Status()>& erase_store = {}) EXCLUDES(replay_mu_);
  // Replays every `period` on a background thread while the spool is not empty.
  void StartReplayLoop(InteractionStore* store, Commit commit, std::chrono::milliseconds period);

  const std::string& path() const { return path_; }
  // The file a replay is committing (renamed from path(); kept until committed).
  std::string replaying_path() const { return dir_ + "/interactions.replaying.jsonl"; }
  uint64_t spooled() const { return spooled_; }
  uint64_t replayed() const { return replayed_; }
  bool empty() const;

 private:
  Result<size_t> ReplayFile(InteractionStore* store, const Commit& commit) REQUIRES(replay_mu_);
  // Rewrites `file` without `user_id`'s records (and without lines that do not parse: a torn
  // last line was never acknowledged); the count removed.
  Result<size_t> RemoveUserFrom(const std::string& file, const std::string& user_id)
      REQUIRES(mu_);

  std::string dir_, path_;
  mutable Mutex mu_;  // serialises access to path_ (Append never waits for a replay)
  Mutex replay_mu_;   // one replay at a time
  std::atomic<uint64_t> spooled_{0}, replayed_{0};
  Mutex loop_mu_;
  CondVar loop_cv_;  // signalled when stopping_ is set
  bool stopping_ GUARDED_BY(loop_mu_) = false;
  std::thread loop_;
};

}  // namespace omniflow::agent
