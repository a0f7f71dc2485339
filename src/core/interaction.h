// The interaction record as it travels from a validated request to the store and back.
// `json` is the canonical, compact JSON object of the whole interaction; reads splice it into
// responses verbatim, so it is never re-serialised.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/usage.h"

namespace omniflow {

// An Idempotency-Key sent with a save: a retry carrying the same key (for the same user) gets
// the first save's answer instead of being stored again (see InteractionStore::Append).
struct IdempotencyKey {
  std::string key;           // 1..255 printable ASCII characters
  std::string request_hash;  // hex SHA-256 of the request body, to tell a retry from a misuse
};

// An interaction's token usage as stored beside it (docs/cost.md): the model it was reported for
// ("" when none), the counts, and the cost priced when it was saved (nano-USD; none when the
// model had no price). Kept as saved: a later price change never rewrites it.
struct StoredUsage {
  std::string model;
  TokenUsage tokens;
  std::optional<int64_t> cost_nanos;
};

// One tool call as the analytics count it: its name, and whether its status said it failed.
struct ToolUse {
  std::string name;
  bool failed = false;
};

struct InteractionRecord {
  std::string user_id;                   // validated user id (see core/validate.h)
  std::string interaction_id;            // INT_YYYYMMDD_HHMMSS_ffffff[_N]
  int64_t ts_us = 0;                     // server timestamp, microseconds since the Unix epoch (UTC)
  std::optional<std::string> thread_id;  // validated thread id, or none
  std::string json;                      // canonical JSON object, includes all fields above
  // Summary of the tool calls, for analytics: number of calls and of failed ones.
  int tool_call_count = 0;
  int tool_failure_count = 0;
  // The tool calls of `json`, in order, when the path that built the record had them at hand
  // (a parsed save request): the store's tool index then uses these instead of parsing `json`
  // again. None: the store reads them from `json`.
  std::optional<std::vector<ToolUse>> tool_uses;
  // Token usage, when metadata.usage reported some (not part of `json`, which stays as sent).
  std::optional<StoredUsage> usage;
  // The client's idempotency key, if it sent one.
  std::optional<IdempotencyKey> idempotency;
};

// Keyset position in the newest-first order (ts_us DESC, interaction_id DESC).
struct HistoryCursor {
  int64_t ts_us = 0;
  std::string interaction_id;
};

}  // namespace omniflow
