#include "core/validate.h"

#include <array>
#include <simdjson.h>

#include "core/json.h"
#include "core/redact_request.h"

namespace omniflow {

const char kUserIdRule[] =
    "1-128 characters of letters, digits and . _ - @ +, not starting with '.'";
const char kThreadIdRule[] =
    "1-256 characters of letters, digits and . _ - @ + :, not starting with '.'";

namespace {

bool IsIdChar(char c, bool allow_colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '@' || c == '+' || (allow_colon && c == ':');
}

bool IsValidId(std::string_view id, size_t max_len, bool allow_colon) {
  if (id.empty() || id.size() > max_len || id[0] == '.') return false;
  for (char c : id) {
    if (!IsIdChar(c, allow_colon)) return false;
  }
  return true;
}

// One parser per thread, allocated once, with the nesting limit set.
simdjson::dom::parser& ThreadParser(int which) {
  thread_local std::array<simdjson::dom::parser, 2> parsers = [] {
    std::array<simdjson::dom::parser, 2> p;
    for (auto& parser : p) {
      // On failure parse() allocates on demand, keeping the depth limit.
      simdjson::error_code error = parser.allocate(64 * 1024, kMaxJsonDepth);
      (void)error;
    }
    return p;
  }();
  return parsers[which];
}

Status JsonError(simdjson::error_code error, std::string_view what) {
  std::string msg(what);
  switch (error) {
    case simdjson::DEPTH_ERROR:
      msg += " is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
      break;
    case simdjson::UTF8_ERROR:
      msg += " is not valid UTF-8";
      break;
    case simdjson::EMPTY:
      msg += " is empty: send a JSON object";
      break;
    case simdjson::CAPACITY:
      msg += " is too large to parse";
      break;
    default:
      msg += " is not valid JSON (";
      msg += simdjson::error_message(error);
      msg += ")";
  }
  return Status::InvalidArgument(std::move(msg));
}

std::string ToolPrefix(size_t index) { return "tool_calls[" + std::to_string(index) + "]"; }

Status ParseToolCall(simdjson::dom::element call, size_t index, std::string* out, bool* failed,
                     std::string_view* name) {
  const std::string where = ToolPrefix(index);
  if (!call.is_object()) return Status::InvalidArgument(where + " must be an object");
  simdjson::dom::object obj = call.get_object().value_unsafe();

  std::string_view tool_name;
  bool has_name = false;
  simdjson::dom::element arguments, result;
  bool has_arguments = false, has_result = false;
  std::string_view status = "success";
  std::string extra;  // other fields, kept as given

  for (auto field : obj) {
    if (field.key == "tool_name") {
      if (has_name) return Status::InvalidArgument(where + ".tool_name is given twice");
      if (!field.value.is_string())
        return Status::InvalidArgument(where + ".tool_name must be a string");
      tool_name = field.value.get_string().value_unsafe();
      has_name = true;
    } else if (field.key == "arguments") {
      if (has_arguments) return Status::InvalidArgument(where + ".arguments is given twice");
      arguments = field.value;
      has_arguments = true;
    } else if (field.key == "result") {
      if (has_result) return Status::InvalidArgument(where + ".result is given twice");
      result = field.value;
      has_result = true;
    } else if (field.key == "status") {
      if (!field.value.is_string())
        return Status::InvalidArgument(where + ".status must be a string such as \"success\"");
      status = field.value.get_string().value_unsafe();
      if (status.empty() || status.size() > kMaxToolStatusLength)
        return Status::InvalidArgument(where + ".status must be 1-" +
                                       std::to_string(kMaxToolStatusLength) + " characters");
    } else {
      extra.push_back(',');
      AppendJsonString(&extra, field.key);
      extra.push_back(':');
      AppendJson(&extra, field.value);
    }
  }
  if (!has_name || tool_name.empty())
    return Status::InvalidArgument(where + ".tool_name is required: a non-empty string");
  if (tool_name.size() > kMaxToolNameLength)
    return Status::InvalidArgument(where + ".tool_name is longer than " +
                                   std::to_string(kMaxToolNameLength) + " characters");

  out->append("{\"tool_name\":");
  AppendJsonString(out, tool_name);
  out->append(",\"arguments\":");
  if (!has_arguments) {
    out->append("{}");
  } else if (arguments.is_string()) {
    // OpenAI sends arguments as a JSON string; keep it parsed when it is an object.
    std::string_view text = arguments.get_string().value_unsafe();
    simdjson::dom::element parsed;
    auto error = ThreadParser(1).parse(text.data(), text.size()).get(parsed);
    if (!error && parsed.is_object()) {
      AppendJson(out, parsed);
    } else {
      AppendJsonString(out, text);
    }
  } else {
    AppendJson(out, arguments);
  }
  out->append(",\"result\":");
  if (has_result) {
    AppendJson(out, result);
  } else {
    out->append("null");
  }
  out->append(",\"status\":");
  AppendJsonString(out, status);
  out->append(extra);
  out->push_back('}');
  *failed = status != "success";
  *name = tool_name;
  return Status::Ok();
}

Status ParseToolCalls(simdjson::dom::element value, SaveRequest* req) {
  if (value.is_null()) return Status::Ok();
  if (!value.is_array())
    return Status::InvalidArgument("tool_calls must be an array of objects with a tool_name");
  std::string out = "[";
  size_t index = 0;
  simdjson::dom::array calls = value.get_array().value_unsafe();
  for (auto call : calls) {
    if (index > 0) out.push_back(',');
    bool failed = false;
    std::string_view name;
    Status s = ParseToolCall(call, index, &out, &failed, &name);
    if (!s.ok()) return s;
    ++index;
    req->tool_failure_count += failed ? 1 : 0;
    req->tool_uses.push_back(ToolUse{std::string(name), failed});
  }
  out.push_back(']');
  req->tool_call_count = static_cast<int>(index);
  req->tool_calls = std::move(out);
  req->tool_uses_read = true;
  return Status::Ok();
}

}  // namespace

bool IsValidUserId(std::string_view id) { return IsValidId(id, kMaxUserIdLength, false); }
bool IsValidThreadId(std::string_view id) { return IsValidId(id, kMaxThreadIdLength, true); }

bool IsValidInteractionId(std::string_view id) {
  if (id.size() < 5 || id.size() > 64 || id.substr(0, 4) != "INT_") return false;
  for (char c : id) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool IsValidBlobName(std::string_view name) {
  constexpr std::string_view kSuffix = ".json";
  if (name.size() <= kSuffix.size() || name.size() > 64 + kSuffix.size()) return false;
  if (name.substr(name.size() - kSuffix.size()) != kSuffix) return false;
  for (char c : name.substr(0, name.size() - kSuffix.size())) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<SaveRequest> ParseSaveRequest(std::string_view body, ImportFields* import) {
  if (body.empty())
    return Status::InvalidArgument(
        "request body is empty: send a JSON object with user_message and assistant_response");
  simdjson::dom::element root;
  auto error = ThreadParser(0).parse(body.data(), body.size()).get(root);
  if (error) return JsonError(error, "request body");
  if (!root.is_object())
    return Status::InvalidArgument(
        "request body must be a JSON object with user_message and assistant_response");

  SaveRequest req;
  enum Seen : unsigned { kUser = 1, kAssistant = 2, kThread = 4, kTools = 8, kMeta = 16 };
  unsigned seen = 0;
  auto once = [&seen](Seen bit, std::string_view key) -> Status {
    if (seen & bit) return Status::InvalidArgument("field \"" + std::string(key) + "\" is given twice");
    seen |= bit;
    return Status::Ok();
  };

  simdjson::dom::object fields = root.get_object().value_unsafe();
  for (auto field : fields) {
    std::string_view key = field.key;
    simdjson::dom::element value = field.value;
    Status s;
    if (key == "user_message" || key == "assistant_response") {
      bool user = key == "user_message";
      s = once(user ? kUser : kAssistant, key);
      if (!s.ok()) return s;
      if (!value.is_string())
        return Status::InvalidArgument(std::string(key) + " must be a string");
      AppendJsonString(user ? &req.user_message : &req.assistant_response,
                       value.get_string().value_unsafe());
    } else if (key == "thread_id") {
      s = once(kThread, key);
      if (!s.ok()) return s;
      if (value.is_null()) continue;
      if (!value.is_string() || !IsValidThreadId(value.get_string().value_unsafe()))
        return Status::InvalidArgument(std::string("thread_id must be a string of ") +
                                       kThreadIdRule);
      req.thread_id = std::string(value.get_string().value_unsafe());
    } else if (key == "tool_calls") {
      s = once(kTools, key);
      if (!s.ok()) return s;
      s = ParseToolCalls(value, &req);
      if (!s.ok()) return s;
    } else if (key == "metadata") {
      s = once(kMeta, key);
      if (!s.ok()) return s;
      if (value.is_null()) continue;
      if (!value.is_object()) return Status::InvalidArgument("metadata must be a JSON object");
      req.metadata.clear();
      AppendJson(&req.metadata, value);
      req.usage = UsageOfMetadata(value);
      req.usage_read = true;
    } else if (import && (key == "user_id" || key == "timestamp" || key == "interaction_id")) {
      if (!value.is_string()) return Status::InvalidArgument(std::string(key) + " must be a string");
      std::string_view text = value.get_string().value_unsafe();
      if (key == "user_id") {
        if (!IsValidUserId(text))
          return Status::InvalidArgument(std::string("user_id must be ") + kUserIdRule);
        import->user_id = std::string(text);
      } else if (key == "timestamp") {
        import->timestamp = std::string(text);
      } else {
        import->interaction_id = std::string(text);
      }
    } else {
      return Status::InvalidArgument(
          "unknown field " + JsonString(key) +
          ": allowed fields are user_message, assistant_response, thread_id, tool_calls, metadata");
    }
  }
  if (!(seen & kUser))
    return Status::InvalidArgument("user_message is required: a string with the user's message");
  if (!(seen & kAssistant))
    return Status::InvalidArgument(
        "assistant_response is required: a string with the assistant's answer");
  if (import && import->user_id.empty())
    return Status::InvalidArgument("user_id is required on every imported interaction");
  return req;
}

InteractionRecord BuildInteraction(const Stamp& stamp, const std::string& user_id,
                                   SaveRequest request, const BuildOptions& options) {
  // A request built by hand (not by ParseSaveRequest) may carry usage in its metadata only.
  if (!request.usage_read && request.metadata.find("\"usage\"") != std::string::npos) {
    simdjson::dom::element metadata;
    if (ThreadParser(1).parse(request.metadata).get(metadata) == simdjson::SUCCESS) {
      request.usage = UsageOfMetadata(metadata);
    }
  }
  if (options.redactor != nullptr) RedactSaveRequest(*options.redactor, &request);
  InteractionRecord rec;
  rec.user_id = user_id;
  rec.interaction_id = stamp.interaction_id;
  rec.ts_us = stamp.ts_us;
  rec.thread_id = std::move(request.thread_id);
  rec.tool_call_count = request.tool_call_count;
  rec.tool_failure_count = request.tool_failure_count;
  // Redaction may change a tool's name inside `tool_calls`: then the store reads the names from
  // the stored JSON, as for records built by hand.
  if (request.tool_uses_read && options.redactor == nullptr) {
    rec.tool_uses = std::move(request.tool_uses);
  }
  if (request.usage) {
    StoredUsage& u = rec.usage.emplace();
    u.model = std::move(request.usage->model);
    u.tokens = request.usage->tokens;
    if (options.prices != nullptr) u.cost_nanos = CostNanos(u.tokens, u.model, *options.prices);
    std::string redacted;
    if (options.redactor != nullptr && !u.model.empty() &&
        options.redactor->Redact(u.model, &redacted)) {
      u.model = std::move(redacted);
    }
  }

  // The stored form is appended directly, not through JsonWriter: this runs for every save, and
  // the writer's per-token calls cost about 4k instructions per save more (callgrind,
  // docs/performance.md). Its parts are JSON already; ids are validated to need no escaping.
  std::string& j = rec.json;
  j.reserve(160 + user_id.size() + request.user_message.size() +
            request.assistant_response.size() + request.tool_calls.size() +
            request.metadata.size());
  j.append("{\"interaction_id\":\"").append(stamp.interaction_id);
  j.append("\",\"timestamp\":\"").append(stamp.timestamp);
  // User and thread ids are validated to characters that need no escaping.
  j.append("\",\"user_id\":\"").append(user_id).append("\",\"thread_id\":");
  if (rec.thread_id) {
    j.append("\"").append(*rec.thread_id).append("\"");
  } else {
    j.append("null");
  }
  j.append(",\"user_message\":").append(request.user_message);
  j.append(",\"assistant_response\":").append(request.assistant_response);
  j.append(",\"tool_calls\":").append(request.tool_calls);
  j.append(",\"metadata\":").append(request.metadata);
  j.push_back('}');
  return rec;
}

}  // namespace omniflow
