// Turns one handled message (the agent's outcome) into what is logged and what is answered: the
// interaction in the store's canonical form, and the tool_call_handler's JSON answer. Plain
// functions, testable without sockets or a provider.
#pragma once

#include <cstdint>
#include <string>

#include "agent/agent.h"
#include "core/json.h"
#include "core/validate.h"

namespace omniflow::agent {

struct TranscriptInfo {
  std::string message;        // the user's message (valid UTF-8)
  std::string thread_id;      // validated thread id
  std::string assistant_id;   // metadata.assistant_id
  std::string model;          // configured model, used when the provider named none
  int64_t latency_ms = 0;     // from request to answer
};

// The interaction to log: user_message, assistant_response, every tool call (tool_name, parsed
// arguments, result, status "success" or "error"), thread_id and metadata (assistant_id,
// source "tool_call_handler", model, latency_ms, usage, rounds, outcome and, on failure, error).
SaveRequest ToSaveRequest(const AgentOutcome& outcome, const TranscriptInfo& info);

// The usage of `outcome` as it is logged (and as ParseUsage reads it back): the model the provider
// reported, else `fallback_model` ("" when longer than kMaxModelNameLength), and the tokens
// summed over the rounds, the cached and reasoning parts clamped to their totals.
ReportedUsage UsageOf(const AgentOutcome& outcome, const std::string& fallback_model);

// Writes the JSON array of tool calls as answered to the caller and logged.
void WriteToolCalls(const AgentOutcome& outcome, JsonWriter* w);

// {"status":"success","response":...,"thread_id":...,"interaction_id":...,"tool_calls":[...]}
std::string SuccessBody(const AgentOutcome& outcome, const std::string& thread_id,
                        const std::string& interaction_id);

}  // namespace omniflow::agent
