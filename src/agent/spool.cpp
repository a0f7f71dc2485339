#include "agent/spool.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/thread_name.h"

namespace omniflow::agent {

Spool::Spool(std::string dir) : dir_(std::move(dir)), path_(dir_ + "/interactions.jsonl") {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
}

Spool::~Spool() {
  {
    MutexLock lock(&loop_mu_);
    stopping_ = true;
  }
  loop_cv_.SignalAll();
  if (loop_.joinable()) loop_.join();
}

Status Spool::Append(const InteractionRecord& r) {
  JsonWriter w;
  w.Reserve(r.json.size() + 200);
  w.BeginObject()
      .Field("user_id", r.user_id)
      .Field("ts_us", r.ts_us)
      .Field("interaction_id", r.interaction_id)
      .Key("thread_id");
  r.thread_id ? w.String(*r.thread_id) : w.Null();
  w.Field("tool_calls", r.tool_call_count).Field("tool_failures", r.tool_failure_count);
  if (r.usage) {
    // The usage as priced at ingest: a replay stores this cost, not today's.
    w.Key("usage")
        .BeginObject()
        .Field("model", r.usage->model)
        .Field("input", r.usage->tokens.input)
        .Field("cached_input", r.usage->tokens.cached_input)
        .Field("output", r.usage->tokens.output)
        .Field("reasoning", r.usage->tokens.reasoning)
        .Key("cost_nanos");
    r.usage->cost_nanos ? w.Int(*r.usage->cost_nanos) : w.Null();
    w.EndObject();
  }
  w.RawField("body", r.json).EndObject();
  std::string line = w.Release();
  line.push_back('\n');
  MutexLock lock(&mu_);
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable("cannot open the spool file " + path_);
  size_t written = 0;
  while (written < line.size()) {
    ssize_t n = ::write(fd, line.data() + written, line.size() - written);
    if (n <= 0) {
      ::close(fd);
      return Status::Unavailable("cannot write the spool file " + path_);
    }
    written += static_cast<size_t>(n);
  }
  int synced = ::fsync(fd);
  ::close(fd);
  if (synced != 0) return Status::Unavailable("cannot sync the spool file " + path_);
  ++spooled_;
  return Status::Ok();
}

namespace {

bool NonEmptyFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && st.st_size > 0;
}

void SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

bool Spool::empty() const {
  MutexLock lock(&mu_);
  return !NonEmptyFile(path_) && !NonEmptyFile(replaying_path());
}

Result<size_t> Spool::ReplayFile(InteractionStore* store, const Commit& commit) {
  std::ifstream in(replaying_path());
  if (!in) return size_t{0};
  std::vector<InteractionRecord> pending;
  simdjson::dom::parser parser;
  std::string line;
  while (std::getline(in, line)) {
    simdjson::dom::element doc;
    if (parser.parse(line).get(doc) != simdjson::SUCCESS) continue;  // torn last line
    InteractionRecord r;
    std::string_view user, id, thread;
    int64_t ts = 0, calls = 0, failures = 0;
    simdjson::dom::element body;
    if (doc["user_id"].get(user) || doc["interaction_id"].get(id) || doc["ts_us"].get(ts) ||
        doc["body"].get(body)) {
      continue;
    }
    r.user_id = std::string(user);
    r.interaction_id = std::string(id);
    r.ts_us = ts;
    if (doc["thread_id"].get(thread) == simdjson::SUCCESS) r.thread_id = std::string(thread);
    if (doc["tool_calls"].get(calls) == simdjson::SUCCESS) r.tool_call_count = static_cast<int>(calls);
    if (doc["tool_failures"].get(failures) == simdjson::SUCCESS) {
      r.tool_failure_count = static_cast<int>(failures);
    }
    simdjson::dom::object usage;
    if (doc["usage"].get(usage) == simdjson::SUCCESS) {
      StoredUsage& u = r.usage.emplace();
      std::string_view model;
      if (usage["model"].get(model) == simdjson::SUCCESS) u.model = std::string(model);
      for (auto [key, count] :
           {std::pair{"input", &u.tokens.input}, std::pair{"cached_input", &u.tokens.cached_input},
            std::pair{"output", &u.tokens.output}, std::pair{"reasoning", &u.tokens.reasoning}}) {
        if (usage[key].get(*count) != simdjson::SUCCESS) *count = 0;
      }
      int64_t cost = 0;
      if (usage["cost_nanos"].get(cost) == simdjson::SUCCESS) u.cost_nanos = cost;
    }
    AppendJson(&r.json, body);
    // Already stored (a replay committed it but died before removing the file): skip.
    if (store->Get(r.user_id, r.interaction_id).ok()) continue;
    pending.push_back(std::move(r));
  }
  in.close();
  size_t moved = pending.size();
  if (!pending.empty()) {
    if (Status s = commit(std::move(pending)); !s.ok()) return s;
  }
  ::unlink(replaying_path().c_str());
  SyncDir(dir_);
  replayed_ += moved;
  return moved;
}

Result<size_t> Spool::Replay(InteractionStore* store, const Commit& commit) {
  // One replay at a time; Append never waits for it: the spool file is renamed aside under the
  // file lock, and new lines go to a fresh file while the renamed one is committed.
  MutexLock replay_lock(&replay_mu_);
  size_t total = 0;
  for (int pass = 0; pass < 2; ++pass) {
    {
      MutexLock lock(&mu_);
      if (!NonEmptyFile(replaying_path())) {
        if (!NonEmptyFile(path_)) return total;
        if (::rename(path_.c_str(), replaying_path().c_str()) != 0) {
          return Status::Unavailable("cannot rename the spool file " + path_);
        }
        SyncDir(dir_);
      }
    }
    Result<size_t> moved = ReplayFile(store, commit);
    if (!moved.ok()) return moved.status();
    total += *moved;
  }
  return total;
}

Result<size_t> Spool::RemoveUserFrom(const std::string& file, const std::string& user_id) {
  std::ifstream in(file);
  if (!in) return size_t{0};
  simdjson::dom::parser parser;
  std::string kept;
  std::string line;
  size_t removed = 0;
  bool changed = false;
  while (std::getline(in, line)) {
    simdjson::dom::element doc;
    std::string_view user;
    if (parser.parse(line).get(doc) != simdjson::SUCCESS || doc["user_id"].get(user)) {
      changed = true;
      continue;
    }
    if (user == user_id) {
      ++removed;
      changed = true;
      continue;
    }
    kept.append(line).push_back('\n');
  }
  in.close();
  if (!changed) return removed;
  if (kept.empty()) {
    if (::unlink(file.c_str()) != 0) return Status::Unavailable("cannot remove " + file);
    SyncDir(dir_);
    return removed;
  }
  const std::string temp = dir_ + "/interactions.erasing.tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable("cannot create " + temp);
  size_t written = 0;
  while (written < kept.size()) {
    ssize_t n = ::write(fd, kept.data() + written, kept.size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const bool synced = written == kept.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(temp.c_str(), file.c_str()) != 0) {
    ::unlink(temp.c_str());
    return Status::Unavailable("cannot rewrite the spool file " + file);
  }
  SyncDir(dir_);
  return removed;
}

Result<size_t> Spool::EraseUser(const std::string& user_id,
                                const std::function<Status()>& erase_store) {
  MutexLock replay_lock(&replay_mu_);
  if (erase_store) {
    if (Status s = erase_store(); !s.ok()) return s;
  }
  MutexLock lock(&mu_);
  size_t removed = 0;
  for (const std::string& file : {replaying_path(), path_}) {
    Result<size_t> n = RemoveUserFrom(file, user_id);
    if (!n.ok()) return n.status();
    removed += *n;
  }
  return removed;
}

void Spool::StartReplayLoop(InteractionStore* store, Commit commit,
                            std::chrono::milliseconds period) {
  loop_ = std::thread([this, store, commit = std::move(commit), period] {
    NameThisThread("of-spool");
    while (true) {
      {
        MutexLock lock(&loop_mu_);
        const auto deadline = std::chrono::steady_clock::now() + period;
        while (!stopping_) {
          if (!loop_cv_.WaitUntil(&loop_mu_, deadline)) break;
        }
        if (stopping_) return;
      }
      if (!empty()) (void)Replay(store, commit);
    }
  });
}

}  // namespace omniflow::agent
