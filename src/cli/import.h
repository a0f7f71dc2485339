// `omniflow import`: bulk-loads interactions into the store, keeping their timestamps, either
// from JSON Lines (one interaction object per line, with user_id and timestamp) or from the
// seed system's blob layout (users/{user_id}/interaction_logs.json, each a JSON array).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/ids.h"
#include "core/status.h"
#include "store/interaction_store.h"

namespace omniflow {

struct ImportOptions {
  size_t batch_size = 5000;  // interactions per transaction
  // Called now and then with the counts so far, for a progress line.
  std::function<void(uint64_t imported, uint64_t skipped)> progress;
  // Called while the store completes its deferred indexing after the load.
  std::function<void(int64_t indexed, int64_t total)> indexing_progress;
  // Called for each line that is not a valid interaction (1-based line number, or 0 for a
  // whole legacy file), with why.
  std::function<void(const std::string& source, uint64_t line, const Status& why)> on_skip;
};

struct ImportStats {
  uint64_t imported = 0;
  uint64_t skipped = 0;
};

// Imports `path`: a .jsonl file ("-" for standard input) or a legacy blob directory.
// Interactions without a timestamp get the current time. Stops at the first store error.
Result<ImportStats> Import(const std::string& path, InteractionStore* store, Clock* clock,
                           const ImportOptions& options);

}  // namespace omniflow
