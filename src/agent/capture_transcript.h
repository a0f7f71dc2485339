// What the OpenAI-compatible capture proxy logs of one chat-completions exchange: the client's
// request read for the last user message, its thread and the tool results it carries; the
// provider's answer (a JSON body, or server-sent events assembled as they pass); and the
// interaction built from both. Plain functions, testable without sockets or a provider.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/provider.h"
#include "core/status.h"
#include "core/validate.h"

namespace omniflow::agent {

// A `role: "tool"` message of the request, with the call it answers (from the assistant
// message of the same request that asked for it, when present).
struct ToolResultMessage {
  std::string tool_call_id;
  std::string tool_name;  // empty when no assistant message of the request names the call
  std::string arguments;  // the call's arguments as the model sent them (JSON text); may be empty
  std::string content;    // the tool's answer, as text
};

struct CaptureRequest {
  std::string user_message;              // the text of the last user message ("" when none)
  std::optional<std::string> thread_id;  // metadata.thread_id, validated
  std::string model;                     // the model asked for ("" when none)
  bool stream = false;
  // The tool messages after the last assistant message: the results of the calls that message
  // asked for (older ones were logged with the request that carried them first).
  std::vector<ToolResultMessage> tool_results;
};

// Reads a chat-completions request. InvalidArgument when it is not a JSON object with a
// `messages` array, or when metadata.thread_id is not a valid thread id.
Result<CaptureRequest> ParseCaptureRequest(std::string_view body);

// The provider's answer as far as the log needs it.
struct CaptureAnswer {
  std::string content;                     // choices[0]'s text
  std::vector<ToolCallRequest> tool_calls;  // the calls the model asks for (arguments as text)
  std::string model;                        // the model that answered
  std::string usage;                        // the provider's `usage` object verbatim; "" if none
  std::string finish_reason;
  std::string error;                        // the provider's error.message, if it sent one
};

// Reads a non-streamed answer (any status: an error body yields `error`). Never fails: what
// cannot be read is left empty.
CaptureAnswer ParseCaptureAnswer(std::string_view body);

// Assembles a streamed answer from its server-sent events as they pass, in pieces cut anywhere:
// content deltas, tool-call deltas by index (id and name once, arguments appended), the model,
// the finish reason and the usage of the final chunk (stream_options.include_usage). Bounded:
// beyond kMaxAssembled bytes of text the rest is not kept. Not thread-safe.
class SseAssembler {
 public:
  static constexpr size_t kMaxAssembled = 4u << 20;
  void Feed(std::string_view bytes);
  // The answer so far (call after the last Feed for the whole of it).
  CaptureAnswer Answer() const;

 private:
  void Line(std::string_view line);
  std::string partial_;  // a line not yet ended
  CaptureAnswer answer_;
  std::map<int64_t, ToolCallRequest> calls_;  // by their stream index
  size_t kept_ = 0;                           // bytes of text kept, against kMaxAssembled
};

// How the exchange went, for the log.
struct CaptureInfo {
  std::optional<std::string> thread_id;  // X-Thread-Id, else metadata.thread_id
  int provider_status = 0;               // the provider's HTTP status; 0: no answer
  std::string transport_error;           // why there was no answer (never a secret)
  int64_t latency_ms = 0;                // request to the answer's end
  bool client_gone = false;              // the client left before the stream ended
  bool timed_out = false;                // the provider's answer did not end in time
  // The interaction that asked for each answered call (found in the user's log), by call id.
  std::map<std::string, std::string> requested_in;
};

// The interaction to log: the last user message, the answer's text, the results of earlier
// calls as tool calls (tool_name, parsed arguments, result, status "success" or "error",
// tool_call_id, requested_in), and metadata: source "proxy", model, usage (the provider's,
// verbatim), stream, latency_ms, outcome ("success", "provider_error", "provider_timeout",
// "provider_unreachable" or "client_gone"), provider_status, error, finish_reason and tool_calls_requested (the calls
// the answer asks for: tool_name, parsed arguments, tool_call_id).
SaveRequest CaptureToSaveRequest(const CaptureRequest& request, const CaptureAnswer& answer,
                                 const CaptureInfo& info);

// True when a tool's answer says it failed: a JSON object with a non-null "error" or a "status"
// of "error" or "failed", or text that starts with "error" (any case).
bool ToolContentIsError(std::string_view content);

// The text `"tool_call_id":"<id>"` as it appears in a logged interaction's canonical JSON, to
// find the interaction that asked for a call.
std::string ToolCallIdNeedle(std::string_view tool_call_id);

}  // namespace omniflow::agent
