#include "agent/transcript.h"

#include <algorithm>

#include "core/json.h"

namespace omniflow::agent {

namespace {

const char* OutcomeName(const AgentOutcome& outcome) {
  if (!outcome.status.ok()) {
    return outcome.status.code() == Status::Code::kDeadlineExceeded ? "provider_timeout"
                                                                    : "provider_error";
  }
  return outcome.round_cap_reached ? "round_cap_reached" : "success";
}

}  // namespace

ReportedUsage UsageOf(const AgentOutcome& outcome, const std::string& fallback_model) {
  const std::string& model = outcome.model.empty() ? fallback_model : outcome.model;
  ReportedUsage usage;
  if (model.size() <= kMaxModelNameLength) usage.model = model;
  usage.tokens = TokenUsage{
      outcome.prompt_tokens, std::min(outcome.cached_tokens, outcome.prompt_tokens),
      outcome.completion_tokens, std::min(outcome.reasoning_tokens, outcome.completion_tokens)};
  return usage;
}

void WriteToolCalls(const AgentOutcome& outcome, JsonWriter* w) {
  w->BeginArray();
  for (const ToolCallRecord& call : outcome.tool_calls) {
    w->BeginObject()
        .Field("tool_name", call.tool_name)
        .RawField("arguments", call.arguments)
        .RawField("result", call.result)
        .Field("status", call.ok ? "success" : "error")
        .EndObject();
  }
  w->EndArray();
}

SaveRequest ToSaveRequest(const AgentOutcome& outcome, const TranscriptInfo& info) {
  SaveRequest request;
  request.user_message = JsonString(info.message);
  request.assistant_response = JsonString(outcome.response);
  request.thread_id = info.thread_id;
  JsonWriter tool_calls;
  WriteToolCalls(outcome, &tool_calls);
  request.tool_calls = tool_calls.Release();
  request.tool_call_count = static_cast<int>(outcome.tool_calls.size());
  for (const ToolCallRecord& call : outcome.tool_calls) {
    if (!call.ok) ++request.tool_failure_count;
  }
  const std::string& model = outcome.model.empty() ? info.model : outcome.model;
  // The usage as ParseUsage would read it back from the metadata written below.
  request.usage_read = true;
  request.usage = UsageOf(outcome, info.model);
  JsonWriter m;
  m.BeginObject()
      .Field("assistant_id", info.assistant_id)
      .Field("source", "tool_call_handler")
      .Field("model", model)
      .Field("latency_ms", info.latency_ms)
      .Key("usage")
      .BeginObject()
      .Field("prompt_tokens", outcome.prompt_tokens)
      .Field("completion_tokens", outcome.completion_tokens)
      .Field("total_tokens", outcome.total_tokens)
      .Key("prompt_tokens_details")
      .BeginObject()
      .Field("cached_tokens", outcome.cached_tokens)
      .EndObject()
      .Key("completion_tokens_details")
      .BeginObject()
      .Field("reasoning_tokens", outcome.reasoning_tokens)
      .EndObject()
      .EndObject()
      .Field("rounds", outcome.rounds)
      .Field("outcome", OutcomeName(outcome));
  if (!outcome.status.ok()) m.Field("error", outcome.status.message());
  m.EndObject();
  request.metadata = m.Release();
  return request;
}

std::string SuccessBody(const AgentOutcome& outcome, const std::string& thread_id,
                        const std::string& interaction_id) {
  JsonWriter w;
  w.BeginObject()
      .Field("status", "success")
      .Field("response", outcome.response)
      .Field("thread_id", thread_id)
      .Field("interaction_id", interaction_id)
      .Key("tool_calls");
  WriteToolCalls(outcome, &w);
  w.EndObject();
  return w.Release();
}

}  // namespace omniflow::agent
