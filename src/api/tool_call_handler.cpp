// POST /api/tool_call_handler: runs one message through the LLM with the data tools, answers,
// and logs the whole interaction without making the answer wait for the disk.
#include <simdjson.h>

#include <chrono>
#include <memory>

#include "agent/transcript.h"
#include "api/handlers.h"
#include "api/respond.h"
#include "core/validate.h"

namespace omniflow::api {

namespace {

constexpr size_t kMaxMessageBytes = 64 << 10;

struct MessageRequest {
  std::string message;
  std::optional<std::string> user_id;
  std::optional<std::string> thread_id;
};

Result<MessageRequest> ParseMessageRequest(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) {
    return Status::InvalidArgument("the body must be valid UTF-8 JSON: {\"message\": \"...\"}");
  }
  simdjson::dom::object object;
  if (root.get(object) != simdjson::SUCCESS) {
    return Status::InvalidArgument("the body must be a JSON object: {\"message\": \"...\"}");
  }
  MessageRequest out;
  bool has_message = false;
  for (auto field : object) {
    std::string_view text;
    if (field.key == "message") {
      if (field.value.get(text) != simdjson::SUCCESS || text.empty()) {
        return Status::InvalidArgument("message must be a non-empty string");
      }
      if (text.size() > kMaxMessageBytes) {
        return Status::TooLarge("message is longer than 64 KiB");
      }
      out.message = std::string(text);
      has_message = true;
    } else if (field.key == "user_id") {
      if (field.value.get(text) != simdjson::SUCCESS || !IsValidUserId(text)) {
        return Status::InvalidArgument(std::string("user_id must be ") + kUserIdRule);
      }
      out.user_id = std::string(text);
    } else if (field.key == "thread_id") {
      if (field.value.is_null()) continue;
      if (field.value.get(text) != simdjson::SUCCESS || !IsValidThreadId(text)) {
        return Status::InvalidArgument(std::string("thread_id must be ") + kThreadIdRule);
      }
      out.thread_id = std::string(text);
    } else {
      return Status::InvalidArgument("unknown field \"" + std::string(field.key.substr(0, 64)) +
                                     "\"; the fields are message, user_id and thread_id");
    }
  }
  if (!has_message) return Status::InvalidArgument("message is required");
  return out;
}

}  // namespace

void ToolCallHandler(const ApiContext& context, const Call& call, http::Respond respond) {
  auto started = std::chrono::steady_clock::now();
  const std::string& who = call.caller.user_id;
  // The route table has authenticated the caller; the body's user_id, when given, named the
  // user there (and must match X-User-Id or the token).
  Result<MessageRequest> parsed = ParseMessageRequest(call.request.body);
  if (!parsed.ok()) return respond(ErrorFrom(parsed.status(), who));
  if (parsed->user_id && *parsed->user_id != who) {
    return respond(ErrorFrom(
        Status::PermissionDenied("user_id in the body is not the authenticated user"), who));
  }
  const AssistantContext& assistant = context.assistant;
  if (assistant.provider == nullptr || assistant.workers == nullptr) {
    return respond(ErrorFrom(Status::Unavailable(
        "no LLM provider is configured: set OMNIFLOW_LLM_BASE_URL and OMNIFLOW_LLM_MODEL "
        "(and OMNIFLOW_LLM_API_KEY; for Azure OpenAI also OMNIFLOW_LLM_API_VERSION)"), who));
  }

  auto job = std::make_shared<MessageRequest>(std::move(*parsed));
  if (!job->thread_id) job->thread_id = RandomId("thread_", 12);
  std::string user = who;
  const ApiContext* ctx = &context;
  Status posted = assistant.workers->Post([ctx, job, user, respond, started]() {
    const AssistantContext& a = ctx->assistant;
    agent::AgentOutcome outcome = agent::RunMessage(a.provider, ctx->store, ctx->data, a.options,
                                                    user, *job->thread_id, job->message);
    agent::TranscriptInfo info;
    info.message = job->message;
    info.thread_id = *job->thread_id;
    info.assistant_id = a.assistant_id;
    info.model = a.options.model;
    info.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
    Stamp stamp = ctx->ids->Next();
    http::Response response;
    if (outcome.status.ok()) {
      response = JsonResponse(200, agent::SuccessBody(outcome, *job->thread_id,
                                                      stamp.interaction_id), user);
    } else {
      response = ErrorFrom(outcome.status);
      response.log_user = user;
    }
    if (a.log_interactions) {
      a.logger->Log(
          BuildInteraction(stamp, user, agent::ToSaveRequest(outcome, info), ctx->build));
    }
    respond(std::move(response));
  });
  if (!posted.ok()) {
    http::Response r = ErrorFrom(posted);
    r.log_user = user;
    respond(std::move(r));
  }
}

}  // namespace omniflow::api
