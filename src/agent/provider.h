// The LLM provider: an OpenAI-compatible chat-completions client over libcurl (OpenAI, Azure
// OpenAI, Ollama, vLLM, llama.cpp). Timeouts, bounded retries on 429/5xx with backoff that
// honours Retry-After; failures come back as UpstreamFailed, or DeadlineExceeded when it does not
// answer in time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/http_fetch.h"
#include "core/status.h"

namespace omniflow::agent {

struct ProviderOptions {
  std::string base_url;     // OMNIFLOW_LLM_BASE_URL, e.g. https://api.openai.com/v1
  std::string api_key;      // OMNIFLOW_LLM_API_KEY
  std::string model;        // OMNIFLOW_LLM_MODEL
  std::string api_version;  // OMNIFLOW_LLM_API_VERSION: set for Azure OpenAI (api-key header)
  long timeout_ms = 60000;  // OMNIFLOW_LLM_TIMEOUT_MS: one attempt, whole request
  int max_retries = 3;      // on 429, 5xx and connection failures
  long max_backoff_ms = 10000;

  // Azure needs no model name (the deployment URL names it); everyone else does.
  bool Configured() const { return !base_url.empty() && (!model.empty() || !api_version.empty()); }
  static ProviderOptions FromEnvironment();
};

struct ToolCallRequest {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text as the model sent it
};

struct ChatResult {
  std::string content;                       // the assistant's text (may be empty)
  std::vector<ToolCallRequest> tool_calls;   // tools the model asks for
  std::string message_json;                  // the assistant message, to send back next round
  std::string model;                         // the model that answered
  int64_t prompt_tokens = 0, completion_tokens = 0, total_tokens = 0;
  // The cached part of prompt_tokens and the reasoning part of completion_tokens
  // (usage.prompt_tokens_details.cached_tokens, usage.completion_tokens_details.reasoning_tokens).
  int64_t cached_tokens = 0, reasoning_tokens = 0;
};

class ChatProvider {
 public:
  virtual ~ChatProvider() = default;
  // Sends one chat-completions request (`request_json`). Thread-safe.
  virtual Result<ChatResult> Complete(const std::string& request_json) = 0;
};

std::unique_ptr<ChatProvider> NewOpenAiProvider(ProviderOptions options);

// The chat-completions URL of `options`: base_url + "/chat/completions", with "?api-version="
// for Azure OpenAI (whose base URL is the deployment's).
std::string ChatCompletionsUrl(const ProviderOptions& options);
// The headers every request to the provider carries: Content-Type and the server's key
// ("Authorization: Bearer", or Azure's "api-key" when api_version is set).
std::vector<std::string> ProviderHeaders(const ProviderOptions& options);
// Counts one HTTP request to the provider made outside ChatProvider (the capture proxy's) in the
// provider's metrics (latency, outcome).
void NoteProviderRequest(const FetchReply& reply, std::chrono::steady_clock::duration took);

// Parses a chat-completions response body; UpstreamFailed when it is malformed.
Result<ChatResult> ParseCompletion(std::string_view body);

}  // namespace omniflow::agent
