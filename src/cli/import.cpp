#include "cli/import.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <simdjson.h>
#include <unordered_map>
#include <vector>

#include "core/json.h"
#include "core/validate.h"

namespace omniflow {

namespace {

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
    // Interactions sharing a microsecond (per user) get the suffixes _2, _3, ...
    std::string key = fields.user_id;
    key.push_back('|');
    key.append(std::to_string(ts));
    int& seen = seen_[key];
    if (++seen > 1) stamp.interaction_id += "_" + std::to_string(seen);
    if (fields.interaction_id && *fields.interaction_id != stamp.interaction_id &&
        fields.interaction_id->rfind(FormatInteractionId(ts), 0) != 0) {
      return Skip(source, line,
                  Status::InvalidArgument("interaction_id does not match the timestamp"));
    }
    batch_.push_back(BuildInteraction(stamp, fields.user_id, std::move(*parsed)));
    if (batch_.size() >= options_.batch_size) return Flush();
    return Status::Ok();
  }

  Status Flush() {
    if (batch_.empty()) return Status::Ok();
    Status s = store_->Append(batch_);
    if (!s.ok()) return s;
    stats_.imported += batch_.size();
    batch_.clear();
    if (seen_.size() > 1'000'000) seen_.clear();  // bounded memory on huge sorted imports
    if (options_.progress) options_.progress(stats_.imported, stats_.skipped);
    return Status::Ok();
  }

  const ImportStats& stats() const { return stats_; }

 private:
  Status Skip(const std::string& source, uint64_t line, const Status& why) {
    ++stats_.skipped;
    if (options_.on_skip) options_.on_skip(source, line, why);
    return Status::Ok();
  }

  InteractionStore* store_;
  Clock* clock_;
  const ImportOptions& options_;
  std::vector<InteractionRecord> batch_;
  std::unordered_map<std::string, int> seen_;
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

Status ImportLegacyDir(const std::filesystem::path& dir, Importer* importer) {
  std::filesystem::path users = dir / "users";
  if (!std::filesystem::is_directory(users)) users = dir;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(users)) {
    auto file = entry.path() / "interaction_logs.json";
    if (entry.is_directory() && std::filesystem::is_regular_file(file)) files.push_back(file);
  }
  std::sort(files.begin(), files.end());
  simdjson::dom::parser parser;
  for (const auto& file : files) {
    simdjson::dom::element root;
    auto error = parser.load(file.string()).get(root);
    if (error || !root.is_array()) {
      std::cerr << "skipping " << file << ": not a JSON array of interactions\n";
      continue;
    }
    uint64_t index = 0;
    std::string text;
    simdjson::dom::array items = root.get_array().value_unsafe();
    for (auto item : items) {
      ++index;
      text.clear();
      AppendJson(&text, item);
      if (Status s = importer->Add(text, file.string(), index); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ImportStats> Import(const std::string& path, InteractionStore* store, Clock* clock,
                           const ImportOptions& options) {
  Importer importer(store, clock, options);
  Status s;
  if (path == "-") {
    s = ImportJsonLines(std::cin, "stdin", &importer);
  } else if (std::filesystem::is_directory(path)) {
    s = ImportLegacyDir(path, &importer);
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
