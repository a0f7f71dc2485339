#include "cli/import.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <simdjson.h>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "core/validate.h"
#include "metrics/captured.h"

namespace omniflow {

namespace {

// `json` (canonical, so it begins with {"interaction_id":"<old>") with the id `id` instead.
std::string WithId(const std::string& json, size_t old_id_size, const std::string& id) {
  constexpr std::string_view kPrefix = "{\"interaction_id\":\"";
  std::string out;
  out.reserve(json.size() + id.size());
  out.append(kPrefix).append(id).append(json, kPrefix.size() + old_id_size);
  return out;
}

// True when `stored` and `ours` are the same interaction: byte for byte (both canonical), or
// once `stored` is rebuilt in today's canonical form (rows written by older versions).
bool SameContent(const std::string& stored, const std::string& ours, const BuildOptions& build) {
  if (stored == ours) return true;
  ImportFields fields;
  Result<SaveRequest> parsed = ParseSaveRequest(stored, &fields);
  int64_t ts = 0;
  if (!parsed.ok() || !fields.timestamp || !fields.interaction_id ||
      !ParseTimestamp(*fields.timestamp, &ts)) {
    return false;
  }
  Stamp stamp{ts, *fields.interaction_id, FormatTimestamp(ts)};
  return BuildInteraction(stamp, fields.user_id, std::move(*parsed), build).json == ours;
}

class Importer {
 public:
  Importer(InteractionStore* store, Clock* clock, const ImportOptions& options)
      : store_(store), clock_(clock), options_(options) {}

  // Validates one interaction object and queues it; a bad one is counted and reported.
  Status Add(std::string_view json, const std::string& source, uint64_t line) {
    ImportFields fields;
    Result<SaveRequest> parsed = ParseSaveRequest(json, &fields);
    if (!parsed.ok()) return Skip(source, line, parsed.status());
    int64_t ts = 0;
    if (fields.timestamp) {
      if (!ParseTimestamp(*fields.timestamp, &ts)) {
        return Skip(source, line,
                    Status::InvalidArgument("timestamp must be ISO 8601 UTC, e.g. "
                                            "2025-12-11T13:05:30.123456Z"));
      }
    } else {
      ts = clock_->NowMicros();
    }
    Stamp stamp{ts, FormatInteractionId(ts), FormatTimestamp(ts)};
    const bool given = fields.interaction_id.has_value();
    if (given) {
      if (!IsValidInteractionId(*fields.interaction_id) ||
          fields.interaction_id->rfind(stamp.interaction_id, 0) != 0 ||
          (fields.interaction_id->size() > stamp.interaction_id.size() &&
           (*fields.interaction_id)[stamp.interaction_id.size()] != '_')) {
        return Skip(source, line,
                    Status::InvalidArgument("interaction_id does not match the timestamp"));
      }
      stamp.interaction_id = *fields.interaction_id;
    }
    pending_.push_back(
        Pending{BuildInteraction(stamp, fields.user_id, std::move(*parsed), options_.build), given,
                &source, line});
    if (pending_.size() >= options_.batch_size) return Flush();
    return Status::Ok();
  }

  // Decides each pending line against the store and this run, and writes the new ones in one
  // transaction.
  Status Flush() {
    if (pending_.empty()) return Status::Ok();
    const std::string range = LineRange();
    // A concurrent writer (a server saving into the same store) may take an id between the
    // check and the write: then the batch fails whole, and is decided again once.
    Status s;
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::vector<InteractionRecord> fresh;
      ImportStats counts;
      s = Decide(&fresh, &counts);
      if (!s.ok()) {
        return Status::Unavailable("the store could not be read to check " + range + ": " + s.message());
      }
      s = store_->Append(fresh);
      if (s.ok()) {
        metrics::CountCaptured(metrics::CaptureSource::kImport, counts.imported);
        stats_.imported += counts.imported;
        stats_.already_present += counts.already_present;
        stats_.conflicts += counts.conflicts;
        for (const Report& r : reports_) {
          if (options_.on_conflict) options_.on_conflict(*r.source, r.line, r.user_id, r.id);
        }
        for (InteractionRecord& record : fresh) Claim(record.user_id, record.ts_us, record.interaction_id);
        for (const auto& [key, id] : matched_) Claim(key.first, key.second, id);
        break;
      }
    }
    reports_.clear();
    matched_.clear();
    if (!s.ok()) {
      return Status::Unavailable("the store did not take " + range + " (" + s.message() +
                                  "); the lines before them are in. Importing the file again "
                                  "counts those as already present");
    }
    pending_.clear();
    if (claimed_.size() > 1'000'000) claimed_.clear();  // bounded memory on huge imports
    if (options_.progress) options_.progress(stats_);
    return Status::Ok();
  }

  const ImportStats& stats() const { return stats_; }

 private:
  struct Pending {
    InteractionRecord record;
    bool given_id;
    const std::string* source;
    uint64_t line;
  };
  struct Report {
    const std::string* source;
    uint64_t line;
    std::string user_id, id;
  };
  using Key = std::pair<std::string, int64_t>;  // (user_id, ts_us)

  std::string LineRange() const {
    const Pending& a = pending_.front();
    const Pending& b = pending_.back();
    std::string text = *a.source + " line" + (a.line == b.line && a.source == b.source ? " " : "s ") +
                       std::to_string(a.line);
    if (a.line != b.line || a.source != b.source) {
      text += "-" + (a.source == b.source ? std::string() : *b.source + ":") + std::to_string(b.line);
    }
    return text;
  }

  void Claim(const std::string& user, int64_t ts, const std::string& id) {
    claimed_[{user, ts}].insert(id);
  }

  Status Decide(std::vector<InteractionRecord>* fresh, ImportStats* counts) {
    reports_.clear();
    matched_.clear();
    std::vector<UserInstant> keys;
    std::set<Key> distinct;
    for (const Pending& p : pending_) {
      if (distinct.insert({p.record.user_id, p.record.ts_us}).second) {
        keys.push_back(UserInstant{p.record.user_id, p.record.ts_us});
      }
    }
    Result<std::vector<StoredInteraction>> found = store_->FindAt(keys);
    if (!found.ok()) return found.status();
    // What each (user, microsecond) holds: the store's rows, then this batch's new ones.
    std::map<Key, std::map<std::string, std::string>> known;
    for (StoredInteraction& s : *found) known[{s.user_id, s.ts_us}][s.interaction_id] = std::move(s.json);
    // Ids this batch has matched or written, on top of those of earlier batches.
    std::map<Key, std::set<std::string>> used;
    for (const Pending& p : pending_) {
      const Key key{p.record.user_id, p.record.ts_us};
      std::map<std::string, std::string>& ids = known[key];
      std::set<std::string>& batch_used = used[key];
      auto claimed = [&](const std::string& id) {
        if (batch_used.count(id)) return true;
        auto it = claimed_.find(key);
        return it != claimed_.end() && it->second.count(id) > 0;
      };
      const InteractionRecord& r = p.record;
      if (p.given_id) {
        auto it = ids.find(r.interaction_id);
        if (it == ids.end()) {
          Take(p, r.interaction_id, r.json, &ids, &batch_used, fresh, counts);
        } else if (SameContent(it->second, r.json, options_.build)) {
          ++counts->already_present;
          batch_used.insert(r.interaction_id);
          matched_.emplace_back(key, r.interaction_id);
        } else {
          ++counts->conflicts;
          reports_.push_back(Report{p.source, p.line, r.user_id, r.interaction_id});
        }
        continue;
      }
      // Without an id: the first id of the microsecond not used by this run that is either
      // free (imported there) or holds this very content (already present).
      for (int n = 1;; ++n) {
        const std::string id = n == 1 ? r.interaction_id : r.interaction_id + "_" + std::to_string(n);
        if (claimed(id)) continue;
        const std::string json = n == 1 ? r.json : WithId(r.json, r.interaction_id.size(), id);
        auto it = ids.find(id);
        if (it == ids.end()) {
          Take(p, id, json, &ids, &batch_used, fresh, counts);
          break;
        }
        if (SameContent(it->second, json, options_.build)) {
          ++counts->already_present;
          batch_used.insert(id);
          matched_.emplace_back(key, id);
          break;
        }
      }
    }
    return Status::Ok();
  }

  // Queues `p` under `id` for writing.
  void Take(const Pending& p, const std::string& id, const std::string& json,
            std::map<std::string, std::string>* ids, std::set<std::string>* batch_used,
            std::vector<InteractionRecord>* fresh, ImportStats* counts) {
    InteractionRecord record = p.record;
    record.interaction_id = id;
    record.json = json;
    (*ids)[id] = json;
    batch_used->insert(id);
    fresh->push_back(std::move(record));
    ++counts->imported;
  }

  Status Skip(const std::string& source, uint64_t line, const Status& why) {
    ++stats_.skipped;
    if (options_.on_skip) options_.on_skip(source, line, why);
    return Status::Ok();
  }

  InteractionStore* store_;
  Clock* clock_;
  const ImportOptions& options_;
  std::vector<Pending> pending_;
  std::vector<Report> reports_;                            // conflicts of the batch
  std::vector<std::pair<Key, std::string>> matched_;       // already present in the batch
  std::map<Key, std::set<std::string>> claimed_;           // ids this run matched or wrote
  ImportStats stats_;
};

Status ImportJsonLines(std::istream& in, const std::string& source, Importer* importer) {
  std::string line;
  uint64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (Status s = importer->Add(line, source, number); !s.ok()) return s;
  }
  return Status::Ok();
}

Status ImportLegacyDir(const std::filesystem::path& dir, Importer* importer,
                       std::vector<std::string>* sources) {
  std::filesystem::path users = dir / "users";
  if (!std::filesystem::is_directory(users)) users = dir;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(users)) {
    auto file = entry.path() / "interaction_logs.json";
    if (entry.is_directory() && std::filesystem::is_regular_file(file)) files.push_back(file);
  }
  std::sort(files.begin(), files.end());
  // Pending lines point at their source's name until their batch is written.
  sources->reserve(files.size());
  simdjson::dom::parser parser;
  for (const auto& file : files) {
    simdjson::dom::element root;
    auto error = parser.load(file.string()).get(root);
    if (error || !root.is_array()) {
      std::cerr << "skipping " << file << ": not a JSON array of interactions\n";
      continue;
    }
    sources->push_back(file.string());
    uint64_t index = 0;
    std::string text;
    simdjson::dom::array items = root.get_array().value_unsafe();
    for (auto item : items) {
      ++index;
      text.clear();
      AppendJson(&text, item);
      if (Status s = importer->Add(text, sources->back(), index); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ImportStats> Import(const std::string& path, InteractionStore* store, Clock* clock,
                           const ImportOptions& options) {
  Importer importer(store, clock, options);
  Status s;
  std::vector<std::string> sources;
  const std::string stdin_name = "stdin";
  if (path == "-") {
    s = ImportJsonLines(std::cin, stdin_name, &importer);
  } else if (std::filesystem::is_directory(path)) {
    s = ImportLegacyDir(path, &importer, &sources);
  } else {
    std::ifstream in(path);
    if (!in) return Status::InvalidArgument("cannot open " + path);
    s = ImportJsonLines(in, path, &importer);
  }
  if (s.ok()) s = importer.Flush();
  // Whatever the store defers (the full-text index) is done before the import says it is.
  if (s.ok()) s = store->CatchUp(options.indexing_progress);
  if (!s.ok()) return s;
  return importer.stats();
}

}  // namespace omniflow
