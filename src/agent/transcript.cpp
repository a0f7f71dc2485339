#include "agent/transcript.h"

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

std::string ToolCallsJson(const AgentOutcome& outcome) {
  std::string out = "[";
  for (const ToolCallRecord& call : outcome.tool_calls) {
    if (out.size() > 1) out.push_back(',');
    out.append("{\"tool_name\":");
    AppendJsonString(&out, call.tool_name);
    out.append(",\"arguments\":").append(call.arguments);
    out.append(",\"result\":").append(call.result);
    out.append(",\"status\":").append(call.ok ? "\"success\"" : "\"error\"").push_back('}');
  }
  out.push_back(']');
  return out;
}

SaveRequest ToSaveRequest(const AgentOutcome& outcome, const TranscriptInfo& info) {
  SaveRequest request;
  request.user_message = JsonString(info.message);
  request.assistant_response = JsonString(outcome.response);
  request.thread_id = info.thread_id;
  request.tool_calls = ToolCallsJson(outcome);
  request.tool_call_count = static_cast<int>(outcome.tool_calls.size());
  for (const ToolCallRecord& call : outcome.tool_calls) {
    if (!call.ok) ++request.tool_failure_count;
  }
  const std::string& model = outcome.model.empty() ? info.model : outcome.model;
  std::string m = "{\"assistant_id\":";
  AppendJsonString(&m, info.assistant_id);
  m.append(",\"source\":\"tool_call_handler\",\"model\":");
  AppendJsonString(&m, model);
  m.append(",\"latency_ms\":").append(std::to_string(info.latency_ms));
  m.append(",\"usage\":{\"prompt_tokens\":").append(std::to_string(outcome.prompt_tokens));
  m.append(",\"completion_tokens\":").append(std::to_string(outcome.completion_tokens));
  m.append(",\"total_tokens\":").append(std::to_string(outcome.total_tokens));
  m.append("},\"rounds\":").append(std::to_string(outcome.rounds));
  m.append(",\"outcome\":\"").append(OutcomeName(outcome)).push_back('"');
  if (!outcome.status.ok()) {
    m.append(",\"error\":");
    AppendJsonString(&m, outcome.status.message());
  }
  m.push_back('}');
  request.metadata = std::move(m);
  return request;
}

std::string SuccessBody(const AgentOutcome& outcome, const std::string& thread_id,
                        const std::string& interaction_id) {
  std::string body = "{\"status\":\"success\",\"response\":";
  AppendJsonString(&body, outcome.response);
  body.append(",\"thread_id\":");
  AppendJsonString(&body, thread_id);
  body.append(",\"interaction_id\":\"").append(interaction_id);
  body.append("\",\"tool_calls\":").append(ToolCallsJson(outcome)).push_back('}');
  return body;
}

}  // namespace omniflow::agent
