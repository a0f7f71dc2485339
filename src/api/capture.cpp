// POST /v1/chat/completions: the OpenAI-compatible capture proxy. The request goes to the
// configured provider with the server's key (never the client's omniflow credential) from a
// worker thread; the provider's answer comes back unchanged, server-sent events passed on as
// they arrive; the interaction is logged afterwards through the InteractionLogger (writer, else
// spool), so logging never delays or fails the answer.
#include <chrono>
#include <memory>

#include "agent/capture_transcript.h"
#include "agent/http_fetch.h"
#include "api/handlers.h"
#include "api/respond.h"
#include "core/json.h"
#include "core/validate.h"
#include "http/pipe_stream.h"

namespace omniflow::api {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Interactions of the user searched for the one that asked for a call whose result arrives.
constexpr int kRequesterSearchRows = 20;
// What is kept of an answer to a streamed request that is not a stream (an error, say).
constexpr size_t kMaxWholeBody = 16u << 20;

// An error in OpenAI's shape, which OpenAI clients read: {"error": {"message", "type", ...}}.
http::Response OpenAiError(int status, std::string_view message, std::string_view type,
                           const std::string& user) {
  JsonWriter w;
  w.BeginObject()
      .Key("error")
      .BeginObject()
      .Field("message", message)
      .Field("type", type)
      .Key("param")
      .Null()
      .Key("code")
      .Null()
      .EndObject()
      .EndObject();
  http::Response r;
  r.status = status;
  r.body = w.Release();
  r.log_user = user;
  return r;
}

// The provider could not be asked or did not answer: 504 on a timeout, else 502.
http::Response TransportError(const agent::FetchReply& reply, const std::string& user) {
  if (reply.curl == CURLE_OPERATION_TIMEDOUT) {
    return OpenAiError(504, "the LLM provider did not answer in time", "provider_timeout", user);
  }
  return OpenAiError(502, std::string("cannot reach the LLM provider: ") +
                              curl_easy_strerror(reply.curl),
                     "provider_unreachable", user);
}

// The provider's answer, unchanged: status, body, content type (and Retry-After).
http::Response Passed(long status, std::string body, const std::string& content_type,
                      long retry_after_s, const std::string& user) {
  http::Response r;
  r.status = static_cast<int>(status);
  r.body = std::move(body);
  r.content_type = content_type.empty() ? "application/json" : content_type;
  if (retry_after_s >= 0) r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  r.log_user = user;
  return r;
}

// One proxied exchange, owned by its worker job.
struct Exchange {
  const ApiContext* context;
  std::string user;
  agent::CaptureRequest request;
  agent::FetchRequest fetch;
  agent::CaptureInfo info;
  SteadyClock::time_point started;
};

// For each tool result, the interaction of `user` whose answer asked for that call: remembered
// by this server, else among the user's newest few logged ones (in the thread, if any).
std::map<std::string, std::string> FindRequesters(const Exchange& x) {
  std::map<std::string, std::string> found;
  std::vector<std::string_view> missing;
  for (const agent::ToolResultMessage& result : x.request.tool_results) {
    const agent::RecentToolCalls* recent = x.context->assistant.recent_tool_calls;
    std::optional<std::string> id =
        recent ? recent->Find(x.user, result.tool_call_id) : std::nullopt;
    if (id) {
      found.emplace(result.tool_call_id, std::move(*id));
    } else {
      missing.push_back(result.tool_call_id);
    }
  }
  InteractionStore* store = x.context->store;
  if (store == nullptr || missing.empty()) return found;
  HistoryQuery query;
  query.user_id = x.user;
  query.thread_id = x.info.thread_id;
  query.limit = kRequesterSearchRows;
  Result<HistoryPage> page = store->History(query);
  if (!page.ok()) return found;
  simdjson::dom::parser parser;
  for (const std::string& item : page->items) {
    simdjson::dom::element root;
    simdjson::dom::array asked;
    std::string_view id;
    if (parser.parse(item).get(root) != simdjson::SUCCESS ||
        root["metadata"]["tool_calls_requested"].get(asked) != simdjson::SUCCESS ||
        root["interaction_id"].get(id) != simdjson::SUCCESS) {
      continue;
    }
    for (simdjson::dom::element call : asked) {
      std::string_view call_id;
      if (call["tool_call_id"].get(call_id) != simdjson::SUCCESS) continue;
      for (std::string_view want : missing) {
        if (want == call_id) found.emplace(std::string(want), std::string(id));
      }
    }
  }
  return found;
}

// The logged interaction's id, stamped as soon as the answer is known; the calls it asks for
// are remembered under it at once, so that the request carrying their results (which may come
// before this interaction is committed) finds it.
Stamp StampAnswer(Exchange* x, const agent::CaptureAnswer& answer) {
  Stamp stamp = x->context->ids->Next();
  if (agent::RecentToolCalls* recent = x->context->assistant.recent_tool_calls) {
    for (const agent::ToolCallRequest& call : answer.tool_calls) {
      if (!call.id.empty()) recent->Remember(x->user, call.id, stamp.interaction_id);
    }
  }
  return stamp;
}

// Logs the exchange (after the answer went out): never fails, never blocks on the disk.
void LogExchange(Exchange* x, const agent::CaptureAnswer& answer, const Stamp& stamp) {
  const AssistantContext& a = x->context->assistant;
  if (!a.log_interactions || a.logger == nullptr) return;
  x->info.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           SteadyClock::now() - x->started).count();
  x->info.requested_in = FindRequesters(*x);
  SaveRequest save = agent::CaptureToSaveRequest(x->request, answer, x->info);
  a.logger->Log(BuildInteraction(stamp, x->user, std::move(save), x->context->build),
                metrics::CaptureSource::kProxy);
}

void RunPlain(Exchange* x, const http::Respond& respond) {
  const auto sent = SteadyClock::now();
  agent::FetchReply reply = agent::Fetch(x->fetch);
  agent::NoteProviderRequest(reply, SteadyClock::now() - sent);
  agent::CaptureAnswer answer;
  if (reply.curl != CURLE_OK) {
    x->info.transport_error = std::string("cannot reach the LLM provider: ") +
                              curl_easy_strerror(reply.curl);
    x->info.timed_out = reply.curl == CURLE_OPERATION_TIMEDOUT;
    const Stamp stamp = StampAnswer(x, answer);
    respond(TransportError(reply, x->user));
    return LogExchange(x, answer, stamp);
  }
  x->info.provider_status = static_cast<int>(reply.status);
  answer = agent::ParseCaptureAnswer(reply.body);
  const Stamp stamp = StampAnswer(x, answer);
  respond(Passed(reply.status, std::move(reply.body), reply.content_type, reply.retry_after_s,
                 x->user));
  LogExchange(x, answer, stamp);
}

// Passes a 2xx stream of events on as it arrives (through a Pipe the server reads) while
// assembling it for the log; any other answer is collected and passed on whole once it ended.
class StreamRelay final : public agent::FetchSink {
 public:
  StreamRelay(Exchange* x, http::Respond respond) : x_(x), respond_(std::move(respond)) {}

  bool OnHead(long status, std::string_view content_type) override {
    status_ = status;
    content_type_ = std::string(content_type);
    // Only a successful stream of events is passed on as it comes; anything else whole.
    if (status < 200 || status >= 300 ||
        content_type_.find("text/event-stream") == std::string::npos) {
      return true;
    }
    pipe_ = std::make_shared<http::Pipe>();
    http::Response head;
    head.status = static_cast<int>(status);
    head.content_type = content_type_.empty() ? "text/event-stream" : content_type_;
    head.headers.emplace_back("Cache-Control", "no-cache");
    head.log_user = x_->user;
    head.stream = pipe_->Reader();
    respond_(std::move(head));
    return true;
  }

  bool OnData(std::string_view data) override {
    if (!pipe_) {
      if (whole_body_.size() + data.size() <= kMaxWholeBody) whole_body_.append(data);
      return true;
    }
    assembler_.Feed(data);
    if (pipe_->Push(data)) return true;
    x_->info.client_gone = true;
    return false;
  }

  // After the transfer: stamps the interaction to log, then ends the stream or answers what was
  // not streamed.
  Stamp Finish(const agent::FetchReply& reply) {
    if (pipe_) {
      answer_ = assembler_.Answer();
      const Stamp stamp = StampAnswer(x_, answer_);
      const bool whole = reply.curl == CURLE_OK || x_->info.client_gone;
      pipe_->Close(whole ? Status::Ok()
                         : Status::UpstreamFailed("the LLM provider's stream broke off"));
      if (!whole) {
        x_->info.timed_out = reply.curl == CURLE_OPERATION_TIMEDOUT;
        x_->info.transport_error = x_->info.timed_out
                                       ? "the LLM provider's stream did not end in time"
                                       : "the LLM provider's stream broke off";
      }
      return stamp;
    }
    if (reply.curl != CURLE_OK && status_ == 0) {
      x_->info.transport_error = std::string("cannot reach the LLM provider: ") +
                                 curl_easy_strerror(reply.curl);
      x_->info.timed_out = reply.curl == CURLE_OPERATION_TIMEDOUT;
      const Stamp stamp = StampAnswer(x_, answer_);
      respond_(TransportError(reply, x_->user));
      return stamp;
    }
    answer_ = agent::ParseCaptureAnswer(whole_body_);
    const Stamp stamp = StampAnswer(x_, answer_);
    respond_(Passed(status_, std::move(whole_body_), content_type_, reply.retry_after_s, x_->user));
    return stamp;
  }

  long status() const { return status_; }
  // The answer as Finish assembled or read it.
  const agent::CaptureAnswer& answer() const { return answer_; }

 private:
  Exchange* x_;
  http::Respond respond_;
  long status_ = 0;
  std::string content_type_;
  std::shared_ptr<http::Pipe> pipe_;
  std::string whole_body_;
  agent::SseAssembler assembler_;
  agent::CaptureAnswer answer_;
};

void RunStreaming(Exchange* x, const http::Respond& respond) {
  StreamRelay relay(x, respond);
  const auto sent = SteadyClock::now();
  agent::FetchReply reply = agent::FetchStreaming(x->fetch, &relay);
  agent::NoteProviderRequest(reply, SteadyClock::now() - sent);
  x->info.provider_status = static_cast<int>(relay.status());
  const Stamp stamp = relay.Finish(reply);
  LogExchange(x, relay.answer(), stamp);
}

}  // namespace

void CaptureChatCompletions(const ApiContext& context, const Call& call, http::Respond respond) {
  const std::string& who = call.caller.user_id;
  const AssistantContext& assistant = context.assistant;
  Result<agent::CaptureRequest> parsed = agent::ParseCaptureRequest(call.request.body);
  if (!parsed.ok()) {
    return respond(OpenAiError(400, parsed.status().message(), "invalid_request_error", who));
  }
  auto x = std::make_shared<Exchange>();
  x->info.thread_id = parsed->thread_id;
  if (std::optional<std::string_view> thread = call.request.Header("x-thread-id")) {
    if (!IsValidThreadId(*thread)) {
      return respond(OpenAiError(400, std::string("X-Thread-Id must be ") + kThreadIdRule,
                                 "invalid_request_error", who));
    }
    x->info.thread_id = std::string(*thread);
  }
  if (!assistant.provider_options.Configured() || assistant.workers == nullptr) {
    return respond(OpenAiError(
        503,
        "no LLM provider is configured for this omniflow server: set OMNIFLOW_LLM_BASE_URL and "
        "OMNIFLOW_LLM_MODEL (and OMNIFLOW_LLM_API_KEY; for Azure OpenAI also "
        "OMNIFLOW_LLM_API_VERSION)",
        "provider_not_configured", who));
  }
  x->context = &context;
  x->user = who;
  x->request = std::move(*parsed);
  x->started = SteadyClock::now();
  x->fetch.url = agent::ChatCompletionsUrl(assistant.provider_options);
  x->fetch.headers = agent::ProviderHeaders(assistant.provider_options);
  if (x->request.stream) x->fetch.headers.emplace_back("Accept: text/event-stream");
  x->fetch.body = std::string(call.request.body);
  x->fetch.timeout_ms = assistant.provider_options.timeout_ms;
  Status posted = assistant.workers->Post([x, respond] {
    if (x->request.stream) {
      RunStreaming(x.get(), respond);
    } else {
      RunPlain(x.get(), respond);
    }
  });
  if (!posted.ok()) respond(ErrorFrom(posted, who));
}

}  // namespace omniflow::api
