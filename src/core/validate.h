// Validation of everything a client sends: identifiers and the save_interaction body. A valid
// body becomes a SaveRequest whose parts are already canonical JSON text, ready to be spliced
// into the stored interaction; anything else is an InvalidArgument Status that says what is
// wrong and how to fix it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/ids.h"
#include "core/interaction.h"
#include "core/prices.h"
#include "core/status.h"
#include "core/text_redactor.h"

namespace omniflow {

inline constexpr size_t kMaxJsonDepth = 64;
inline constexpr size_t kMaxUserIdLength = 128;
inline constexpr size_t kMaxThreadIdLength = 256;
inline constexpr size_t kMaxToolNameLength = 256;
inline constexpr size_t kMaxToolStatusLength = 64;

// 1-128 characters of letters, digits and . _ - @ +, not starting with '.'.
bool IsValidUserId(std::string_view id);
// 1-256 characters of letters, digits and . _ - @ + :, not starting with '.'.
bool IsValidThreadId(std::string_view id);
// Interaction ids as the server makes them: INT_ followed by upper-case letters, digits and '_'
// (5-64 bytes). The one check of them, for paths, cursors and stores alike.
bool IsValidInteractionId(std::string_view id);
// Human-readable statements of the two rules above, for error messages.
extern const char kUserIdRule[];
extern const char kThreadIdRule[];
// A data document's name: ^[A-Za-z0-9_-]{1,64}\.json$ (the same on every engine).
bool IsValidBlobName(std::string_view name);

struct SaveRequest {
  std::string user_message;        // quoted JSON string
  std::string assistant_response;  // quoted JSON string
  std::optional<std::string> thread_id;
  std::string tool_calls = "[]";   // canonical JSON array
  std::string metadata = "{}";     // canonical JSON object
  int tool_call_count = 0;
  int tool_failure_count = 0;
  // Each tool call's name and outcome, as ParseSaveRequest read them (empty for a request built
  // by hand, whose records the store reads itself).
  std::vector<ToolUse> tool_uses;
  bool tool_uses_read = false;
  // metadata.model and metadata.usage as core/usage.h reads them, when usage was reported.
  std::optional<ReportedUsage> usage;
  // Whether `usage` was filled from `metadata` (ParseSaveRequest, or a builder that sets both).
  // When not, BuildInteraction reads it from `metadata` itself.
  bool usage_read = false;
};

// Fields an import line may carry besides a save body (see `omniflow import`).
struct ImportFields {
  std::string user_id;
  std::optional<std::string> timestamp;       // ISO 8601 UTC, as given
  std::optional<std::string> interaction_id;  // kept when given
};

// Parses and validates a save_interaction body: UTF-8 JSON object, depth <= kMaxJsonDepth,
// required user_message and assistant_response strings, optional thread_id, tool_calls and
// metadata; unknown or duplicate top-level fields are rejected by name. Tool-call `arguments`
// given as a JSON string that parses to an object are stored parsed. With `import`, the
// fields user_id (required), timestamp and interaction_id are accepted too and returned there.
// Thread-safe.
Result<SaveRequest> ParseSaveRequest(std::string_view body, ImportFields* import = nullptr);

// How BuildInteraction makes the stored form; every path that stores interactions passes the
// server's (or the command's) options, so that none stores what another would redact.
struct BuildOptions {
  // Applied to the messages and every string of tool calls and metadata before anything is
  // stored (core/redact_request.h); never to ids, the thread id or the timestamp. Null: none,
  // and the request's parts are spliced in untouched. Not owned.
  const TextRedactor* redactor = nullptr;
  // Prices the request's usage (core/prices.h). Null: usage is kept without a cost. Not owned.
  const PriceTable* prices = nullptr;
};

// The stored interaction: canonical JSON in the documented field order, and the request's usage
// with its cost by `options.prices` (the model name redacted as metadata strings are).
InteractionRecord BuildInteraction(const Stamp& stamp, const std::string& user_id,
                                   SaveRequest request, const BuildOptions& options);

}  // namespace omniflow
