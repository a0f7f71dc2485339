// Token usage as providers report it, read from an interaction's `metadata.usage` whatever the
// provider's field names, and the model it was reported for. The one reader of usage: the save
// path, the agent and every capture path store what this returns (docs/cost.md).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>

namespace omniflow {

// Token counts of one interaction, in the providers' own semantics: `input` counts every prompt
// token, the cached ones included; `cached_input` is the cached part of it; `output` counts every
// completion token, the reasoning ones included; `reasoning` is the reasoning part of it. So
// cached_input <= input and reasoning <= output always hold, and nothing is counted twice.
struct TokenUsage {
  int64_t input = 0;
  int64_t cached_input = 0;
  int64_t output = 0;
  int64_t reasoning = 0;

  bool operator==(const TokenUsage&) const = default;
};

// The longest model name kept for usage and pricing (longer ones count as no model).
inline constexpr size_t kMaxModelNameLength = 128;

// Reads `usage` (the value of metadata.usage). Accepted names, first found wins per count:
//   input:        input_tokens, prompt_tokens
//   cached_input: input_tokens_details.cached_tokens, prompt_tokens_details.cached_tokens,
//                 cached_input_tokens
//   output:       output_tokens, completion_tokens
//   reasoning:    output_tokens_details.reasoning_tokens,
//                 completion_tokens_details.reasoning_tokens, reasoning_tokens
// A count that is not a non-negative integer (below 2^53) is ignored as if absent. cached_input
// is clamped to input and reasoning to output. nullopt when `usage` is not an object or holds
// neither an input nor an output count.
std::optional<TokenUsage> ParseUsage(simdjson::dom::element usage);

// Reads metadata.model and metadata.usage of a metadata object: the model ("" when absent, not
// a string, or longer than kMaxModelNameLength) and the usage (as ParseUsage).
struct ReportedUsage {
  std::string model;
  TokenUsage tokens;
};
std::optional<ReportedUsage> UsageOfMetadata(simdjson::dom::element metadata);

}  // namespace omniflow
