// POST /api/tool_call_handler: runs one message through the LLM with the data tools, answers,
// and logs the whole interaction without making the answer wait for the disk.
#include <simdjson.h>

#include <chrono>
#include <memory>

#include "agent/transcript.h"
#include "api/handlers.h"
#include "api/respond.h"
#include "core/query.h"
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
        return Status::PayloadTooLarge("message is longer than 64 KiB");
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

void ToolCallHandler(const ApiContext& context, const http::Request& request,
                     http::Respond respond) {
  auto started = std::chrono::steady_clock::now();
  Result<QueryParams> query = QueryParams::Parse(request.query);
  if (!query.ok()) return respond(ErrorFrom(query.status()));
  if (Status s = CheckJsonContentType(request); !s.ok()) return respond(ErrorFrom(s));
  Result<MessageRequest> parsed = ParseMessageRequest(request.body);
  // Credentials come first: an unauthenticated caller learns nothing about the body rules.
  Credentials credentials = CredentialsOf(request, query->Get("code"));
  if (parsed.ok() && parsed->user_id) {
    if (credentials.user_id_header && *credentials.user_id_header != *parsed->user_id) {
      return respond(ErrorFrom(
          Status::InvalidArgument("user_id in the body and the X-User-Id header differ")));
    }
    credentials.user_id_header = *parsed->user_id;
  }
  Result<Identity> identity = context.auth->Authenticate("tool_call_handler", credentials);
  if (!identity.ok()) return respond(ErrorFrom(identity.status()));
  if (!parsed.ok()) {
    http::Response r = ErrorFrom(parsed.status());
    r.log_user = identity->user_id;
    return respond(std::move(r));
  }
  if (identity->user_id.empty()) {
    return respond(ErrorFrom(Status::InvalidArgument(
        "the user is required: user_id in the body, the X-User-Id header or a bearer token")));
  }
  const AssistantContext& assistant = context.assistant;
  if (assistant.provider == nullptr || assistant.workers == nullptr) {
    http::Response r = ErrorFrom(Status::Unavailable(
        "no LLM provider is configured: set OMNIFLOW_LLM_BASE_URL and OMNIFLOW_LLM_MODEL "
        "(and OMNIFLOW_LLM_API_KEY; for Azure OpenAI also OMNIFLOW_LLM_API_VERSION)"));
    r.log_user = identity->user_id;
    return respond(std::move(r));
  }

  auto job = std::make_shared<MessageRequest>(std::move(*parsed));
  if (!job->thread_id) job->thread_id = RandomId("thread_", 12);
  std::string user = identity->user_id;
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
      a.logger->Log(BuildInteraction(stamp, user, agent::ToSaveRequest(outcome, info)));
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
