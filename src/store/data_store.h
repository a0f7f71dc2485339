// A DataStore keeps each user's named JSON documents (tasks.json, notes.json, ...): arrays of
// entries with server-assigned entry ids. The data tools and the data functions work on it.
// Every call names the user; no call can reach another user's documents. Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/ids.h"
#include "core/status.h"
#include "core/validate.h"  // IsValidBlobName
#include "store/interaction_store.h"

namespace omniflow {

// A new entry of a data document as both engines store it: a fresh entry id ("E" + 6 random
// characters) and the body {"entry_id":"E...", <the members of `entry_object`>}.
// REQUIRES: `entry_object` is a canonical JSON object.
struct NewEntry {
  std::string entry_id;
  std::string body;
};
NewEntry MakeEntry(std::string_view entry_object);

class DataStore {
 public:
  virtual ~DataStore() = default;

  struct Added {
    std::string entry_id;
    int64_t entry_count = 0;
  };
  // Appends `entry` (a canonical JSON object) to `blob`, creating the blob.
  virtual Result<Added> Add(const std::string& user, const std::string& blob,
                            std::string_view entry_object) = 0;
  // The entries of `blob` as canonical JSON objects in insertion order (empty if none).
  virtual Result<std::vector<std::string>> Get(const std::string& user,
                                               const std::string& blob) = 0;
  // Replaces entry `entry_id` with `merged` (canonical JSON object). NotFound if absent.
  virtual Status Replace(const std::string& user, const std::string& blob,
                         const std::string& entry_id, std::string_view merged) = 0;
  // The entry `entry_id` of `blob`; NotFound if absent.
  virtual Result<std::string> GetEntry(const std::string& user, const std::string& blob,
                                       const std::string& entry_id) = 0;
  // Deletes entry `entry_id`; returns the entries left. NotFound if absent.
  virtual Result<int64_t> Delete(const std::string& user, const std::string& blob,
                                 const std::string& entry_id) = 0;
  // The user's blobs with their entry counts, by name.
  virtual Result<std::vector<std::pair<std::string, int64_t>>> List(const std::string& user) = 0;
};

// A new entry's id, made the same way on every engine: "E" and 6 random bytes (RandomId).
inline std::string NewEntryId() { return RandomId("E", 6); }

}  // namespace omniflow
