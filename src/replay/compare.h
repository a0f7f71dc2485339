// How a replayed item compares with its original: the original read from its stored JSON, the
// replay's outcome, and the verdicts (tool sequence same/changed, a failure fixed or
// introduced, the answer changed) with the JSON GET /api/replays/{id}/results serves.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "core/status.h"
#include "store/replay_store.h"

namespace omniflow::replay {

// What a comparison needs of an original interaction.
struct Original {
  std::string user_message;
  std::string assistant_response;
  std::string thread_id;           // empty: none
  std::vector<std::string> tools;  // tool names, in call order
  bool failed = false;             // a tool call failed, or the provider did
  int64_t latency_ms = 0;
  int64_t tokens = 0;              // metadata.usage.total_tokens
  std::optional<double> feedback;  // its feedback score
};

// Reads a stored original (ReplayTarget::original_json: the interaction's JSON, with
// "feedback" as search serves it). InvalidArgument when it has no user_message.
Result<Original> ParseOriginal(std::string_view json);

// The replay of `original` that gave `outcome` in `latency_ms`, compared. A provider failure
// is an error (counted apart): neither fixed nor introduced, and changed.
ReplayResult Compare(const Original& original, const agent::AgentOutcome& outcome,
                     int64_t latency_ms);

}  // namespace omniflow::replay
