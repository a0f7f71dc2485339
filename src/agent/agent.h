// The agent loop for one message: the thread's earlier turns (oldest first, bounded), the new
// message, then rounds of model answers and tool calls until the model answers in text or the
// round cap is reached. A plain function over a ChatProvider and a DataStore, testable without
// sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/provider.h"
#include "core/status.h"
#include "store/data_store.h"
#include "store/interaction_store.h"

namespace omniflow::agent {

struct AgentOptions {
  int max_tool_rounds = 8;        // model calls that may ask for tools, per message
  int max_history_turns = 20;     // earlier interactions of the thread sent to the model
  size_t max_history_chars = 32 << 10;  // and at most this much of their text
  std::string system_prompt =
      "You are OmniFlow, a helpful assistant. You manage the user's tasks, notes and events "
      "with the tools given; answer briefly.";
  std::string model;              // sent as "model" (empty for Azure deployments)
};

struct ToolCallRecord {
  std::string tool_name;
  std::string arguments;  // canonical JSON (parsed object when it parsed, else a JSON string)
  std::string result;     // canonical JSON
  bool ok = false;
};

struct AgentOutcome {
  Status status;                       // ok, or the provider failure (502/504)
  std::string response;                // the assistant's final text
  std::vector<ToolCallRecord> tool_calls;
  std::string model;
  int64_t prompt_tokens = 0, completion_tokens = 0, total_tokens = 0;
  int64_t cached_tokens = 0, reasoning_tokens = 0;  // parts of prompt and completion tokens
  int rounds = 0;
  bool round_cap_reached = false;
};

// Runs `message` for `user` in `thread_id`. Never throws; tool failures are recorded, not fatal.
// The thread's earlier turns are its newest ones, or with `history_before` (a replay of a logged
// message) those logged before that position; an empty `thread_id` has none.
AgentOutcome RunMessage(ChatProvider* provider, InteractionStore* store, DataStore* data,
                        const AgentOptions& options, const std::string& user,
                        const std::string& thread_id, const std::string& message,
                        const std::optional<HistoryCursor>& history_before = std::nullopt);

}  // namespace omniflow::agent
