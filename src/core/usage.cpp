#include "core/usage.h"

#include <algorithm>
#include <initializer_list>
#include <string_view>

namespace omniflow {

namespace {

// Counts above this are not integers a JSON client can be trusted to have sent exactly.
constexpr int64_t kMaxCount = int64_t{1} << 53;

// The count at `object[key]` (or `object[key][sub]`), when it is an integer in [0, 2^53).
std::optional<int64_t> Count(simdjson::dom::object object, std::string_view key,
                             std::string_view sub = {}) {
  simdjson::dom::element value;
  if (object[key].get(value) != simdjson::SUCCESS) return std::nullopt;
  if (!sub.empty()) {
    simdjson::dom::object inner;
    if (value.get(inner) != simdjson::SUCCESS) return std::nullopt;
    if (inner[sub].get(value) != simdjson::SUCCESS) return std::nullopt;
  }
  // Integers only: 12.0 or "12" are not counts (simdjson types 2^63 and above as UINT64, far
  // beyond kMaxCount anyway).
  if (value.type() != simdjson::dom::element_type::INT64) return std::nullopt;
  const int64_t n = value.get_int64().value_unsafe();
  if (n < 0 || n >= kMaxCount) return std::nullopt;
  return n;
}

// A count's name: a field, or a field of an object field.
struct Name {
  Name(std::string_view k, std::string_view s = {}) : key(k), sub(s) {}
  std::string_view key, sub;
};

std::optional<int64_t> First(simdjson::dom::object object, std::initializer_list<Name> names) {
  for (const Name& name : names) {
    if (std::optional<int64_t> n = Count(object, name.key, name.sub)) return n;
  }
  return std::nullopt;
}

}  // namespace

std::optional<TokenUsage> ParseUsage(simdjson::dom::element usage) {
  simdjson::dom::object o;
  if (usage.get(o) != simdjson::SUCCESS) return std::nullopt;
  std::optional<int64_t> input = First(o, {{"input_tokens"}, {"prompt_tokens"}});
  std::optional<int64_t> output = First(o, {{"output_tokens"}, {"completion_tokens"}});
  if (!input && !output) return std::nullopt;
  TokenUsage t;
  t.input = input.value_or(0);
  t.output = output.value_or(0);
  t.cached_input = First(o, {{"input_tokens_details", "cached_tokens"},
                             {"prompt_tokens_details", "cached_tokens"},
                             {"cached_input_tokens"}})
                       .value_or(0);
  t.reasoning = First(o, {{"output_tokens_details", "reasoning_tokens"},
                          {"completion_tokens_details", "reasoning_tokens"},
                          {"reasoning_tokens"}})
                    .value_or(0);
  t.cached_input = std::min(t.cached_input, t.input);
  t.reasoning = std::min(t.reasoning, t.output);
  return t;
}

std::optional<ReportedUsage> UsageOfMetadata(simdjson::dom::element metadata) {
  simdjson::dom::element usage;
  if (metadata["usage"].get(usage) != simdjson::SUCCESS) return std::nullopt;
  std::optional<TokenUsage> tokens = ParseUsage(usage);
  if (!tokens) return std::nullopt;
  ReportedUsage reported;
  reported.tokens = *tokens;
  std::string_view model;
  if (metadata["model"].get(model) == simdjson::SUCCESS && model.size() <= kMaxModelNameLength) {
    reported.model = std::string(model);
  }
  return reported;
}

}  // namespace omniflow
