// The Runner runs replays in the background: it selects a replay's interactions with search's
// filter, then runs each one's user message through the agent loop (agent/agent.h) with the
// candidate settings, with the earlier turns of its thread as logged, its data tools on a
// sandbox copy of the user's documents (replay/sandbox_data_store.h), and nothing logged as a
// user interaction; each item's result and comparison go to the ReplayStore. A replay resumes
// after a restart where it stopped (ResumeAll), without redoing finished items, on the copy of
// the documents kept when its items were chosen. A provider
// failure is an item's error; the replay goes on. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "agent/agent.h"
#include "agent/provider.h"
#include "core/ids.h"
#include "core/mutex.h"
#include "core/prices.h"
#include "replay/replay_spec.h"
#include "store/analytics_store.h"
#include "store/data_store.h"
#include "store/interaction_store.h"
#include "store/replay_store.h"

namespace omniflow::replay {

struct RunnerOptions {
  // The server's assistant: rounds, history bounds, system prompt and model, which a
  // candidate's settings override.
  agent::AgentOptions agent;
  // The server's provider. A candidate without base_url uses it (and its key); a candidate
  // with another base_url gets no API key: the server's key never leaves for another host.
  agent::ProviderOptions provider;
  // Makes the candidate's provider; null: agent::NewOpenAiProvider.
  std::function<std::unique_ptr<agent::ChatProvider>(agent::ProviderOptions)> make_provider;
  // Reads a stored spec (ReplayInfo::spec_json) back; required (api::ParseReplaySpec).
  std::function<Result<ReplaySpec>(std::string_view spec_json)> parse_spec;
  // Prices each replayed item's usage (the model the provider reported, else the candidate's),
  // as saves are priced; null: PriceTable::Default(). Not owned; outlives the Runner.
  const PriceTable* prices = nullptr;
  Clock* clock = nullptr;        // created_us, finished_us; null: the real clock
  int64_t max_sampled = 100000;  // matches a random sample is drawn from, at most
};

// The facets a Runner reads and writes; they outlive it.
struct RunnerStores {
  ReplayStore* replays = nullptr;
  AnalyticsStore* analytics = nullptr;       // selection (search)
  InteractionStore* interactions = nullptr;  // the threads' earlier turns
  DataStore* data = nullptr;  // read once per user when the items are chosen, never written
};

class Runner {
 public:
  Runner(RunnerStores stores, RunnerOptions options);
  // Stop()s.
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Whether a candidate with `base_url` (empty: the server's) has a provider to call.
  bool CanCall(const Candidate& candidate) const;

  // Records a new replay of `spec` (whose stored form is `spec_json`) started by `actor`,
  // without running it. Returns its id.
  Result<std::string> Create(const ReplaySpec& spec, const std::string& spec_json,
                             const std::string& actor);
  // Create()s and runs it in the background. Returns its id.
  Result<std::string> Start(const ReplaySpec& spec, const std::string& spec_json,
                            const std::string& actor);
  // Runs every replay left unfinished (by a stop or a crash) in the background again.
  Status ResumeAll();
  // Stops `replay_id` if it runs (its in-flight items finish and are dropped) and removes it
  // with its items. Does not wait. NotFound for an unknown replay.
  Status Remove(const std::string& replay_id);
  // Runs `replay_id` on the calling thread until it is done or `stop` is set, calling
  // `progress(done, total)` after each item. For the CLI.
  Status RunHere(const std::string& replay_id, const std::atomic<bool>& stop,
                 const std::function<void(int64_t, int64_t)>& progress);
  // Stops every running replay and waits for them; they stay unfinished, to resume later.
  void Stop();

 private:
  struct Job {
    std::atomic<bool> stop{false};
    std::atomic<bool> finished{false};
    std::thread thread;
  };
  void Launch(const std::string& replay_id) EXCLUDES(mu_);
  Status Run(const std::string& replay_id, const std::atomic<bool>& stop,
             const std::function<void(int64_t, int64_t)>& progress);
  Status Select(const std::string& replay_id, const ReplaySpec& spec);
  int64_t Now() const;

  const RunnerStores stores_;
  const RunnerOptions options_;
  Mutex mu_;
  std::map<std::string, std::unique_ptr<Job>> jobs_ GUARDED_BY(mu_);
  bool stopped_ GUARDED_BY(mu_) = false;
};

}  // namespace omniflow::replay
