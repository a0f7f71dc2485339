#include "cli/replay_command.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "api/replay_handlers.h"
#include "api/replay_request.h"
#include "core/json.h"
#include "core/query.h"

namespace omniflow {

std::unique_ptr<replay::Runner> NewReplayRunner(Database* db,
                                                const agent::ProviderOptions& provider,
                                                int max_tool_rounds, const PriceTable* prices) {
  replay::RunnerOptions options;
  options.prices = prices;
  options.provider = provider;
  options.agent.model = provider.model;
  options.agent.max_tool_rounds = max_tool_rounds;
  options.parse_spec = [](std::string_view spec_json) { return api::ParseReplaySpec(spec_json); };
  replay::RunnerStores stores;
  stores.replays = &db->replays();
  stores.analytics = &db->analytics();
  stores.interactions = &db->interactions();
  stores.data = &db->data();
  return std::make_unique<replay::Runner>(stores, std::move(options));
}

namespace {

// The command's flags as the body POST /api/replays takes, so that both are read (and stored)
// alike.
Result<std::string> RequestBody(const ReplayCommand& c) {
  Result<QueryParams> filter = QueryParams::Parse(c.filter);
  if (!filter.ok()) return Status::InvalidArgument("--filter: " + filter.status().message());
  JsonWriter w;
  w.BeginObject().Field("name", c.name).Key("filter").BeginObject();
  for (const auto& [name, value] : filter->all()) w.Field(name, value);
  w.EndObject()
      .Field("limit", int64_t{c.limit})
      .Field("sample", c.sample)
      .Field("concurrency", int64_t{c.concurrency})
      .Key("candidate")
      .BeginObject();
  if (!c.model.empty()) w.Field("model", c.model);
  if (!c.base_url.empty()) w.Field("base_url", c.base_url);
  if (c.system_prompt_file) {
    std::ifstream in(*c.system_prompt_file, std::ios::binary);
    if (!in)
      return Status::InvalidArgument("--system-prompt: cannot read " + *c.system_prompt_file);
    std::stringstream text;
    text << in.rdbuf();
    w.Field("system_prompt", text.str());
  }
  w.EndObject().EndObject();
  return w.Release();
}

}  // namespace

int RunReplayCommand(const StoreOptions& store_options, const ReplayCommand& command,
                     const PriceTable& prices) {
  Result<std::string> body = RequestBody(command);
  Result<replay::ReplaySpec> spec =
      body.ok() ? api::ParseReplaySpec(*body) : Result<replay::ReplaySpec>(body.status());
  if (!spec.ok()) {
    std::cerr << "omniflow replay: " << spec.status().message() << "\n";
    return 2;
  }
  Result<std::unique_ptr<Database>> db = Database::Open(store_options);
  if (!db.ok()) {
    std::cerr << "omniflow replay: cannot open the store: " << db.status().message() << "\n";
    return 2;
  }
  agent::ProviderOptions provider = agent::ProviderOptions::FromEnvironment();
  std::unique_ptr<replay::Runner> runner = NewReplayRunner(db->get(), provider, 8, &prices);
  if (!runner->CanCall(spec->candidate)) {
    std::cerr << "omniflow replay: no LLM provider: set OMNIFLOW_LLM_BASE_URL (or --base-url) "
                 "and a model\n";
    return 2;
  }
  Result<std::string> id = runner->Create(*spec, *body, "cli");
  if (!id.ok()) {
    std::cerr << "omniflow replay: " << id.status().message() << "\n";
    return 2;
  }
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  std::atomic<bool> stop{false};
  Status run = runner->RunHere(*id, stop, [tty](int64_t done, int64_t total) {
    if (!tty) return;
    const int width = 30;
    const int filled = total > 0 ? static_cast<int>(width * done / total) : width;
    std::fprintf(stderr, "\r[%s%s] %lld/%lld", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), static_cast<long long>(done),
                 static_cast<long long>(total));
    std::fflush(stderr);
  });
  if (tty) std::fprintf(stderr, "\n");
  Result<ReplayInfo> info = db->get()->replays().Get(*id);
  Result<ReplaySummary> summary = db->get()->replays().Summarize(*id);
  if (!run.ok() || !info.ok() || !summary.ok()) {
    std::cerr << "omniflow replay: "
              << (!run.ok()    ? run.message()
                  : !info.ok() ? info.status().message()
                               : summary.status().message())
              << "\n";
    return 2;
  }
  std::cout << api::ReplayStatusJson(*info, *summary) << "\n";
  return summary->introduced > 0 ? 1 : 0;
}

}  // namespace omniflow
