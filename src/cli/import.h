// `omniflow import`: bulk-loads interactions into the store, keeping their timestamps, either
// from JSON Lines (one interaction object per line, with user_id and timestamp) or from the
// seed system's blob layout (users/{user_id}/interaction_logs.json, each a JSON array).
// Idempotent: importing a file again adds nothing, and never stops on one line (see Import).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/ids.h"
#include "core/status.h"
#include "core/validate.h"
#include "store/interaction_store.h"

namespace omniflow {

struct ImportStats {
  uint64_t imported = 0;         // new interactions written
  uint64_t already_present = 0;  // the store held them already, with the same content
  uint64_t conflicts = 0;        // an explicit id the store holds with different content
  uint64_t skipped = 0;          // not a valid interaction
};

struct ImportOptions {
  size_t batch_size = 5000;  // interactions per transaction
  // How each line is stored, as the server stores a save (its redactor: --redact). Lines are
  // compared with stored interactions in this form, so a redacted import run again adds nothing.
  BuildOptions build;
  // Called now and then with the counts so far, for a progress line.
  std::function<void(const ImportStats&)> progress;
  // Called while the store completes its deferred indexing after the load.
  std::function<void(int64_t indexed, int64_t total)> indexing_progress;
  // Called for each line that is not a valid interaction (1-based line number, or 0 for a
  // whole legacy file), with why.
  std::function<void(const std::string& source, uint64_t line, const Status& why)> on_skip;
  // Called for each conflict: the line's interaction_id exists for its user with different
  // content (the line is skipped, the stored interaction kept).
  std::function<void(const std::string& source, uint64_t line, const std::string& user_id,
                     const std::string& interaction_id)> on_conflict;
};

// Imports `path`: a .jsonl file ("-" for standard input) or a legacy blob directory.
// Interactions without a timestamp get the current time. Per line, against the store and the
// lines before it:
//   - with an interaction_id: absent, it is imported under that id; present with the same
//     content (compared in canonical form), it counts as already present; present with other
//     content, it is a conflict, reported by line and skipped;
//   - without one: its id is derived from the timestamp (INT_..._ffffff); when that id is
//     taken by other content, it gets the next free one of that microsecond (_2, _3, ...) and
//     keeps its timestamp; an id of that microsecond with the same content makes it already
//     present.
// So a second import of the same file imports nothing. Stops only when the store cannot be
// read or written, saying which lines were not written.
Result<ImportStats> Import(const std::string& path, InteractionStore* store, Clock* clock,
                           const ImportOptions& options);

}  // namespace omniflow
