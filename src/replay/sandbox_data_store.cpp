#include "replay/sandbox_data_store.h"

#include <simdjson.h>

#include "core/json.h"

namespace omniflow::replay {

namespace {

Status NoEntry() { return Status::NotFound("no entry with that id"); }

// Appends the stored entry `body` to `entries`, keyed by its entry_id.
Status AddEntry(simdjson::dom::parser& parser, const std::string& blob, std::string body,
                std::vector<std::pair<std::string, std::string>>* entries) {
  std::string_view id;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS ||
      doc["entry_id"].get(id) != simdjson::SUCCESS) {
    return Status::Internal("a stored entry of " + blob + " has no entry_id");
  }
  entries->emplace_back(std::string(id), std::move(body));
  return Status::Ok();
}

}  // namespace

std::string SnapshotJson(const Snapshot& snapshot) {
  JsonWriter w;
  w.BeginObject();
  for (const auto& [blob, entries] : snapshot) {
    w.Key(blob).BeginArray();
    for (const auto& entry : entries) w.String(entry.second);
    w.EndArray();
  }
  w.EndObject();
  return w.Release();
}

Result<Snapshot> ParseSnapshot(std::string_view json) {
  simdjson::dom::parser parser, entry_parser;
  simdjson::dom::object doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) {
    return Status::Internal("a replay's snapshot is not a JSON object");
  }
  Snapshot snapshot;
  for (auto [blob, value] : doc) {
    simdjson::dom::array entries;
    if (value.get(entries) != simdjson::SUCCESS) {
      return Status::Internal("a replay's snapshot holds a document that is not an array");
    }
    auto& copy = snapshot[std::string(blob)];
    for (simdjson::dom::element entry : entries) {
      std::string_view body;
      if (entry.get(body) != simdjson::SUCCESS) {
        return Status::Internal("a replay's snapshot holds an entry that is not a string");
      }
      if (Status s = AddEntry(entry_parser, std::string(blob), std::string(body), &copy); !s.ok()) {
        return s;
      }
    }
  }
  return snapshot;
}

Result<Snapshot> TakeSnapshot(DataStore* real, const std::string& user) {
  Snapshot snapshot;
  Result<std::vector<std::pair<std::string, int64_t>>> blobs = real->List(user);
  if (!blobs.ok()) return blobs.status();
  simdjson::dom::parser parser;
  for (const auto& [blob, count] : *blobs) {
    Result<std::vector<std::string>> entries = real->Get(user, blob);
    if (!entries.ok()) return entries.status();
    auto& copy = snapshot[blob];
    for (std::string& body : *entries) {
      if (Status s = AddEntry(parser, blob, std::move(body), &copy); !s.ok()) return s;
    }
  }
  return snapshot;
}

std::pair<std::string, std::string>* SandboxDataStore::Find(const std::string& user,
                                                            const std::string& blob,
                                                            const std::string& entry_id) {
  if (user != user_) return nullptr;
  auto doc = docs_.find(blob);
  if (doc == docs_.end()) return nullptr;
  for (auto& entry : doc->second) {
    if (entry.first == entry_id) return &entry;
  }
  return nullptr;
}

Result<DataStore::Added> SandboxDataStore::Add(const std::string& user, const std::string& blob,
                                               std::string_view entry_object) {
  if (user != user_) return Status::PermissionDenied("the sandbox holds another user's data");
  NewEntry entry = MakeEntry(entry_object);
  MutexLock lock(&mu_);
  Entries& entries = docs_[blob];
  entries.emplace_back(entry.entry_id, std::move(entry.body));
  return Added{entry.entry_id, static_cast<int64_t>(entries.size())};
}

Result<std::vector<std::string>> SandboxDataStore::Get(const std::string& user,
                                                       const std::string& blob) {
  std::vector<std::string> out;
  MutexLock lock(&mu_);
  auto doc = docs_.find(blob);
  if (user != user_ || doc == docs_.end()) return out;
  for (const auto& entry : doc->second) out.push_back(entry.second);
  return out;
}

Status SandboxDataStore::Replace(const std::string& user, const std::string& blob,
                                 const std::string& entry_id, std::string_view merged) {
  MutexLock lock(&mu_);
  auto* entry = Find(user, blob, entry_id);
  if (entry == nullptr) return NoEntry();
  entry->second = std::string(merged);
  return Status::Ok();
}

Result<std::string> SandboxDataStore::GetEntry(const std::string& user, const std::string& blob,
                                               const std::string& entry_id) {
  MutexLock lock(&mu_);
  auto* entry = Find(user, blob, entry_id);
  if (entry == nullptr) return NoEntry();
  return entry->second;
}

Result<int64_t> SandboxDataStore::Delete(const std::string& user, const std::string& blob,
                                         const std::string& entry_id) {
  MutexLock lock(&mu_);
  if (Find(user, blob, entry_id) == nullptr) return NoEntry();
  Entries& entries = docs_[blob];
  std::erase_if(entries, [&](const auto& e) { return e.first == entry_id; });
  return static_cast<int64_t>(entries.size());
}

Result<std::vector<std::pair<std::string, int64_t>>> SandboxDataStore::List(
    const std::string& user) {
  std::vector<std::pair<std::string, int64_t>> out;
  if (user != user_) return out;
  MutexLock lock(&mu_);
  for (const auto& [blob, entries] : docs_) {
    if (!entries.empty()) out.emplace_back(blob, static_cast<int64_t>(entries.size()));
  }
  return out;
}

}  // namespace omniflow::replay
