#include "agent/provider.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "agent/http_fetch.h"
#include "core/json.h"
#include "core/usage.h"
#include "metrics/registry.h"

namespace omniflow::agent {

namespace {

// The provider's metrics: the latency of each HTTP request to it (a retry is a request of its
// own) and how each ended. Registered when a provider is made, so they show from the start.
struct ProviderMetrics {
  metrics::Histogram* latency;
  metrics::Counter* outcomes[6];  // ok, refused, rate_limited, server_error, timeout, unreachable
};

const ProviderMetrics& Metrics() {
  static const ProviderMetrics m = [] {
    metrics::Registry& r = metrics::Global();
    constexpr std::string_view kName = "omniflow_llm_requests_total";
    constexpr std::string_view kHelp =
        "HTTP requests to the LLM provider by outcome: ok (2xx), refused (4xx but 429), "
        "rate_limited (429), server_error (5xx), timeout, unreachable (no HTTP answer)";
    ProviderMetrics p{};
    p.latency = &r.GetHistogram(
        "omniflow_llm_request_duration_seconds",
        "Time of each HTTP request to the LLM provider (each retry counted on its own)",
        metrics::LatencyBuckets());
    const char* outcomes[] = {"ok", "refused", "rate_limited", "server_error", "timeout",
                              "unreachable"};
    for (size_t i = 0; i < 6; ++i) {
      p.outcomes[i] = &r.GetCounter(kName, kHelp, {{"outcome", outcomes[i]}});
    }
    return p;
  }();
  return m;
}

void NoteRequest(const FetchReply& reply, std::chrono::steady_clock::duration took) {
  const ProviderMetrics& m = Metrics();
  m.latency->Observe(std::chrono::duration<double>(took).count());
  size_t outcome = 0;
  if (reply.curl == CURLE_OPERATION_TIMEDOUT) {
    outcome = 4;
  } else if (reply.curl != CURLE_OK) {
    outcome = 5;
  } else if (reply.status == 429) {
    outcome = 2;
  } else if (reply.status >= 500) {
    outcome = 3;
  } else if (reply.status < 200 || reply.status >= 300) {
    outcome = 1;
  }
  m.outcomes[outcome]->Add();
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

class OpenAiProvider final : public ChatProvider {
 public:
  explicit OpenAiProvider(ProviderOptions options) : options_(std::move(options)) {
    Metrics();
    url_ = ChatCompletionsUrl(options_);
  }

  Result<ChatResult> Complete(const std::string& request_json) override {
    long backoff_ms = 250;
    for (int attempt = 0;; ++attempt) {
      const auto started = std::chrono::steady_clock::now();
      FetchReply a = Send(request_json);
      NoteRequest(a, std::chrono::steady_clock::now() - started);
      if (a.curl == CURLE_OPERATION_TIMEDOUT) {
        return Status::DeadlineExceeded("the LLM provider did not answer within " +
                                        std::to_string(options_.timeout_ms) + " ms");
      }
      bool retryable = a.curl != CURLE_OK || a.status == 429 || a.status >= 500;
      if (!retryable) {
        if (a.status >= 200 && a.status < 300) return ParseCompletion(a.body);
        return Status::UpstreamFailed("the LLM provider refused the request (HTTP " +
                                      std::to_string(a.status) + ")" + ProviderMessage(a.body));
      }
      if (attempt >= options_.max_retries) {
        if (a.curl != CURLE_OK) {
          return Status::UpstreamFailed(std::string("cannot reach the LLM provider: ") +
                                        curl_easy_strerror(a.curl));
        }
        return Status::UpstreamFailed("the LLM provider failed (HTTP " + std::to_string(a.status) +
                                      ") after " + std::to_string(attempt + 1) + " attempts");
      }
      long wait = a.retry_after_s >= 0 ? a.retry_after_s * 1000 : backoff_ms;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(wait, options_.max_backoff_ms)));
      backoff_ms *= 2;
    }
  }

 private:
  // The provider's own error message, if it sent one (never our request or key).
  static std::string ProviderMessage(const std::string& body) {
    simdjson::dom::parser parser;
    std::string_view message;
    simdjson::dom::element root;
    if (parser.parse(body).get(root) || root["error"]["message"].get(message)) return "";
    return ": " + std::string(message.substr(0, 300));
  }

  FetchReply Send(const std::string& request_json) {
    FetchRequest request;
    request.url = url_;
    request.body = request_json;
    request.timeout_ms = options_.timeout_ms;
    request.headers = ProviderHeaders(options_);
    return Fetch(request);
  }

  ProviderOptions options_;
  std::string url_;
};

}  // namespace

ProviderOptions ProviderOptions::FromEnvironment() {
  ProviderOptions o;
  o.base_url = Env("OMNIFLOW_LLM_BASE_URL");
  o.api_key = Env("OMNIFLOW_LLM_API_KEY");
  o.model = Env("OMNIFLOW_LLM_MODEL");
  o.api_version = Env("OMNIFLOW_LLM_API_VERSION");
  if (long t = std::atol(Env("OMNIFLOW_LLM_TIMEOUT_MS").c_str()); t > 0) o.timeout_ms = t;
  return o;
}

std::string ChatCompletionsUrl(const ProviderOptions& options) {
  std::string url = options.base_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/chat/completions";
  if (!options.api_version.empty()) url += "?api-version=" + options.api_version;
  return url;
}

std::vector<std::string> ProviderHeaders(const ProviderOptions& options) {
  std::vector<std::string> headers = {"Content-Type: application/json"};
  if (!options.api_key.empty()) {
    headers.push_back(options.api_version.empty() ? "Authorization: Bearer " + options.api_key
                                                  : "api-key: " + options.api_key);
  }
  return headers;
}

void NoteProviderRequest(const FetchReply& reply, std::chrono::steady_clock::duration took) {
  NoteRequest(reply, took);
}

std::unique_ptr<ChatProvider> NewOpenAiProvider(ProviderOptions options) {
  return std::make_unique<OpenAiProvider>(std::move(options));
}

Result<ChatResult> ParseCompletion(std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS) {
    return Status::UpstreamFailed("the LLM provider's answer is not valid JSON");
  }
  simdjson::dom::element message;
  if (root["choices"].at(0)["message"].get(message) != simdjson::SUCCESS || !message.is_object()) {
    return Status::UpstreamFailed("the LLM provider's answer has no choices[0].message");
  }
  ChatResult result;
  std::string_view text;
  if (message["content"].get(text) == simdjson::SUCCESS) result.content = std::string(text);
  std::string_view model;
  if (root["model"].get(model) == simdjson::SUCCESS) result.model = std::string(model);
  simdjson::dom::element usage;
  if (root["usage"].get(usage) == simdjson::SUCCESS) {
    int64_t v;
    if (usage["prompt_tokens"].get(v) == simdjson::SUCCESS) result.prompt_tokens = v;
    if (usage["completion_tokens"].get(v) == simdjson::SUCCESS) result.completion_tokens = v;
    if (usage["total_tokens"].get(v) == simdjson::SUCCESS) result.total_tokens = v;
    if (std::optional<TokenUsage> parts = ParseUsage(usage)) {
      result.cached_tokens = parts->cached_input;
      result.reasoning_tokens = parts->reasoning;
    }
  }
  simdjson::dom::array calls;
  if (message["tool_calls"].get(calls) == simdjson::SUCCESS) {
    for (simdjson::dom::element call : calls) {
      ToolCallRequest t;
      std::string_view id, name, arguments;
      if (call["id"].get(id) || call["function"]["name"].get(name)) {
        return Status::UpstreamFailed(
            "the LLM provider sent a tool call without id or function name");
      }
      if (call["function"]["arguments"].get(arguments) != simdjson::SUCCESS) arguments = "{}";
      t.id = std::string(id);
      t.name = std::string(name);
      t.arguments = std::string(arguments);
      result.tool_calls.push_back(std::move(t));
    }
  }
  // The assistant message as sent back next round: its tool calls with their arguments as text.
  JsonWriter w;
  w.BeginObject().Field("role", "assistant").Key("content");
  result.content.empty() && !result.tool_calls.empty() ? w.Null() : w.String(result.content);
  if (!result.tool_calls.empty()) {
    w.Key("tool_calls").BeginArray();
    for (const ToolCallRequest& t : result.tool_calls) {
      w.BeginObject()
          .Field("id", t.id)
          .Field("type", "function")
          .Key("function")
          .BeginObject()
          .Field("name", t.name)
          .Field("arguments", t.arguments)
          .EndObject()
          .EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  result.message_json = w.Release();
  return result;
}

}  // namespace omniflow::agent
