// A SandboxDataStore is a DataStore in memory holding a copy of one user's data documents: the
// data tools of a replayed message work on it, so a replay never changes a user's real data.
// A Snapshot is taken once from the real store; each replayed item gets a fresh sandbox made
// from it, so items never see each other's writes. Thread-safe.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/mutex.h"
#include "store/data_store.h"

namespace omniflow::replay {

// One user's documents: blob name -> entries (entry id, canonical JSON body), in order.
using Snapshot = std::map<std::string, std::vector<std::pair<std::string, std::string>>>;

// Reads every document of `user` from `real` (List, then Get of each).
Result<Snapshot> TakeSnapshot(DataStore* real, const std::string& user);

// A snapshot as stored with its replay (ReplayStore::AddTargets): {"<blob>": ["<entry JSON>",
// ...], ...}, each entry's text kept byte for byte.
std::string SnapshotJson(const Snapshot& snapshot);
// Reads SnapshotJson's text back. Internal when it is not such a text.
Result<Snapshot> ParseSnapshot(std::string_view json);

class SandboxDataStore final : public DataStore {
 public:
  // Serves `user`'s documents as `snapshot` holds them; any other user has none.
  SandboxDataStore(std::string user, Snapshot snapshot)
      : user_(std::move(user)), docs_(std::move(snapshot)) {}

  Result<Added> Add(const std::string& user, const std::string& blob,
                    std::string_view entry_object) override;
  Result<std::vector<std::string>> Get(const std::string& user, const std::string& blob) override;
  Status Replace(const std::string& user, const std::string& blob, const std::string& entry_id,
                 std::string_view merged) override;
  Result<std::string> GetEntry(const std::string& user, const std::string& blob,
                               const std::string& entry_id) override;
  Result<int64_t> Delete(const std::string& user, const std::string& blob,
                         const std::string& entry_id) override;
  Result<std::vector<std::pair<std::string, int64_t>>> List(const std::string& user) override;

 private:
  using Entries = std::vector<std::pair<std::string, std::string>>;
  // The entry `entry_id` of `blob` of `user`, or null.
  std::pair<std::string, std::string>* Find(const std::string& user, const std::string& blob,
                                            const std::string& entry_id) REQUIRES(mu_);

  const std::string user_;
  Mutex mu_;
  Snapshot docs_ GUARDED_BY(mu_);
};

}  // namespace omniflow::replay
