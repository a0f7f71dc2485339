#include "agent/capture_transcript.h"

#include <simdjson.h>

#include <cctype>

#include "core/json.h"

namespace omniflow::agent {

namespace {

simdjson::dom::parser& Parser() {
  static thread_local simdjson::dom::parser parser;
  return parser;
}

// The text of a message's content: a string, or the text parts of an array of parts.
std::string ContentText(simdjson::dom::element content) {
  std::string_view text;
  if (content.get(text) == simdjson::SUCCESS) return std::string(text);
  std::string out;
  simdjson::dom::array parts;
  if (content.get(parts) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element part : parts) {
    std::string_view piece;
    if (part["text"].get(piece) != simdjson::SUCCESS) continue;
    if (!out.empty()) out.push_back('\n');
    out.append(piece);
  }
  return out;
}

// Arguments as the log keeps them: parsed when they are a JSON object, else as a string.
void WriteArguments(std::string_view text, JsonWriter* w) {
  simdjson::dom::parser parser;
  simdjson::dom::element parsed;
  if (!text.empty() && parser.parse(text.data(), text.size()).get(parsed) == simdjson::SUCCESS &&
      parsed.is_object()) {
    w->Element(parsed);
  } else if (text.empty()) {
    w->Raw("{}");
  } else {
    w->String(text);
  }
}

// A tool's answer as the log keeps it: parsed when it is JSON, else as a string.
void WriteResult(std::string_view text, JsonWriter* w) {
  simdjson::dom::parser parser;
  simdjson::dom::element parsed;
  if (!text.empty() && parser.parse(text.data(), text.size()).get(parsed) == simdjson::SUCCESS) {
    w->Element(parsed);
  } else {
    w->String(text);
  }
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

Result<CaptureRequest> ParseCaptureRequest(std::string_view body) {
  simdjson::dom::element root;
  if (Parser().parse(body.data(), body.size()).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return Status::InvalidArgument("the body must be a chat-completions request: a JSON object");
  }
  simdjson::dom::array messages;
  if (root["messages"].get(messages) != simdjson::SUCCESS) {
    return Status::InvalidArgument("messages must be an array of chat messages");
  }
  CaptureRequest out;
  std::string_view text;
  if (root["model"].get(text) == simdjson::SUCCESS) out.model = std::string(text);
  bool stream = false;
  if (root["stream"].get(stream) == simdjson::SUCCESS) out.stream = stream;
  simdjson::dom::element thread;
  if (root["metadata"]["thread_id"].get(thread) == simdjson::SUCCESS && !thread.is_null()) {
    if (thread.get(text) != simdjson::SUCCESS || !IsValidThreadId(text)) {
      return Status::InvalidArgument(std::string("metadata.thread_id must be ") + kThreadIdRule);
    }
    out.thread_id = std::string(text);
  }
  // The calls each assistant message asked for, by id, to name the tool results.
  std::map<std::string, ToolCallRequest, std::less<>> asked;
  for (simdjson::dom::element message : messages) {
    std::string_view role;
    if (message["role"].get(role) != simdjson::SUCCESS) {
      return Status::InvalidArgument("every message must have a role");
    }
    if (role == "user") {
      simdjson::dom::element content;
      if (message["content"].get(content) == simdjson::SUCCESS) out.user_message = ContentText(content);
    } else if (role == "assistant") {
      out.tool_results.clear();  // only the results after the last assistant message are new
      simdjson::dom::array calls;
      if (message["tool_calls"].get(calls) != simdjson::SUCCESS) continue;
      for (simdjson::dom::element call : calls) {
        ToolCallRequest t;
        std::string_view id, name, arguments;
        if (call["id"].get(id) != simdjson::SUCCESS) continue;
        if (call["function"]["name"].get(name) == simdjson::SUCCESS) t.name = std::string(name);
        if (call["function"]["arguments"].get(arguments) == simdjson::SUCCESS) {
          t.arguments = std::string(arguments);
        }
        t.id = std::string(id);
        asked[t.id] = std::move(t);
      }
    } else if (role == "tool") {
      std::string_view id;
      if (message["tool_call_id"].get(id) != simdjson::SUCCESS || id.empty()) {
        return Status::InvalidArgument("a tool message must have a tool_call_id");
      }
      ToolResultMessage result;
      result.tool_call_id = std::string(id);
      simdjson::dom::element content;
      if (message["content"].get(content) == simdjson::SUCCESS) result.content = ContentText(content);
      if (auto it = asked.find(id); it != asked.end()) {
        result.tool_name = it->second.name;
        result.arguments = it->second.arguments;
      }
      out.tool_results.push_back(std::move(result));
    }
  }
  return out;
}

CaptureAnswer ParseCaptureAnswer(std::string_view body) {
  CaptureAnswer answer;
  simdjson::dom::element root;
  if (Parser().parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) return answer;
  std::string_view text;
  if (root["model"].get(text) == simdjson::SUCCESS) answer.model = std::string(text);
  simdjson::dom::element usage;
  if (root["usage"].get(usage) == simdjson::SUCCESS && usage.is_object()) {
    AppendJson(&answer.usage, usage);
  }
  if (root["error"]["message"].get(text) == simdjson::SUCCESS) {
    answer.error = std::string(text.substr(0, 300));
  }
  simdjson::dom::element choice;
  if (root["choices"].at(0).get(choice) != simdjson::SUCCESS) return answer;
  if (choice["finish_reason"].get(text) == simdjson::SUCCESS) answer.finish_reason = std::string(text);
  simdjson::dom::element content;
  if (choice["message"]["content"].get(content) == simdjson::SUCCESS) {
    answer.content = ContentText(content);
  }
  simdjson::dom::array calls;
  if (choice["message"]["tool_calls"].get(calls) == simdjson::SUCCESS) {
    for (simdjson::dom::element call : calls) {
      ToolCallRequest t;
      std::string_view id, name, arguments;
      if (call["id"].get(id) == simdjson::SUCCESS) t.id = std::string(id);
      if (call["function"]["name"].get(name) == simdjson::SUCCESS) t.name = std::string(name);
      if (call["function"]["arguments"].get(arguments) == simdjson::SUCCESS) {
        t.arguments = std::string(arguments);
      }
      answer.tool_calls.push_back(std::move(t));
    }
  }
  return answer;
}

void SseAssembler::Feed(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t end = bytes.find('\n');
    if (end == std::string_view::npos) {
      if (partial_.size() + bytes.size() <= kMaxAssembled) partial_.append(bytes);
      return;
    }
    if (partial_.empty()) {
      Line(bytes.substr(0, end));
    } else {
      partial_.append(bytes.substr(0, end));
      Line(partial_);
      partial_.clear();
    }
    bytes.remove_prefix(end + 1);
  }
}

void SseAssembler::Line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.substr(0, 5) != "data:") return;
  line.remove_prefix(5);
  if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  if (line == "[DONE]") return;
  simdjson::dom::element chunk;
  if (Parser().parse(line.data(), line.size()).get(chunk) != simdjson::SUCCESS) return;
  std::string_view text;
  if (answer_.model.empty() && chunk["model"].get(text) == simdjson::SUCCESS) {
    answer_.model = std::string(text);
  }
  simdjson::dom::element usage;
  if (chunk["usage"].get(usage) == simdjson::SUCCESS && usage.is_object()) {
    answer_.usage.clear();
    AppendJson(&answer_.usage, usage);
  }
  if (chunk["error"]["message"].get(text) == simdjson::SUCCESS) {
    answer_.error = std::string(text.substr(0, 300));
  }
  simdjson::dom::element choice;
  if (chunk["choices"].at(0).get(choice) != simdjson::SUCCESS) return;
  if (choice["finish_reason"].get(text) == simdjson::SUCCESS) {
    answer_.finish_reason = std::string(text);
  }
  simdjson::dom::element delta;
  if (choice["delta"].get(delta) != simdjson::SUCCESS) return;
  if (delta["content"].get(text) == simdjson::SUCCESS && kept_ + text.size() <= kMaxAssembled) {
    answer_.content.append(text);
    kept_ += text.size();
  }
  simdjson::dom::array calls;
  if (delta["tool_calls"].get(calls) != simdjson::SUCCESS) return;
  for (simdjson::dom::element call : calls) {
    int64_t index = 0;
    if (call["index"].get(index) != simdjson::SUCCESS) index = 0;
    ToolCallRequest& t = calls_[index];
    if (call["id"].get(text) == simdjson::SUCCESS && t.id.empty()) t.id = std::string(text);
    if (call["function"]["name"].get(text) == simdjson::SUCCESS) t.name.append(text);
    if (call["function"]["arguments"].get(text) == simdjson::SUCCESS &&
        kept_ + text.size() <= kMaxAssembled) {
      t.arguments.append(text);
      kept_ += text.size();
    }
  }
}

CaptureAnswer SseAssembler::Answer() const {
  CaptureAnswer answer = answer_;
  for (const auto& [index, call] : calls_) answer.tool_calls.push_back(call);
  return answer;
}

bool ToolContentIsError(std::string_view content) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(content.data(), content.size()).get(root) == simdjson::SUCCESS) {
    if (!root.is_object()) return false;
    simdjson::dom::element error;
    if (root["error"].get(error) == simdjson::SUCCESS && !error.is_null() &&
        !(error.is_bool() && !error.get_bool().value_unsafe())) {
      return true;
    }
    std::string_view status;
    return root["status"].get(status) == simdjson::SUCCESS &&
           (status == "error" || status == "failed");
  }
  size_t start = 0;
  while (start < content.size() && std::isspace(static_cast<unsigned char>(content[start]))) ++start;
  return StartsWithIgnoreCase(content.substr(start), "error");
}

std::string ToolCallIdNeedle(std::string_view tool_call_id) {
  return "\"tool_call_id\":" + JsonString(tool_call_id);
}

SaveRequest CaptureToSaveRequest(const CaptureRequest& request, const CaptureAnswer& answer,
                                 const CaptureInfo& info) {
  SaveRequest save;
  save.user_message = JsonString(request.user_message);
  save.assistant_response = JsonString(answer.content);
  save.thread_id = info.thread_id;
  JsonWriter calls;
  calls.BeginArray();
  for (const ToolResultMessage& result : request.tool_results) {
    const bool failed = ToolContentIsError(result.content);
    calls.BeginObject().Field("tool_name", result.tool_name.empty() ? "unknown" : result.tool_name);
    calls.Key("arguments");
    WriteArguments(result.arguments, &calls);
    calls.Key("result");
    WriteResult(result.content, &calls);
    calls.Field("status", failed ? "error" : "success").Field("tool_call_id", result.tool_call_id);
    if (auto it = info.requested_in.find(result.tool_call_id); it != info.requested_in.end()) {
      calls.Field("requested_in", it->second);
    }
    calls.EndObject();
    ++save.tool_call_count;
    if (failed) ++save.tool_failure_count;
  }
  calls.EndArray();
  save.tool_calls = calls.Release();

  std::string outcome = "success";
  if (info.timed_out) {
    outcome = "provider_timeout";
  } else if (info.provider_status == 0) {
    outcome = "provider_unreachable";
  } else if (info.provider_status < 200 || info.provider_status >= 300) {
    outcome = "provider_error";
  } else if (info.client_gone) {
    outcome = "client_gone";
  } else if (!info.transport_error.empty()) {
    outcome = "provider_error";  // a stream that broke off
  }
  JsonWriter m;
  m.BeginObject()
      .Field("source", "proxy")
      .Field("model", answer.model.empty() ? request.model : answer.model);
  if (!answer.usage.empty()) m.RawField("usage", answer.usage);
  m.Field("stream", request.stream)
      .Field("latency_ms", info.latency_ms)
      .Field("outcome", outcome)
      .Field("provider_status", static_cast<int64_t>(info.provider_status));
  if (outcome != "success") {
    const std::string& error = !answer.error.empty() ? answer.error : info.transport_error;
    if (!error.empty()) m.Field("error", error);
  }
  if (!answer.finish_reason.empty()) m.Field("finish_reason", answer.finish_reason);
  if (!answer.tool_calls.empty()) {
    m.Key("tool_calls_requested").BeginArray();
    for (const ToolCallRequest& call : answer.tool_calls) {
      m.BeginObject().Field("tool_name", call.name).Key("arguments");
      WriteArguments(call.arguments, &m);
      m.Field("tool_call_id", call.id).EndObject();
    }
    m.EndArray();
  }
  m.EndObject();
  save.metadata = m.Release();
  return save;
}

}  // namespace omniflow::agent
