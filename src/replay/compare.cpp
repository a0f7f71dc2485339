#include "replay/compare.h"

#include <simdjson.h>

#include "core/json.h"

namespace omniflow::replay {

namespace {

const char* FeedbackName(const std::optional<double>& score) {
  if (!score) return nullptr;
  if (*score >= 0.5) return "positive";
  if (*score < 0) return "negative";
  return "neutral";
}

const char* OutcomeName(const agent::AgentOutcome& outcome) {
  if (!outcome.status.ok()) {
    return outcome.status.code() == Status::Code::kDeadlineExceeded ? "provider_timeout"
                                                                    : "provider_error";
  }
  return outcome.round_cap_reached ? "round_cap_reached" : "success";
}

}  // namespace

Result<Original> ParseOriginal(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) {
    return Status::InvalidArgument("the original is not JSON");
  }
  Original o;
  std::string_view text;
  if (doc["user_message"].get(text) != simdjson::SUCCESS) {
    return Status::InvalidArgument("the original has no user_message");
  }
  o.user_message = std::string(text);
  if (doc["assistant_response"].get(text) == simdjson::SUCCESS) {
    o.assistant_response = std::string(text);
  }
  if (doc["thread_id"].get(text) == simdjson::SUCCESS) o.thread_id = std::string(text);
  simdjson::dom::array calls;
  if (doc["tool_calls"].get(calls) == simdjson::SUCCESS) {
    for (simdjson::dom::element call : calls) {
      std::string_view name, status;
      if (call["tool_name"].get(name) == simdjson::SUCCESS) o.tools.emplace_back(name);
      if (call["status"].get(status) == simdjson::SUCCESS && status != "success") o.failed = true;
    }
  }
  simdjson::dom::element metadata;
  if (doc["metadata"].get(metadata) == simdjson::SUCCESS) {
    int64_t n = 0;
    if (metadata["latency_ms"].get(n) == simdjson::SUCCESS) o.latency_ms = n;
    if (metadata["usage"]["total_tokens"].get(n) == simdjson::SUCCESS) o.tokens = n;
    std::string_view outcome;
    if (metadata["outcome"].get(outcome) == simdjson::SUCCESS && outcome != "success") {
      o.failed = true;
    }
  }
  double score = 0;
  if (doc["feedback"]["score"].get(score) == simdjson::SUCCESS) o.feedback = score;
  return o;
}

ReplayResult Compare(const Original& original, const agent::AgentOutcome& outcome,
                     int64_t latency_ms) {
  ReplayResult r;
  r.error = !outcome.status.ok();
  std::vector<std::string> tools;
  bool failed = r.error || outcome.round_cap_reached;
  for (const agent::ToolCallRecord& call : outcome.tool_calls) {
    tools.push_back(call.tool_name);
    if (!call.ok) failed = true;
  }
  r.same_tools = tools == original.tools;
  const bool answer_changed = outcome.response != original.assistant_response;
  if (!r.error) {
    r.fixed = original.failed && !failed;
    r.introduced = !original.failed && failed;
  }
  r.changed = r.error || !r.same_tools || failed != original.failed || answer_changed;
  r.latency_ms = latency_ms;
  r.original_latency_ms = original.latency_ms;
  r.tokens = outcome.total_tokens;
  r.original_tokens = original.tokens;

  JsonWriter w;
  w.BeginObject().Key("replay").BeginObject().Field("response", outcome.response);
  w.Key("tool_calls").BeginArray();
  for (const agent::ToolCallRecord& call : outcome.tool_calls) {
    w.BeginObject()
        .Field("tool_name", call.tool_name)
        .RawField("arguments", call.arguments)
        .RawField("result", call.result)
        .Field("status", call.ok ? "success" : "error")
        .EndObject();
  }
  w.EndArray().Field("outcome", OutcomeName(outcome));
  if (r.error) w.Field("error", outcome.status.message());
  w.Field("model", outcome.model).Field("latency_ms", latency_ms);
  w.Key("usage")
      .BeginObject()
      .Field("prompt_tokens", outcome.prompt_tokens)
      .Field("completion_tokens", outcome.completion_tokens)
      .Field("total_tokens", outcome.total_tokens)
      .EndObject()
      .EndObject();
  w.Key("comparison")
      .BeginObject()
      .Field("changed", r.changed)
      .Field("tool_sequence", r.same_tools ? "same" : "changed")
      .Field("failure", r.error        ? "error"
                        : r.fixed      ? "fixed"
                        : r.introduced ? "introduced"
                        : failed       ? "still_failing"
                                       : "none")
      .Field("answer_changed", answer_changed)
      .Key("original_feedback");
  if (const char* name = FeedbackName(original.feedback)) {
    w.String(name);
  } else {
    w.Null();
  }
  w.EndObject().EndObject();
  r.result_json = w.Release();
  return r;
}

}  // namespace omniflow::replay
