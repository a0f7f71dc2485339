#include "replay/runner.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <vector>

#include "agent/transcript.h"
#include "core/json.h"
#include "core/log.h"
#include "replay/compare.h"
#include "replay/sandbox_data_store.h"

namespace omniflow::replay {

namespace {

// The stored original: the interaction's JSON with its feedback score, when it has one.
std::string OriginalJson(const InteractionView& view) {
  if (!view.feedback) return view.json;
  JsonWriter w;
  w.BeginObjectFrom(view.json).Key("feedback").BeginObject().Field("score", view.feedback->score);
  w.Field("comment", view.feedback->comment).EndObject().EndObject();
  return w.Release();
}

Result<ReplayTarget> TargetOf(const InteractionView& view, int64_t item_no) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view user;
  if (parser.parse(view.json).get(doc) != simdjson::SUCCESS ||
      doc["user_id"].get(user) != simdjson::SUCCESS) {
    return Status::Internal("a stored interaction has no user_id");
  }
  ReplayTarget t;
  t.item_no = item_no;
  t.user_id = std::string(user);
  t.interaction_id = view.position.interaction_id;
  t.ts_us = view.position.ts_us;
  t.original_json = OriginalJson(view);
  t.original_usage = view.usage;
  return t;
}

// The newest-first order of search.
bool Newer(const InteractionView& a, const InteractionView& b) {
  if (a.position.ts_us != b.position.ts_us) return a.position.ts_us > b.position.ts_us;
  return a.position.interaction_id > b.position.interaction_id;
}

}  // namespace

Runner::Runner(RunnerStores stores, RunnerOptions options)
    : stores_(stores), options_(std::move(options)) {}

Runner::~Runner() { Stop(); }

int64_t Runner::Now() const {
  return (options_.clock ? options_.clock : Clock::Real())->NowMicros();
}

bool Runner::CanCall(const Candidate& candidate) const {
  if (!candidate.base_url.empty()) return true;
  agent::ProviderOptions p = options_.provider;
  if (!candidate.model.empty()) p.model = candidate.model;
  return p.Configured();
}

Result<std::string> Runner::Start(const ReplaySpec& spec, const std::string& spec_json,
                                  const std::string& actor) {
  Result<std::string> id = Create(spec, spec_json, actor);
  if (id.ok()) Launch(*id);
  return id;
}

Result<std::string> Runner::Create(const ReplaySpec& spec, const std::string& spec_json,
                                   const std::string& actor) {
  ReplayInfo info;
  info.replay_id = RandomId("rp_", 12);
  info.name = spec.name;
  info.actor = actor;
  info.spec_json = spec_json;
  info.created_us = Now();
  if (Status s = stores_.replays->Create(info); !s.ok()) return s;
  return info.replay_id;
}

Status Runner::ResumeAll() {
  Result<std::vector<ReplayInfo>> all = stores_.replays->List(1000);
  if (!all.ok()) return all.status();
  for (const ReplayInfo& info : *all) {
    if (info.state == "selecting" || info.state == "running") {
      spdlog::info("event=replay_resumed replay={} done={} total={}", info.replay_id, info.done,
                   info.total);
      Launch(info.replay_id);
    }
  }
  return Status::Ok();
}

void Runner::Launch(const std::string& replay_id) {
  MutexLock lock(&mu_);
  if (stopped_) return;
  // Reap the jobs that have ended.
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (it->second->finished) {
      it->second->thread.join();
      it = jobs_.erase(it);
    } else {
      ++it;
    }
  }
  if (jobs_.count(replay_id)) return;
  auto job = std::make_unique<Job>();
  Job* j = job.get();
  j->thread = std::thread([this, replay_id, j]() {
    Status s = Run(replay_id, j->stop, nullptr);
    if (!s.ok()) {
      spdlog::warn("event=replay_stopped replay={} error=\"{}\"", replay_id, LogSafe(s.message()));
    }
    j->finished = true;
  });
  jobs_[replay_id] = std::move(job);
}

Status Runner::Remove(const std::string& replay_id) {
  {
    MutexLock lock(&mu_);
    auto it = jobs_.find(replay_id);
    if (it != jobs_.end()) it->second->stop = true;
  }
  return stores_.replays->Delete(replay_id);
}

void Runner::Stop() {
  std::map<std::string, std::unique_ptr<Job>> jobs;
  {
    MutexLock lock(&mu_);
    stopped_ = true;
    jobs.swap(jobs_);
  }
  for (auto& [id, job] : jobs) job->stop = true;
  for (auto& [id, job] : jobs) job->thread.join();
}

Status Runner::RunHere(const std::string& replay_id, const std::atomic<bool>& stop,
                       const std::function<void(int64_t, int64_t)>& progress) {
  return Run(replay_id, stop, progress);
}

Status Runner::Select(const std::string& replay_id, const ReplaySpec& spec) {
  SearchQuery q = spec.filter;
  q.limit = 200;
  q.after.reset();
  std::vector<InteractionView> chosen;
  std::mt19937_64 random(std::random_device{}());
  int64_t seen = 0;
  while (true) {
    Result<SearchPage> page = stores_.analytics->Search(q);
    if (!page.ok()) return page.status();
    for (InteractionView& view : page->items) {
      if (!spec.random) {
        if (static_cast<int>(chosen.size()) < spec.limit) chosen.push_back(std::move(view));
        continue;
      }
      // Reservoir sampling: every match so far is in `chosen` with the same probability.
      ++seen;
      if (static_cast<int>(chosen.size()) < spec.limit) {
        chosen.push_back(std::move(view));
      } else if (uint64_t k = random() % static_cast<uint64_t>(seen);
                 k < static_cast<uint64_t>(spec.limit)) {
        chosen[k] = std::move(view);
      }
    }
    const bool enough =
        spec.random ? seen >= options_.max_sampled : static_cast<int>(chosen.size()) >= spec.limit;
    if (enough || !page->has_more || !page->next) break;
    q.after = page->next;
  }
  std::sort(chosen.begin(), chosen.end(), Newer);
  std::vector<ReplayTarget> targets;
  // Each chosen user's documents, read once now and kept with the items: the sandboxes of
  // every run of this replay, a resumed one included, start from them.
  std::map<std::string, std::string> snapshots;
  for (size_t i = 0; i < chosen.size(); ++i) {
    Result<ReplayTarget> t = TargetOf(chosen[i], static_cast<int64_t>(i));
    if (!t.ok()) return t.status();
    if (!snapshots.count(t->user_id)) {
      Result<Snapshot> snapshot = TakeSnapshot(stores_.data, t->user_id);
      if (!snapshot.ok()) return snapshot.status();
      snapshots.emplace(t->user_id, SnapshotJson(*snapshot));
    }
    targets.push_back(std::move(*t));
  }
  return stores_.replays->AddTargets(replay_id, targets, snapshots);
}

Status Runner::Run(const std::string& replay_id, const std::atomic<bool>& stop,
                   const std::function<void(int64_t, int64_t)>& progress) {
  Result<ReplayInfo> info = stores_.replays->Get(replay_id);
  if (!info.ok()) return info.status();
  if (info->state == "done" || info->state == "failed") return Status::Ok();
  Result<ReplaySpec> spec = options_.parse_spec(info->spec_json);
  if (!spec.ok()) {
    return stores_.replays->Finish(replay_id, "failed", "its spec: " + spec.status().message(),
                                   Now());
  }
  if (info->state == "selecting") {
    if (Status s = Select(replay_id, *spec); !s.ok()) {
      if (IsTransient(s.code())) return s;  // tried again at the next start
      return stores_.replays->Finish(replay_id, "failed", "selection: " + s.message(), Now());
    }
  }
  Result<std::vector<ReplayTarget>> pending = stores_.replays->Pending(replay_id, 10000);
  if (!pending.ok()) return pending.status();

  // The candidate's provider and settings.
  agent::ProviderOptions provider_options = options_.provider;
  const Candidate& candidate = spec->candidate;
  if (!candidate.base_url.empty() && candidate.base_url != provider_options.base_url) {
    provider_options.base_url = candidate.base_url;
    provider_options.api_key.clear();
    provider_options.api_version.clear();
  }
  if (!candidate.model.empty()) provider_options.model = candidate.model;
  std::unique_ptr<agent::ChatProvider> provider = options_.make_provider
                                                      ? options_.make_provider(provider_options)
                                                      : agent::NewOpenAiProvider(provider_options);
  agent::AgentOptions agent_options = options_.agent;
  agent_options.model = provider_options.model;
  if (!candidate.system_prompt.empty()) agent_options.system_prompt = candidate.system_prompt;
  const PriceTable& prices = options_.prices ? *options_.prices : PriceTable::Default();

  // The sandboxes' source: each user's documents as kept when the items were chosen; read now
  // only for a replay chosen before snapshots were kept.
  Result<std::map<std::string, std::string>> kept = stores_.replays->Snapshots(replay_id);
  if (!kept.ok()) return kept.status();
  std::map<std::string, Snapshot> snapshots;
  for (const ReplayTarget& t : *pending) {
    if (snapshots.count(t.user_id)) continue;
    auto stored = kept->find(t.user_id);
    Result<Snapshot> snapshot = stored != kept->end() ? ParseSnapshot(stored->second)
                                                      : TakeSnapshot(stores_.data, t.user_id);
    if (!snapshot.ok()) return snapshot.status();
    snapshots.emplace(t.user_id, std::move(*snapshot));
  }

  std::atomic<size_t> next{0};
  std::atomic<int64_t> done{info->done};
  const int64_t total = info->total ? info->total : static_cast<int64_t>(pending->size());
  Mutex progress_mu;
  auto work = [&]() {
    for (size_t i = next++; i < pending->size() && !stop; i = next++) {
      const ReplayTarget& t = (*pending)[i];
      ReplayResult result;
      Result<Original> original = ParseOriginal(t.original_json);
      const auto started = std::chrono::steady_clock::now();
      agent::AgentOutcome outcome;
      if (original.ok()) {
        SandboxDataStore sandbox(t.user_id, snapshots.at(t.user_id));
        outcome = agent::RunMessage(provider.get(), stores_.interactions, &sandbox, agent_options,
                                    t.user_id, original->thread_id, original->user_message,
                                    HistoryCursor{t.ts_us, t.interaction_id});
      } else {
        outcome.status = original.status();
      }
      const int64_t latency = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - started)
                                  .count();
      if (stop) return;  // removed or stopping: the item is redone, or gone
      result = Compare(original.ok() ? *original : Original{}, outcome, latency);
      // Usage is what the provider's answers reported: none when it never answered (an outage on
      // the first round, an original that could not be read), rather than a known 0.
      if (outcome.rounds - (outcome.status.ok() ? 0 : 1) > 0) {
        ReportedUsage usage = agent::UsageOf(outcome, agent_options.model);
        result.usage =
            StoredUsage{usage.model, usage.tokens, CostNanos(usage.tokens, usage.model, prices)};
      }
      Result<bool> saved = stores_.replays->SaveResult(replay_id, t.item_no, result);
      if (!saved.ok()) {
        spdlog::warn("event=replay_result_not_stored replay={} error=\"{}\"", replay_id,
                     LogSafe(saved.status().message()));
        continue;
      }
      const int64_t now_done = ++done;
      if (progress) {
        MutexLock lock(&progress_mu);
        progress(now_done, total);
      }
    }
  };
  const int threads = std::clamp(spec->concurrency, 1, 16);
  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) workers.emplace_back(work);
  work();
  for (std::thread& w : workers) w.join();
  if (stop) return Status::Ok();
  Result<std::vector<ReplayTarget>> left = stores_.replays->Pending(replay_id, 1);
  if (!left.ok()) return left.status();
  if (!left->empty()) {
    return Status::Unavailable("results could not be stored; the replay resumes at the next start");
  }
  Status finished = stores_.replays->Finish(replay_id, "done", "", Now());
  return finished.code() == Status::Code::kNotFound ? Status::Ok() : finished;
}

}  // namespace omniflow::replay
