#include "agent/agent.h"

#include <simdjson.h>

#include "agent/tools.h"
#include "core/json.h"

namespace omniflow::agent {

namespace {

// A chat message {"role":..,"content":..}, with "tool_call_id" first for a tool's answer.
std::string ChatMessage(std::string_view role, std::string_view content,
                        std::string_view tool_call_id = {}) {
  JsonWriter w;
  w.BeginObject().Field("role", role);
  if (!tool_call_id.empty()) w.Field("tool_call_id", tool_call_id);
  w.Field("content", content).EndObject();
  return w.Release();
}

// The thread's earlier turns as chat messages, oldest first, within the bounds.
std::vector<std::string> HistoryMessages(InteractionStore* store, const AgentOptions& options,
                                         const std::string& user, const std::string& thread_id,
                                         const std::optional<HistoryCursor>& before) {
  std::vector<std::string> turns;
  if (thread_id.empty()) return turns;
  HistoryQuery query;
  query.after = before;
  query.user_id = user;
  query.thread_id = thread_id;
  query.limit = options.max_history_turns;
  Result<HistoryPage> page = store->History(query);
  if (!page.ok()) return turns;
  simdjson::dom::parser parser;
  size_t chars = 0;
  for (const std::string& item : page->items) {  // newest first
    simdjson::dom::element doc;
    std::string_view user_text, assistant_text;
    if (parser.parse(item).get(doc) || doc["user_message"].get(user_text) ||
        doc["assistant_response"].get(assistant_text)) {
      continue;
    }
    chars += user_text.size() + assistant_text.size();
    if (chars > options.max_history_chars) break;
    turns.push_back(ChatMessage("assistant", assistant_text));
    turns.push_back(ChatMessage("user", user_text));
  }
  return std::vector<std::string>(turns.rbegin(), turns.rend());
}

std::string BuildRequest(const AgentOptions& options, const std::vector<std::string>& messages) {
  JsonWriter w;
  w.BeginObject();
  if (!options.model.empty()) w.Field("model", options.model);
  w.Key("messages").BeginArray();
  for (const std::string& message : messages) w.Raw(message);
  w.EndArray().RawField("tools", ToolDefinitions()).Field("tool_choice", "auto").EndObject();
  return w.Release();
}

// Arguments as stored in the log: the parsed object when they parse to one, else the text.
std::string CanonicalArguments(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc) == simdjson::SUCCESS && doc.is_object()) {
    std::string out;
    AppendJson(&out, doc);
    return out;
  }
  return JsonString(text);
}

}  // namespace

AgentOutcome RunMessage(ChatProvider* provider, InteractionStore* store, DataStore* data,
                        const AgentOptions& options, const std::string& user,
                        const std::string& thread_id, const std::string& message,
                        const std::optional<HistoryCursor>& history_before) {
  AgentOutcome out;
  std::vector<std::string> messages;
  messages.push_back(ChatMessage("system", options.system_prompt));
  for (std::string& turn : HistoryMessages(store, options, user, thread_id, history_before)) {
    messages.push_back(std::move(turn));
  }
  messages.push_back(ChatMessage("user", message));

  for (int round = 0; round < options.max_tool_rounds; ++round) {
    Result<ChatResult> answer = provider->Complete(BuildRequest(options, messages));
    ++out.rounds;
    if (!answer.ok()) {
      out.status = answer.status();
      return out;
    }
    out.model = answer->model;
    out.prompt_tokens += answer->prompt_tokens;
    out.completion_tokens += answer->completion_tokens;
    out.total_tokens += answer->total_tokens;
    out.cached_tokens += answer->cached_tokens;
    out.reasoning_tokens += answer->reasoning_tokens;
    messages.push_back(answer->message_json);
    if (answer->tool_calls.empty()) {
      out.response = std::move(answer->content);
      return out;
    }
    for (const ToolCallRequest& call : answer->tool_calls) {
      ToolOutcome result = RunTool(data, user, call.name, call.arguments);
      out.tool_calls.push_back(
          ToolCallRecord{call.name, CanonicalArguments(call.arguments), result.result, result.ok});
      messages.push_back(ChatMessage("tool", result.result, call.id));
    }
  }
  out.round_cap_reached = true;
  out.response = "I could not finish this request within " +
                 std::to_string(options.max_tool_rounds) + " tool rounds.";
  return out;
}

}  // namespace omniflow::agent
