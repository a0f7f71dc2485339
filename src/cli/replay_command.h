// Replays from the command line and their wiring: the Runner every server and `omniflow replay`
// build over a Database, and the command that runs one replay to its end in the foreground with
// a progress line, prints its summary and exits 1 when it introduced failures (a CI gate for
// prompt changes). docs/replay.md.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "agent/provider.h"
#include "core/prices.h"
#include "replay/runner.h"
#include "store/database.h"

namespace omniflow {

// A Runner over `db`'s facets, calling the server's provider (`provider`) unless a candidate
// names another, with at most `max_tool_rounds` tool rounds per message, pricing each item's
// usage by `prices` (which outlives the Runner).
std::unique_ptr<replay::Runner> NewReplayRunner(Database* db,
                                                const agent::ProviderOptions& provider,
                                                int max_tool_rounds, const PriceTable* prices);

struct ReplayCommand {
  std::string filter;  // search's parameters as a query string: "status=failed&tool=get_data"
  std::string model;   // the candidate's model
  std::optional<std::string> system_prompt_file;  // the candidate's system prompt, from a file
  std::string base_url;  // the candidate's provider; empty: OMNIFLOW_LLM_BASE_URL
  std::string name = "cli";
  int limit = 100;
  std::string sample = "newest";
  int concurrency = 4;
};

// Runs the replay on the store of `store_options`, pricing its usage by `prices`; 0, 1 (failures
// introduced) or 2 (bad arguments, store or provider missing).
int RunReplayCommand(const StoreOptions& store_options, const ReplayCommand& command,
                     const PriceTable& prices);

}  // namespace omniflow
